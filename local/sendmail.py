"""Send a test mail to the local stack's SMTP port, as a customer would.

    python -m local.sendmail                                   # a sample mail to support@example.com
    python -m local.sendmail --from dana@customer.test --to billing@example.com \\
        --subject "Invoice 42 is wrong" --body "Please check it."
    python -m local.sendmail --reply-to-latest                 # answer the newest mail in .local/mail/outbox
    python -m local.sendmail --file some.eml                   # send a raw RFC 5322 file as it is
"""
from __future__ import annotations

import argparse
import smtplib
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path

from local.stack import ROOT


def latest_outbound(maildir: Path) -> EmailMessage | None:
    """The newest message the stack delivered into the Maildir (by file time)."""
    files = [f for sub in ("new", "cur") for f in (maildir / sub).glob("*") if f.is_file()] if maildir.is_dir() else []
    if not files:
        return None
    newest = max(files, key=lambda f: (f.stat().st_mtime, f.name))
    return message_from_bytes(newest.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def reply_to(original: EmailMessage, sender: str, body: str) -> tuple[EmailMessage, list[str]]:
    """A customer's reply: to the Reply-To (the signed ticket address), threaded by In-Reply-To/References."""
    reply = EmailMessage()
    target = original.get("Reply-To") or original.get("From")
    recipients = [addr for _, addr in getaddresses([target])]
    reply["From"] = sender
    reply["To"] = target
    subject = original.get("Subject", "")
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = formatdate(localtime=True)
    reply["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "customer.test")
    if original.get("Message-ID"):
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = " ".join(filter(None, [original.get("References"), original["Message-ID"]]))
    quoted = "\n".join("> " + line for line in (original.get_content() if not original.is_multipart()
                                                  else (original.get_body(("plain",)) or original).get_content()).splitlines())
    reply.set_content(f"{body}\n\nOn {original.get('Date', 'earlier')}, {original.get('From')} wrote:\n{quoted}\n")
    return reply, recipients


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sendmail", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--from", dest="sender", default="Dana Customer <dana@customer.test>")
    parser.add_argument("--to", default="support@example.com")
    parser.add_argument("--subject", default="The app crashes when I upload a photo")
    parser.add_argument("--body", default="Hello, since yesterday the app closes every time I attach a photo to a message. Can you help?")
    parser.add_argument("--file", type=Path, help="send this raw .eml file instead of composing one")
    parser.add_argument("--reply-to-latest", action="store_true",
                        help="reply to the newest mail in the Maildir (threads into its ticket)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".local")
    args = parser.parse_args(argv)

    if args.file:
        raw = args.file.read_bytes()
        message = message_from_bytes(raw, policy=policy.default)
        sender = parseaddr(message.get("From", args.sender))[1]
        recipients = [a for _, a in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))] or [args.to]
        payload: bytes | EmailMessage = raw
    elif args.reply_to_latest:
        original = latest_outbound(args.data_dir / "mail" / "outbox")
        if original is None:
            print(f"no mail in {args.data_dir / 'mail' / 'outbox'} yet: reply to a ticket in the UI first", file=sys.stderr)
            return 1
        payload, recipients = reply_to(original, args.sender, args.body if args.body != parser.get_default("body")
                                       else "Thanks, that helped, but one more question.")
        sender = parseaddr(args.sender)[1]
    else:
        payload = EmailMessage()
        payload["From"] = args.sender
        payload["To"] = args.to
        payload["Subject"] = args.subject
        payload["Date"] = formatdate(localtime=True)
        payload["Message-ID"] = make_msgid(domain=parseaddr(args.sender)[1].rpartition("@")[2] or "customer.test")
        payload.set_content(args.body)
        sender, recipients = parseaddr(args.sender)[1], [args.to]

    try:
        with smtplib.SMTP(args.host, args.port, timeout=15) as smtp:
            if isinstance(payload, bytes):
                smtp.sendmail(sender, recipients, payload)
            else:
                smtp.send_message(payload, from_addr=sender, to_addrs=recipients)
    except ConnectionRefusedError:
        print(f"nothing listens on {args.host}:{args.port}: start the stack with `make run`", file=sys.stderr)
        return 1
    except smtplib.SMTPRecipientsRefused as exc:
        for rcpt, (code, text) in exc.recipients.items():
            print(f"{rcpt}: {code} {text.decode(errors='replace')}", file=sys.stderr)
        return 1
    print(f"sent to {', '.join(recipients)} via {args.host}:{args.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What kind of mail this is, before threading: ours coming back (loop), an automatic mail
(auto-reply, out-of-office, bounce), spam/virus (SES verdicts), or a person writing."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from helpdesk.intake.email.parse import ParsedEmail

LOOP_HEADER = "X-Helpdesk-Loop"

_AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "auto-reply", "list"}
_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|no-?reply-?bounce|bounces?)(?:[+@]|$)",
                     re.IGNORECASE)
_OOO_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|automatische antwort|out of (?:the )?office|"
    r"abwesenheitsnotiz|abwesend|absence|réponse automatique|risposta automatica|respuesta automática|"
    r"resposta automática|automatisch antwoord|autosvar|automaattinen vastaus|automatikus válasz|"
    r"odpowiedź automatyczna|automatická odpověď|otomatik yanıt|автоматический ответ|自動返信|自动回复|"
    r"vacation|on vacation|undeliver(?:ed|able)|delivery status notification|returned mail|mail delivery failed)",
    re.IGNORECASE)


_BOUNCE_SUBJECT = re.compile(r"undeliver|delivery (?:status|failure|has failed)|returned mail|mail delivery failed|"
                             r"failure notice|non.?delivery", re.IGNORECASE)
# Autoresponders that send no RFC 3834 header but a header of their own (iCloud's vacation reply,
# cPanel/Exim, Zimbra, GMX/web.de, mailbox "away" rules).
_VACATION_HEADERS = ("x-apple-action", "x-autoreply", "x-autorespond", "x-autoresponder", "x-mail-autoreply",
                     "x-autoreply-from", "x-vacation", "x-cpanel-autoresponder")
# Headers that, beside an out-of-office subject, say a program wrote the mail: Exchange's own (also
# when a gateway stripped its X-MS-Exchange-* ones it keeps X-Auto-Response-Suppress), a mailer
# naming itself an autoresponder, a loop guard.
_SECOND_SIGNALS = ("x-auto-response-suppress", "x-ms-exchange-generated-message-source",
                   "x-ms-exchange-inbox-rules-loop", "x-loop")
_AUTORESPONDER_MAILER = re.compile(r"autorespon|auto-?reply|vacation|out.of.office", re.IGNORECASE)


def null_sender(return_path: str) -> bool:
    """An empty envelope sender however a relay wrote it: `<>`, `<<>>` (a front that bracketed it
    twice), or nothing at all."""
    return not return_path.strip().strip("<>").strip()


def _vacation_reply(mail: ParsedEmail) -> str | None:
    """Vacation and out-of-office replies without RFC 3834 headers: by a header of their own first;
    by the subject only with a second signal (a subject alone is what people also write)."""
    for name in _VACATION_HEADERS:
        value = mail.header(name).strip()
        if value and value.lower() not in ("no", "false", "0"):
            return f"{name}: {value}"
    if not _OOO_SUBJECT.match(mail.subject or ""):
        return None
    for name in _SECOND_SIGNALS:
        if mail.header(name):
            return f"out-of-office subject and {name}"
    mailer = mail.header("x-mailer") or mail.header("user-agent")
    if _AUTORESPONDER_MAILER.search(mailer):
        return f"out-of-office subject from {mailer[:100]}"
    return None


class Kind(str, Enum):
    LOOP = "loop"  # our own outbound mail came back: drop
    BOUNCE = "bounce"  # a delivery status notification
    AUTO_REPLY = "auto_reply"  # out-of-office, autoresponders, bulk
    BULK = "bulk"  # newsletters, mailing lists, marketing campaigns
    SPAM = "spam"
    VIRUS = "virus"
    PERSON = "person"


@dataclass(frozen=True)
class Classification:
    kind: Kind
    reason: str

    @property
    def automatic(self) -> bool:
        return self.kind in (Kind.BOUNCE, Kind.AUTO_REPLY)


def classify(mail: ParsedEmail) -> Classification:
    if mail.header(LOOP_HEADER):
        return Classification(Kind.LOOP, f"{LOOP_HEADER} header present")
    if mail.header("x-ses-virus-verdict").strip().upper() == "FAIL":
        return Classification(Kind.VIRUS, "X-SES-Virus-Verdict: FAIL")
    if mail.content_type == "multipart/report" and mail.report_type in ("delivery-status", "disposition-notification"):
        return Classification(Kind.BOUNCE, f"multipart/report; report-type={mail.report_type}")
    return_path = mail.header("return-path").strip()
    sender = mail.from_email or ""
    if _DAEMON.match(sender):
        return Classification(Kind.BOUNCE, f"sent by {sender}")
    auto_submitted = mail.header("auto-submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Classification(Kind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}")
    bulk = bulk_mail(mail)  # before Precedence: a newsletter says "Precedence: bulk" too
    if bulk is not None:
        return bulk
    precedence = mail.header("precedence").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return Classification(Kind.AUTO_REPLY, f"Precedence: {precedence}")
    if mail.header("x-autogenerated").lower() == "reply" or mail.header("x-fc-machinegenerated").lower() == "true":
        return Classification(Kind.AUTO_REPLY, "machine-generated header")
    vacation = _vacation_reply(mail)
    if vacation:
        return Classification(Kind.AUTO_REPLY, vacation)
    # No report and no daemon sender above: an empty envelope sender is an autoresponder (RFC 3834
    # asks them to send from it), never a person.
    if "return-path" in mail.headers and null_sender(return_path):
        kind = Kind.BOUNCE if _BOUNCE_SUBJECT.search(mail.subject or "") else Kind.AUTO_REPLY
        return Classification(kind, "null envelope sender (Return-Path: <>)")
    if mail.header("x-ses-spam-verdict").strip().upper() == "FAIL":
        return Classification(Kind.SPAM, "X-SES-Spam-Verdict: FAIL")
    return Classification(Kind.PERSON, "no automatic-mail signal")


# RFC 2369/2919 list headers, and the headers bulk mailers stamp on every campaign
# (Mailchimp, Constant Contact, Salesforce Marketing Cloud, Mailgun, Return Path, CSA-certified senders).
_LIST_HEADERS = ("list-unsubscribe", "list-id", "list-post")
_CAMPAIGN_HEADERS = ("x-campaign", "x-campaignid", "x-campaign-id", "x-mc-user", "x-roving-campaignid",
                     "x-sfmc-stack", "x-mailgun-campaign-id", "x-rpcampaign", "x-csa-complaints")
_BULK_MAILERS = re.compile(r"\b(?:mailchimp|sendinblue|brevo|constant ?contact|campaign ?monitor|mailjet|klaviyo|"
                           r"hubspot|marketo|exacttarget|acoustic|mailerlite|phplist|mailman|sympa|listserv|"
                           r"newsletter)\b", re.IGNORECASE)


def bulk_mail(mail: ParsedEmail) -> Classification | None:
    """A newsletter, list or campaign mail: it has list headers, a bulk mailer's campaign headers,
    or names a bulk mailer in X-Mailer."""
    for name in _LIST_HEADERS + _CAMPAIGN_HEADERS:
        if mail.header(name).strip():
            return Classification(Kind.BULK, f"{name} header present")
    mailer = mail.header("x-mailer")
    if _BULK_MAILERS.search(mailer):
        return Classification(Kind.BULK, f"X-Mailer: {mailer[:100]}")
    return None

"""Raw MIME bytes -> ParsedEmail: headers decoded, text and sanitized HTML chosen, attachments
collected, the new reply text extracted. Never raises for odd mail (bad charsets, broken
multiparts, garbage headers): what cannot be read becomes a `defect` and the rest is kept.

stdlib `email` with policy.default does the MIME work; charsets it cannot decode fall back
through a fixed chain (declared -> utf-8 -> cp1252 -> latin-1, which always succeeds).
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from typing import Any

from helpdesk.intake.email.html import html_to_text, sanitize_html
from helpdesk.intake.email.limits import bound_html, capped_policy, check_structure, scrub
from helpdesk.intake.email.quotes import extract_reply
from helpdesk.intake.email.repair import obsolete_address, repair_header_block

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_ATTACHMENTS = 20
MAX_TEXT_CHARS = 100_000  # ticket_messages.body limit
MAX_FULL_CHARS = 400_000
SYNTHETIC_DOMAIN = "synthetic.helpdesk.invalid"
# Charsets Python names differently or cannot decode strictly (ISO-2022-JP with NEC extensions).
_CHARSET_ALIASES = {"iso-2022-jp": ["iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004"],
                    "ks_c_5601-1987": ["cp949"], "gb2312": ["gb18030"], "gbk": ["gb18030"],
                    "x-sjis": ["cp932"], "shift_jis": ["cp932"], "windows-874": ["cp874"], "unicode-1-1-utf-7": ["utf-7"]}
_ID = re.compile(r"<([^<>\s]{1,900})>")


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class SkippedAttachment:
    filename: str
    size: int
    reason: str


@dataclass
class ParsedEmail:
    message_id: str  # as used by threading: the header's id, or a synthetic one
    header_message_id: str | None
    content_sha256: str
    from_email: str | None
    from_name: str | None
    to: list[str]
    cc: list[str]
    reply_to: list[str]
    subject: str
    in_reply_to: list[str]
    references: list[str]
    text: str  # the full text (derived from HTML for HTML-only mail)
    reply_text: str  # the new text above the quoted history
    html: str | None  # sanitized
    attachments: list[Attachment] = field(default_factory=list)
    skipped_attachments: list[SkippedAttachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, first value
    content_type: str = "text/plain"
    report_type: str | None = None
    forwarded: list[dict[str, str]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    # "for <addr>" of the Received headers: the envelope recipients as SES (or any MTA) saw them
    received_for: list[str] = field(default_factory=list)
    # Message-IDs of the mails returned or forwarded inside this one (a bounce carries ours)
    embedded_message_ids: list[str] = field(default_factory=list)
    delivery_status: list[dict[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def synthetic_message_id(self) -> str:
        return f"{self.content_sha256[:40]}@{SYNTHETIC_DOMAIN}"


_RAW_BYTES = re.compile(r"[\udc80-\udcff]")


def _clean(value: str) -> str:
    """Header text with raw 8-bit bytes (surrogate escapes: unencoded UTF-8, or Latin-1/Windows-1252
    as Outlook wrote for years) decoded with the body's fallback chain instead of U+FFFD."""
    if _RAW_BYTES.search(value):
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
    return value.replace("\x00", "")


def _header(msg: Message, name: str) -> str:
    raw = _raw_header(msg, name)
    if raw and raw != _raw_header_text(msg, name):  # raw 8-bit bytes: policy.default would make them U+FFFD
        try:
            return str(policy.default.header_factory(name, re.sub(r"\r?\n(?=[ \t])", "", raw)))
        except Exception:  # noqa: BLE001
            return raw
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header policy.default cannot parse
        value = None
    if value is None:
        return ""
    try:
        return _clean(str(value))
    except Exception:  # noqa: BLE001
        return ""


def _raw_header_text(msg: Message, name: str) -> str:
    for key, value in msg._headers:  # noqa: SLF001 - the undecoded value, when decoding failed
        if key.lower() == name.lower():
            return value if isinstance(value, str) else str(value)
    return ""


def _raw_header(msg: Message, name: str) -> str:
    return _clean(_raw_header_text(msg, name))


def normalize_message_id(value: str) -> str | None:
    value = (value or "").strip()
    match = _ID.search(value)
    ident = match.group(1) if match else value.strip("<> \t\r\n")
    if not ident or " " in ident or len(ident) > 900:
        return None
    return ident


def message_ids(value: str) -> list[str]:
    found = _ID.findall(value or "")
    if not found and value and value.strip():
        single = normalize_message_id(value)
        found = [single] if single else []
    return list(dict.fromkeys(i for i in found if len(i) <= 900))


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    value = _header(msg, name) or _raw_header(msg, name)
    if not value:
        return []
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001
        pairs = []
    found = [(n, a.strip().lower()) for n, a in pairs if a and "@" in a]
    # The header parser can drop a bracketed address it misread (its text is then missing): the
    # raw header still has it.
    raw = re.sub(r"\r?\n[ \t]+", " ", _raw_header(msg, name))
    bracketed = {a.lower() for a in re.findall(r"<([^<>\s]+@[^<>\s]+)>", raw)}
    if not bracketed <= {a for _, a in found}:
        return _bracketed_addresses(raw)
    return found


def _bracketed_addresses(value: str) -> list[tuple[str, str]]:
    """Address lists the parser misreads, e.g. an unquoted "@" in a display name
    (`Mikel@Lindsaar <raasdnil@gmail.com>`): each comma-separated element's <address> wins."""
    out = []
    for element in re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)(?![^<]*>)', value):
        match = re.search(r"<([^<>\s]+@[^<>\s]+)>\s*$", element)
        if match:
            out.append((element[:match.start()].strip().strip('"').strip(), match.group(1).lower()))
        else:
            out += [(n, a.strip().lower()) for n, a in getaddresses([element]) if a and "@" in a]
    return out


def decode_iso2022jp_cp50220(data: bytes) -> str:
    """ISO-2022-JP as Microsoft writes it (CP50220: NEC row 13 circled digits, IBM extensions),
    which Python's iso2022_jp codecs reject: JIS pairs are mapped to Shift_JIS and read as cp932."""
    out = bytearray()
    two_byte = False
    i = 0
    while i < len(data):
        if data[i] == 0x1B and i + 2 < len(data):
            seq = data[i + 1:i + 3]
            if seq in (b"$B", b"$@"):
                two_byte, i = True, i + 3
                continue
            if seq in (b"(B", b"(J", b"(I"):
                two_byte, i = False, i + 3
                continue
        if two_byte and 0x21 <= data[i] <= 0x7E and i + 1 < len(data) and 0x21 <= data[i + 1] <= 0x7E:
            j1, j2 = data[i], data[i + 1]
            s1 = ((j1 - 0x21) >> 1) + 0x81
            if s1 > 0x9F:
                s1 += 0x40
            s2 = (j2 + 0x1F + (1 if j2 >= 0x60 else 0)) if j1 % 2 else j2 + 0x7E
            out += bytes((s1, s2))
            i += 2
            continue
        out.append(data[i])
        i += 1
    return bytes(out).decode("cp932", errors="replace")


def decode_bytes(data: bytes, charset: str | None) -> str:
    names: list[str] = []
    if b"\x1b$" in data and (not charset or charset.lower() in ("us-ascii", "ascii")):
        charset = "iso-2022-jp"  # undeclared JIS escape sequences: Japanese mail without a charset
    if charset and charset.strip().strip('"').lower() in ("iso-2022-jp", "csiso2022jp", "iso-2022-jp-ms", "cp50220"):
        try:
            return data.decode("iso2022_jp_ext")
        except UnicodeDecodeError:
            return decode_iso2022jp_cp50220(data)
    if charset:
        cs = charset.strip().strip('"').lower()
        names += _CHARSET_ALIASES.get(cs, []) + [cs]
    for name in names + ["utf-8"]:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    # Declared but not strictly decodable (e.g. ISO-2022-JP with NEC extensions): the declared
    # codec with replacement characters beats reading it as another charset.
    for name in names:
        try:
            return data.decode(name, errors="replace")
        except (LookupError, ValueError):
            continue
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _uudecode(text: str) -> bytes:
    """uuencoded lines, with or without the "begin <mode> <name>" / "end" frame."""
    import binascii

    out = bytearray()
    for line in text.splitlines():
        if not line.strip() or line.startswith("begin ") or line.strip() in ("end", "`"):
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # some encoders pad short lines incorrectly: decode by the declared length
            nbytes = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
            out += binascii.a2b_uu(line[:nbytes])
    return bytes(out)


def _part_bytes(part: Message) -> bytes:
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte in ("x-uuencode", "uuencode", "x-uue", "uue"):
        raw = part.get_payload()
        if isinstance(raw, str) and not raw.lstrip().startswith("begin "):
            try:
                return _uudecode(raw)
            except Exception:  # noqa: BLE001
                return raw.encode("utf-8", "surrogateescape")
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if payload is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            return raw.encode("utf-8", "surrogateescape")
        return b""
    return payload


def _part_text(part: Message) -> str:
    charset = None
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        pass
    return decode_bytes(_part_bytes(part), charset)


def _body_bytes(part: Message) -> bytes:
    """A message/* part's content as it was in the mail (its body after its own headers)."""
    try:
        whole = part.as_bytes()
    except Exception:  # noqa: BLE001
        return _part_bytes(part)
    for sep in (b"\r\n\r\n", b"\n\n"):
        index = whole.find(sep)
        if index >= 0:
            return whole[index + len(sep):]
    return whole


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
    except Exception:  # noqa: BLE001
        return True
    # A named part is a file whatever its disposition: a text part with a filename (a .txt or .csv
    # a client marked inline) is kept as that file, not merged into the body.
    return disposition == "attachment" or filename is not None


@dataclass
class _Collector:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: list[dict[str, str]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    embedded_ids: list[str] = field(default_factory=list)  # ids of returned/forwarded mails inside this one
    dsn: list[dict[str, str]] = field(default_factory=list)  # per-recipient delivery status blocks


def _filename(part: Message, ctype: str) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    name = _unquoted_filename(part, name or "")
    if name:
        return _clean(name).replace("/", "_").replace("\\", "_")[:255]
    if ctype == "message/rfc822":
        inner = part.get_payload()
        subject = ""
        if isinstance(inner, list) and inner:
            subject = _header(inner[0], "subject")
        return f"{subject or 'forwarded message'}.eml"[:255]
    if ctype == "message/delivery-status":
        return "delivery-status.txt"
    ext = mimetypes.guess_extension(ctype) or ".bin"
    return f"attachment{ext}"


def _unquoted_filename(part: Message, name: str) -> str:
    """Unquoted names the parameter parser cuts or drops: `filename=This is a test.txt` (cut at the
    first space) and `filename==?utf-8?B?...?=` (an encoded word, not allowed there but common):
    the raw header keeps the whole name up to the next ';'."""
    for header in ("content-disposition", "content-type"):
        raw = re.sub(r"\r?\n[ \t]+", " ", _raw_header_text(part, header))
        found = re.search(r"(?:^|;)\s*(?:file)?name\s*=\s*([^\s\";][^;]*?)\s*(?:;|$)", raw, re.IGNORECASE)
        if not found:
            continue
        value = found.group(1)
        if value.startswith("=?") and value.endswith("?="):
            try:
                return str(make_header(decode_header(value)))
            except Exception:  # noqa: BLE001 - a broken encoded word: keep the name we had
                return name
        if value.startswith(name) and len(value) > len(name):
            return value
    return name


# A uuencoded file pasted into a text body (Lotus Notes, old Outlook): "begin 644 name" ... "end".
_UU_BLOCK = re.compile(r"^begin [0-7]{3,4} ([^\r\n]+)\r?\n((?:[^\r\n]*\r?\n){1,200000}?)end[ \t]*(?:\r?\n|$)",
                       re.MULTILINE)


def _uuencoded_files(text: str) -> tuple[str, list[Attachment]]:
    """The text without its inline uuencoded blocks, and the files they held."""
    if "begin " not in text:
        return text, []
    files: list[Attachment] = []

    def take(match: re.Match[str]) -> str:
        try:
            data = _uudecode(match.group(2))
        except Exception:  # noqa: BLE001 - not really uuencoded: leave the text as it was
            return match.group(0)
        name = match.group(1).strip().replace("/", "_").replace("\\", "_")[:255] or "attachment.bin"
        files.append(Attachment(name, mimetypes.guess_type(name)[0] or "application/octet-stream", data))
        return ""

    return _UU_BLOCK.sub(take, text), files


def _delivery_status(data: bytes) -> list[dict[str, str]]:
    """The per-recipient blocks of an RFC 3464 report: final recipient, action, status, diagnostic."""
    text = decode_bytes(data, "utf-8").replace("\r\n", "\n")
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        fields = {}
        for line in re.sub(r"\n[ \t]+", " ", block).split("\n"):
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        if "final-recipient" in fields or "action" in fields:
            blocks.append({
                "recipient": fields.get("final-recipient", fields.get("original-recipient", "")).split(";")[-1].strip(),
                "action": fields.get("action", ""), "status": fields.get("status", ""),
                "diagnostic": fields.get("diagnostic-code", "")[:500]})
    return blocks[:20]


def _ids_in_headers(text: str) -> list[str]:
    found: list[str] = []
    for line in re.sub(r"\r?\n[ \t]+", " ", text).splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in ("message-id", "in-reply-to", "references"):
            found += message_ids(value)
    return found


def _walk(part: Message, out: _Collector, depth: int = 0) -> None:
    if depth > 30:
        out.defects.append("MIME nesting deeper than 30 levels: the rest was not read")
        return
    try:
        ctype = part.get_content_type()
    except Exception:  # noqa: BLE001
        ctype = "application/octet-stream"
    if ctype == "message/delivery-status":
        data = _body_bytes(part)
        out.attachments.append(Attachment(_filename(part, ctype), ctype, data))
        out.dsn += _delivery_status(data)
        return
    if ctype == "text/rfc822-headers":
        data = _part_bytes(part)
        out.attachments.append(Attachment("returned-headers.txt", ctype, data))
        out.embedded_ids += _ids_in_headers(decode_bytes(data, "utf-8"))
        return
    if part.is_multipart() and ctype != "message/rfc822":
        children = part.get_payload()
        if not isinstance(children, list):
            children = []
        if ctype == "multipart/alternative":
            # Each alternative is a whole rendering: take the text from a plain one and the HTML
            # from an HTML one; attachments (e.g. inline images under multipart/related) from all.
            best_text: list[str] = []
            best_html: list[str] = []
            for child in children:
                sub = _Collector()
                _walk(child, sub, depth + 1)
                if sub.texts and (not best_text or child.get_content_type() == "text/plain"):
                    best_text = sub.texts
                if sub.htmls:
                    best_html = sub.htmls
                out.attachments += sub.attachments
                out.forwarded += sub.forwarded
                out.defects += sub.defects
                out.embedded_ids += sub.embedded_ids
                out.dsn += sub.dsn
            out.texts += best_text
            out.htmls += best_html
            return
        for child in children:
            _walk(child, out, depth + 1)
        return
    if ctype == "message/rfc822":
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner else None
        data = _body_bytes(part)
        out.attachments.append(Attachment(_filename(part, ctype), ctype, data))
        if isinstance(inner_msg, Message):
            for name in ("message-id", "in-reply-to", "references"):
                out.embedded_ids += message_ids(_header(inner_msg, name) or _raw_header(inner_msg, name))
            sub = _Collector()
            _walk(inner_msg, sub, depth + 1)
            text = "\n".join(sub.texts) or (html_to_text(bound_html("\n".join(sub.htmls))[0]) if sub.htmls else "")
            out.forwarded.append({"from": _header(inner_msg, "from"), "subject": _header(inner_msg, "subject"),
                                  "date": _header(inner_msg, "date"), "text": text[:20_000]})
        return
    if ctype in ("text/plain", "text/html") and not _is_attachment(part):
        text = _part_text(part)
        if ctype == "text/plain":
            text, files = _uuencoded_files(text)
            out.attachments += files
        (out.texts if ctype == "text/plain" else out.htmls).append(text)
        return
    try:
        disposition = (part.get_content_disposition() or "").lower()
        cid = part.get("Content-ID")
    except Exception:  # noqa: BLE001
        disposition, cid = "", None
    content_id = normalize_message_id(str(cid)) if cid else None
    out.attachments.append(Attachment(_filename(part, ctype), ctype, _part_bytes(part), content_id,
                                      inline=disposition == "inline" or (content_id is not None and disposition != "attachment")))


def parse_email(raw: bytes) -> ParsedEmail:
    # An mbox "From " line before the headers (zammad's .box files, some MTAs) is not a header.
    if raw.startswith(b"From ") and not re.match(rb"From[ \t]*:", raw):  # "From  : x" is the obsolete From field
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    check_structure(raw)
    raw, repairs = repair_header_block(raw)
    capped = capped_policy()
    msg: EmailMessage = message_from_bytes(raw, policy=capped)  # type: ignore[assignment]
    out = _Collector()
    _walk(msg, out)
    defects = [type(d).__name__ for d in getattr(msg, "defects", [])] + out.defects + repairs + (capped.cut or [])

    headers: dict[str, str] = {}
    for key in msg.keys():
        lk = key.lower()
        if lk not in headers:
            headers[lk] = _header(msg, key) or _raw_header(msg, key)

    from_pairs = _addresses(msg, "from")
    from_name, from_email = (from_pairs[0] if from_pairs else ("", None))
    if from_email is None:
        name, addr = parseaddr(_raw_header(msg, "from"))
        from_email = addr.lower() if "@" in addr else obsolete_address(_raw_header(msg, "from"))
        from_name = name
    if not from_name:  # the obsolete "addr (Name)" form keeps the name in a comment
        comment = re.search(r"\(([^()]{1,200})\)", _raw_header(msg, "from"))
        from_name = comment.group(1).strip() if comment else from_name
    subject = _header(msg, "subject") or _raw_header(msg, "subject")

    html_raw = "\n".join(out.htmls) if out.htmls else None
    if html_raw is not None:
        html_raw, html_notes = bound_html(html_raw)
        defects += html_notes
    if out.texts:
        text = "\n".join(t.strip("\n") for t in out.texts)
    elif html_raw is not None:
        text = html_to_text(html_raw)
    else:
        text = ""
    text = text.replace("\r\n", "\n").replace("\x00", "")
    for fwd in out.forwarded:
        forwarded = fwd["text"].replace("\r\n", "\n")
        if forwarded and forwarded[:200] not in text:
            text += (f"\n\n---------- Forwarded message ----------\nFrom: {fwd['from']}\nDate: {fwd['date']}\n"
                     f"Subject: {fwd['subject']}\n\n{forwarded}")
    text = text[:MAX_FULL_CHARS]  # before quote extraction, whose cost grows with the text
    reply_text = extract_reply(text) if text.strip() else ""

    header_id = normalize_message_id(headers.get("message-id", ""))
    # The content hash ignores the trace headers a relay or SES adds, so the same mail delivered
    # twice (an SMTP retry) hashes the same; the synthetic Message-ID is derived from it.
    body_start = raw.find(b"\r\n\r\n")
    body_start = raw.find(b"\n\n") if body_start < 0 else body_start
    body = raw[body_start:] if body_start >= 0 else raw
    identity = "\n".join(headers.get(h, "") for h in ("from", "to", "cc", "date", "subject", "message-id"))
    content_sha256 = hashlib.sha256(identity.encode("utf-8", "replace") + b"\n" + body).hexdigest()

    attachments, skipped = [], []
    for att in out.attachments:
        if att.size > MAX_ATTACHMENT_BYTES:
            skipped.append(SkippedAttachment(att.filename, att.size, f"larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"))
        elif len(attachments) >= MAX_ATTACHMENTS:
            skipped.append(SkippedAttachment(att.filename, att.size, f"more than {MAX_ATTACHMENTS} attachments"))
        else:
            attachments.append(att)

    try:
        report_type = msg.get_param("report-type") if msg.get_content_type() == "multipart/report" else None
    except Exception:  # noqa: BLE001
        report_type = None
    received_for: list[str] = []
    for value in (msg.get_all("Received") or [])[:10]:
        for addr in re.findall(r"\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?", _clean(str(value)), re.IGNORECASE):
            if addr.lower() not in received_for:
                received_for.append(addr.lower())
    parsed = ParsedEmail(
        message_id=header_id or "",
        header_message_id=header_id,
        content_sha256=content_sha256,
        from_email=from_email,
        from_name=_clean(from_name) or None,
        to=[a for _, a in _addresses(msg, "to")],
        cc=[a for _, a in _addresses(msg, "cc")],
        reply_to=[a for _, a in _addresses(msg, "reply-to")],
        subject=subject,
        in_reply_to=message_ids(headers.get("in-reply-to", "")),
        references=message_ids(headers.get("references", "")),
        text=text[:MAX_FULL_CHARS],
        reply_text=reply_text[:MAX_TEXT_CHARS],
        html=sanitize_html(html_raw)[:MAX_FULL_CHARS] if html_raw else None,
        attachments=attachments,
        skipped_attachments=skipped,
        headers=headers,
        content_type=msg.get_content_type(),
        report_type=str(report_type).lower() if report_type else None,
        forwarded=[{k: v for k, v in f.items() if k != "text"} for f in out.forwarded],
        defects=defects,
        received_for=received_for,
        embedded_message_ids=list(dict.fromkeys(out.embedded_ids))[:50],
        delivery_status=out.dsn,
    )
    if not parsed.message_id:
        parsed.message_id = parsed.synthetic_message_id()
    return scrub(parsed)


def summarize(parsed: ParsedEmail) -> dict[str, Any]:
    """What the message row keeps about the mail (metadata jsonb)."""
    return {
        "source": "email",
        "from": parsed.from_email,
        "from_name": parsed.from_name,
        "to": parsed.to[:50],
        "cc": parsed.cc[:50],
        "subject": parsed.subject[:500],
        "message_id": parsed.message_id,
        "header_message_id": parsed.header_message_id,
        "content_sha256": parsed.content_sha256,
        "in_reply_to": parsed.in_reply_to[:20],
        "references": parsed.references[-20:],
        "forwarded": [{k: str(v)[:500] for k, v in f.items()} for f in parsed.forwarded[:10]],
        "defects": parsed.defects[:20],
        "skipped_attachments": [s.__dict__ for s in parsed.skipped_attachments],
        "spam_verdict": parsed.header("x-ses-spam-verdict") or None,
        "virus_verdict": parsed.header("x-ses-virus-verdict") or None,
        "delivery_status": parsed.delivery_status[:10],
        "authentication_results": parsed.header("authentication-results")[:1000] or None,
    }

"""Mail templates: what the acknowledgement, the footer of every mail, the solved mail and its
satisfaction survey say, per team, in plain text and optionally HTML, with {{placeholders}}.

A team without its own template of a kind gets DEFAULTS (the words the help desk always used). The
text part is the template with each placeholder replaced by its value as is; the HTML part is the
team's HTML with each value HTML-escaped (quotes too: a value may sit in an attribute), or, when the
team wrote no HTML, the text part rendered the way every reply is (helpdesk.outbound.html: escaped,
our own structure only). Templates are checked when saved (check_template): an unknown or
misspelled placeholder is refused naming the ones the kind allows, so a mail never says "{{nmae}}".
An agent's signature (plain text) follows their public replies, above the footer."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from helpdesk import errors
from helpdesk.outbound.html import html_document, render_fragment, render_html
from helpdesk.tickets.states import AUTO_CLOSE_HOURS

KINDS = ("acknowledgement", "reply_footer", "solved", "csat")
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_ANY_BRACES = re.compile(r"\{\{(.*?)\}\}", re.S)
COMMON = ("ticket_ref", "ticket_subject", "customer_name", "team_name", "portal_url")
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "acknowledgement": COMMON,
    "reply_footer": COMMON,
    "solved": COMMON + ("agent_name", "not_solved_url"),
    "csat": COMMON + ("rating_good_url", "rating_bad_url", "not_solved_url"),
}
MAX_SUBJECT, MAX_TEXT, MAX_HTML, MAX_SIGNATURE = 300, 20_000, 50_000, 2_000


@dataclass(frozen=True)
class Template:
    body_text: str
    body_html: str | None = None
    subject: str | None = None  # acknowledgement and solved: the mail's subject (the [TKT-n] tag is added)


DEFAULTS: dict[str, Template] = {
    "acknowledgement": Template(
        "We received your request and opened ticket {{ticket_ref}}: {{ticket_subject}}\n\n"
        "Reply to this email to add information; please keep the ticket number in the subject."),
    # The blank line and "--" keep the footer apart from the text (not "-- ": that marks a signature).
    "reply_footer": Template("\n\n--\nFollow this request and answer it online: {{portal_url}}"),
    "solved": Template(
        "We have solved your request {{ticket_ref}}: {{ticket_subject}}\n\n"
        "If it is not solved for you, tell us here and we will pick it up again: {{not_solved_url}}\n"
        f"(or simply reply to this email). Otherwise the request closes in {AUTO_CLOSE_HOURS // 24} days."),
    "csat": Template(
        "\n\nHow would you rate the support you received?\n"
        "Good, I'm satisfied: {{rating_good_url}}\n"
        "Bad, I'm unsatisfied: {{rating_bad_url}}",
        '<p>How would you rate the support you received?</p>\n<p>'
        '<a href="{{rating_good_url}}" style="padding:6px 12px;border:1px solid #2e7d32;color:#2e7d32;'
        'text-decoration:none;border-radius:4px">Good, I\'m satisfied</a> '
        '<a href="{{rating_bad_url}}" style="padding:6px 12px;border:1px solid #c62828;color:#c62828;'
        'text-decoration:none;border-radius:4px">Bad, I\'m unsatisfied</a></p>'),
}


def check_template(kind: str, subject: str | None, body_text: str, body_html: str | None) -> None:
    """Refuses (ValidationFailed naming the field and what is allowed) a template a mail could not render."""
    if kind not in KINDS:
        raise errors.ValidationFailed(f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
    if subject is not None and kind not in ("acknowledgement", "solved"):
        raise errors.ValidationFailed(f"subject: only the acknowledgement and solved templates have a subject, not {kind}")
    allowed = PLACEHOLDERS[kind]
    for field, value in (("subject", subject), ("body_text", body_text), ("body_html", body_html)):
        if value is None:
            continue
        if field == "subject" and ("\n" in value or "\r" in value):
            raise errors.ValidationFailed("subject: must be one line")
        for match in _ANY_BRACES.finditer(value):
            name = match.group(1).strip()
            if name not in allowed or not PLACEHOLDER.fullmatch(match.group(0)):
                raise errors.ValidationFailed(
                    f"{field}: unknown placeholder {match.group(0)!r}; the {kind} template allows "
                    + ", ".join("{{" + p + "}}" for p in allowed), field=field, allowed=list(allowed))
        if "{{" in _ANY_BRACES.sub("", value) or "}}" in _ANY_BRACES.sub("", value):
            raise errors.ValidationFailed(f"{field}: unknown placeholder: a '{{{{' without its '}}}}' (or the other way "
                                          "round); write placeholders as {{name}}", field=field, allowed=list(allowed))


def template_for(kind: str, stored: Mapping[str, Any] | None) -> Template:
    """The team's template of `kind` (a row of mail_templates, as the claim statements read them) or the default."""
    row = (stored or {}).get(kind)
    if not row:
        return DEFAULTS[kind]
    return Template(row["body_text"], row.get("body_html"), row.get("subject"))


def fill_text(template: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), template)


def fill_html(template: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: html.escape(str(values.get(m.group(1), "")), quote=True), template)


@dataclass(frozen=True)
class Part:
    """One piece of a mail: its text, and its own HTML when a template gave one."""

    text: str
    html: str | None = None


def part(template: Template, values: Mapping[str, str]) -> Part:
    return Part(fill_text(template.body_text, values),
                fill_html(template.body_html, values) if template.body_html else None)


def signature_part(signature: str | None) -> Part | None:
    """An agent's signature under their reply (RFC 3676 "-- " separator: the HTML shows it as a footer)."""
    return Part(f"\n\n-- \n{signature.strip()}") if signature and signature.strip() else None


def assemble(parts: Sequence[Part | None], *, title: str) -> tuple[str, str]:
    """The text and HTML of a mail made of parts. Without any template HTML the HTML is the text
    rendered as every reply is; otherwise each part contributes its HTML or its rendered text."""
    present = [p for p in parts if p is not None]
    text = "".join(p.text for p in present)
    if not any(p.html for p in present):
        return text, render_html(text, title=title)
    return text, html_document("\n".join(p.html or render_fragment(p.text) for p in present), title=title)


def check_signature(text: str) -> str:
    if not text.strip():
        raise errors.ValidationFailed("signature: must not be empty (DELETE the signature to remove it)")
    if len(text) > MAX_SIGNATURE:
        raise errors.ValidationFailed(f"signature: at most {MAX_SIGNATURE} characters")
    return text.strip()

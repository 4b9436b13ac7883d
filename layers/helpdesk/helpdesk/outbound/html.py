"""The HTML part of an outbound mail, rendered from the agent's plain text.

The agent's text is never trusted as HTML: every character is escaped, then only structure we
generate ourselves is added: paragraphs (blank lines), line breaks, quoted history (lines starting
with ">") as blockquotes, a signature/footer after the "-- " separator, and http(s)/mailto links.
A link's href is the escaped URL text itself, limited to those schemes, so neither a
`javascript:` URL nor a quote inside a URL can become markup or an attribute."""
from __future__ import annotations

import html
import re

# A URL runs until whitespace or a character that cannot be part of it in running text ("<>, quotes).
_URL = re.compile(r"""(?i)\b(?:https?://|mailto:)[^\s<>"'`]+""")
_TRAILING = ".,;:!?)]}"  # sentence punctuation after a URL is not part of it
SIGNATURE_SEPARATOR = "-- "
STYLE_QUOTE = "margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex;color:#555"
STYLE_FOOTER = "color:#777;font-size:90%"


def _link(match: re.Match[str]) -> str:
    url = match.group(0)
    trail = ""
    while url and url[-1] in _TRAILING and not (url[-1] == ")" and url.count("(") >= url.count(")")):
        url, trail = url[:-1], url[-1] + trail
    if not url or url.lower() in ("http://", "https://", "mailto:"):
        return html.escape(match.group(0))
    safe = html.escape(url, quote=True)
    return f'<a href="{safe}" rel="noopener noreferrer">{safe}</a>{html.escape(trail)}'


def _inline(text: str) -> str:
    """Escape one line and turn its URLs into links (escaping happens piecewise: no double escape)."""
    out, last = [], 0
    for match in _URL.finditer(text):
        out.append(html.escape(text[last:match.start()]))
        out.append(_link(match))
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _paragraphs(lines: list[str]) -> str:
    """Blank-line separated paragraphs; single line breaks kept; '>' runs become blockquotes."""
    blocks: list[str] = []
    para: list[str] = []
    quote: list[str] = []

    def flush_para() -> None:
        if para:
            blocks.append("<p>" + "<br>\n".join(_inline(line) for line in para) + "</p>")
            para.clear()

    def flush_quote() -> None:
        if quote:
            inner = _paragraphs([q[1:].removeprefix(" ") for q in quote])
            blocks.append(f'<blockquote style="{STYLE_QUOTE}">{inner}</blockquote>')
            quote.clear()

    for line in lines:
        if line.startswith(">"):
            flush_para()
            quote.append(line)
            continue
        flush_quote()
        if line.strip():
            para.append(line)
        else:
            flush_para()
    flush_para()
    flush_quote()
    return "\n".join(blocks)


def render_html(text: str, *, title: str = "") -> str:
    """A complete, self-contained HTML document for the text part `text`."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    footer: list[str] = []
    if SIGNATURE_SEPARATOR in lines:  # the last separator starts the footer (RFC 3676 sig convention)
        at = len(lines) - 1 - lines[::-1].index(SIGNATURE_SEPARATOR)
        lines, footer = lines[:at], lines[at + 1:]
    body = _paragraphs(lines)
    if footer:
        body += f'\n<div style="{STYLE_FOOTER}">-- <br>\n' + "<br>\n".join(_inline(f) for f in footer) + "</div>"
    head = f"<title>{html.escape(title)}</title>" if title else ""
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8">' + head + "</head>\n"
            '<body style="font-family:sans-serif;font-size:14px;line-height:1.4">\n' + body + "\n</body></html>\n")


__all__ = ["render_html"]

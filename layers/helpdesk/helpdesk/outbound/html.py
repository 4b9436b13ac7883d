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
_QUOTE_PREFIX = re.compile(r"(?:> ?)*")  # each level: a '>' and at most one space after it
_TRAILING = ".,;:!?)]}"  # sentence punctuation after a URL is not part of it
SIGNATURE_SEPARATOR = "-- "
STYLE_QUOTE = "margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex;color:#555"
STYLE_FOOTER = "color:#777;font-size:90%"
MAX_QUOTE_DEPTH = 20  # nested blockquotes shown; deeper quoting stays at this depth


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


def _quote_depth(line: str) -> tuple[int, str]:
    """How many quote levels a line has ("> > a" and ">> a" are both 2) and its text without them."""
    prefix = _QUOTE_PREFIX.match(line).group(0)
    return prefix.count(">"), line[len(prefix):]


def _paragraphs(lines: list[str]) -> str:
    """Blank-line separated paragraphs; single line breaks kept; '>' runs become nested blockquotes.

    Built with an explicit stack, one level per quote depth, not by recursion: a line of 500 '>' is
    one line of quoted history, not 500 stack frames. Levels beyond MAX_QUOTE_DEPTH are shown at
    that depth with their remaining '>' as text."""
    levels: list[tuple[list[str], list[str]]] = [([], [])]  # per open level: (blocks, paragraph lines)

    def flush_para() -> None:
        blocks, para = levels[-1]
        if para:
            blocks.append("<p>" + "<br>\n".join(_inline(line) for line in para) + "</p>")
            para.clear()

    def close_level() -> None:
        flush_para()
        blocks, _ = levels.pop()
        levels[-1][0].append(f'<blockquote style="{STYLE_QUOTE}">' + "\n".join(blocks) + "</blockquote>")

    for line in lines:
        depth, text = _quote_depth(line)
        if depth > MAX_QUOTE_DEPTH:
            depth, text = MAX_QUOTE_DEPTH, ">" * (depth - MAX_QUOTE_DEPTH) + " " + text
        while len(levels) - 1 > depth:
            close_level()
        while len(levels) - 1 < depth:
            flush_para()
            levels.append(([], []))
        if text.strip():
            levels[-1][1].append(text)
        else:
            flush_para()
    while len(levels) > 1:
        close_level()
    flush_para()
    return "\n".join(levels[0][0])


def render_html(text: str, *, title: str = "") -> str:
    """A complete, self-contained HTML document for the text part `text`."""
    return html_document(render_fragment(text), title=title)


def render_fragment(text: str) -> str:
    """The HTML body content for plain text (what render_html wraps in a document)."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    footer: list[str] = []
    if SIGNATURE_SEPARATOR in lines:  # the last separator starts the footer (RFC 3676 sig convention)
        at = len(lines) - 1 - lines[::-1].index(SIGNATURE_SEPARATOR)
        lines, footer = lines[:at], lines[at + 1:]
    body = _paragraphs(lines)
    if footer:
        body += f'\n<div style="{STYLE_FOOTER}">-- <br>\n' + "<br>\n".join(_inline(f) for f in footer) + "</div>"
    return body


def html_document(body: str, *, title: str = "") -> str:
    """A complete, self-contained HTML document around body content we generated or escaped."""
    head = f"<title>{html.escape(title)}</title>" if title else ""
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8">' + head + "</head>\n"
            '<body style="font-family:sans-serif;font-size:14px;line-height:1.4">\n' + body + "\n</body></html>\n")


__all__ = ["html_document", "render_fragment", "render_html"]

"""HTML mail bodies: sanitized for display (nh3, the Ammonia sanitizer) and turned into text.

Text conversion marks <blockquote> content with "> " so the plain-text quote trimmer
(quotes.extract_reply) cuts HTML replies the same way it cuts plain ones.
"""
from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

import nh3

_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr",
          "blockquote", "section", "article", "header", "footer", "dd", "dt"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_ALLOWED_SCHEMES = {"http", "https", "mailto", "cid", "tel"}


def sanitize_html(raw: str) -> str:
    """Safe to render in the agent workspace: no scripts, event handlers, styles or foreign schemes."""
    return nh3.clean(raw, url_schemes=_ALLOWED_SCHEMES, link_rel="noopener noreferrer nofollow")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote_depth = 0
        self.line_start = True

    def _newline(self) -> None:
        self.out.append("\n")
        self.line_start = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self._newline()
        if tag == "blockquote":
            self.quote_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self._newline()
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr", "p", "div"):
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = re.sub(r"[ \t\r\n\f\v]+", " ", data)
        if not text:
            return
        if self.line_start:
            text = text.lstrip(" ")
            if not text:
                return
            if self.quote_depth:
                self.out.append("> " * self.quote_depth)
        self.out.append(text)
        self.line_start = False


def html_to_text(raw: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(raw)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed markup: fall back to stripping tags
        return html_lib.unescape(re.sub(r"<[^>]*>", " ", raw)).strip()
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    # collapse runs of blank lines left by nested blocks
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

"""The HTML twin of an outbound mail: escaped agent text, our own structure only."""
from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, strategies as st

from helpdesk.outbound.files import LeftOut, clean_content_type, clean_filename, collect, encoded_size, left_out_note
from helpdesk.outbound.html import MAX_QUOTE_DEPTH, render_html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(doc: str) -> _Tags:
    parser = _Tags()
    parser.feed(doc)
    return parser


ALLOWED = {"html", "head", "meta", "title", "body", "p", "br", "a", "blockquote", "div"}


def test_hostile_body_is_text_not_markup():
    hostile = ('<script>alert(1)</script>\n<img src=x onerror=alert(2)>\n'
               'see https://x.test/a"onmouseover="alert(3) and javascript:alert(4)\n'
               "and https://x.test/?q=<b>&r='s'")
    doc = render_html(hostile)
    tags = _parse(doc).tags
    assert {t for t, _ in tags} <= ALLOWED
    assert "<script" not in doc and "<img" not in doc and "&lt;script&gt;" in doc
    links = [a for t, a in tags if t == "a"]
    assert [a["href"] for a in links] == ["https://x.test/a", "https://x.test/?q="]
    for attrs in links:  # nothing but our two attributes, whatever the URL held
        assert set(attrs) == {"href", "rel"}
    assert "onmouseover" not in "".join(f"{k}" for _, a in tags for k in a)
    assert "javascript:alert(4)" in "".join(_parse(doc).text)  # shown as text, never a link


def test_paragraphs_breaks_links_quotes_and_footer():
    text = ("Hello Carol,\n\nWe fixed it.\nSee https://status.example.com/incidents/42.\n\n"
            "On Monday you wrote:\n> It is broken\n> > really\n-- \nSupport team\nmailto:help@example.com")
    doc = render_html(text)
    assert "<p>Hello Carol,</p>" in doc
    assert "<p>We fixed it.<br>\nSee <a href=\"https://status.example.com/incidents/42\"" in doc
    assert "</a>.</p>" in doc  # the full stop stays outside the link
    assert doc.count("<blockquote") == 2  # nested quote
    assert "It is broken" in doc
    footer = doc.split('<div style="color:#777', 1)[1]
    assert "Support team" in footer and 'href="mailto:help@example.com"' in footer


def test_deep_quoting_is_rendered_without_recursion_and_capped():
    # Issue 22: a reply holding a line of 500 '>' killed the outbound mail (one stack frame pair per level).
    for depth in (500, 5_000, 200_000):
        doc = render_html(f"Hello\n{'>' * depth} the bottom\nBye")
        assert doc.count("<blockquote") == MAX_QUOTE_DEPTH == doc.count("</blockquote>")
        text = "".join(_parse(doc).text)
        assert "the bottom" in text and "Bye" in text and text.count(">") == depth - MAX_QUOTE_DEPTH


def test_quote_levels_open_and_close_as_the_lines_go():
    doc = render_html("> a\n>> b\n> > > c\n> d\ne")
    assert doc.count("<blockquote") == 3
    body = doc.split("<body", 1)[1]
    assert body.index("<p>a</p>") < body.index("<p>b</p>") < body.index("<p>c</p>") < body.index("<p>d</p>")
    assert body.rindex("</blockquote>") < body.index("<p>e</p>")


@given(st.text(max_size=300))
def test_any_text_renders_only_our_tags(text):
    doc = render_html(text)
    assert {t for t, _ in _parse(doc).tags} <= ALLOWED
    for tag, attrs in _parse(doc).tags:
        if tag == "a":
            assert attrs["href"].lower().startswith(("http://", "https://", "mailto:"))


def test_files_fit_in_order_and_the_rest_are_named():
    store = {"k1": b"a" * 1000, "k2": b"b" * 5000, "k3": b"c" * 10}
    entries = [{"s3_key": "k1", "filename": "../../etc/one.txt", "content_type": "text/plain", "size": 1000},
               {"s3_key": "k2", "filename": "big.bin", "content_type": "bad type", "size": 5000},
               {"s3_key": "k3", "filename": "tiny\r\nBcc: x@y", "content_type": "image/png", "size": 10},
               {"s3_key": "gone", "filename": "gone.pdf", "size": 3},
               {"filename": "no key"}]
    fetched: list[str] = []

    def fetch(key):
        fetched.append(key)
        return store.get(key)

    files, left = collect(entries, encoded_size(1000) + encoded_size(10) + encoded_size(3), fetch)
    assert [(f.filename, f.content_type) for f in files] == [("one.txt", "text/plain"), ("tiny Bcc: x@y", "image/png")]
    assert left == [LeftOut("big.bin", 5000, "too large for email"), LeftOut("gone.pdf", 3, "no longer stored")]
    assert "k2" not in fetched  # a file that cannot fit is never downloaded
    note = left_out_note(left)
    assert "big.bin (4.9 KB, too large for email)" in note and "gone.pdf" in note
    assert clean_filename("") == "attachment" and clean_content_type("Text/HTML; charset=x") == ("text", "html")
    assert encoded_size(57) == 76 + 2 + 600
    unconfigured, named = collect(entries[:1], 10**9, None)
    assert unconfigured == [] and named == [LeftOut("one.txt", 1000, "not available to attach")]

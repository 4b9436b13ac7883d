"""What search makes of a query and of a highlighted snippet, without a database."""
from __future__ import annotations

import pytest

from helpdesk.db.search import MARK_END, MARK_START
from helpdesk.search import REF_QUERY, _email_prefix, snippet_parts


def marked(text: str) -> str:
    return text.replace("[", MARK_START).replace("]", MARK_END)


def test_snippet_parts_are_text_with_match_flags():
    assert snippet_parts(marked("the [refund] is <b>late</b> ... another [refund]")) == [
        {"text": "the ", "match": False}, {"text": "refund", "match": True},
        {"text": " is <b>late</b> ... another ", "match": False}, {"text": "refund", "match": True}]
    # Adjacent marks join; an unclosed mark (a headline cut inside one) runs to the end.
    assert snippet_parts(marked("[a][b] c [d")) == [{"text": "ab", "match": True}, {"text": " c ", "match": False},
                                                    {"text": "d", "match": True}]
    assert snippet_parts(None) == [] and snippet_parts("") == []


@pytest.mark.parametrize("typed,number", [("TKT-7", 7), ("tkt-7", 7), ("TKT7", 7), ("#42", 42), ("42", 42)])
def test_references_people_type(typed, number):
    match = REF_QUERY.match(typed)
    assert match and int(match.group(1)) == number


@pytest.mark.parametrize("typed", ["TKT-", "order 7", "7 days", "TKT-7x", "-7", "1" * 19])
def test_not_references(typed):
    assert REF_QUERY.match(typed) is None


def test_email_prefix_escapes_like_wildcards_and_needs_an_at_sign():
    assert _email_prefix("Dana@Acme.test") == "dana@acme.test%"
    assert _email_prefix("a_b%c@x") == "a\\_b\\%c@x%"
    assert _email_prefix("back\\slash@x") == "back\\\\slash@x%"
    assert _email_prefix("dana") is None and _email_prefix("dana @x") is None

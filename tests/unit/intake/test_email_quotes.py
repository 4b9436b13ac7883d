"""The quote trimmer against the email_reply_trimmer and talon vectors (read in place).

Known deviations are listed by name: a change that fixes one shows up as an unexpected pass
(strict xfail), a regression as a failure."""
from __future__ import annotations

import json
import re

import pytest

from helpdesk.intake.email.html import html_to_text
from helpdesk.intake.email.quotes import extract_reply

# spam_1: 70 nested quote levels of nothing; we keep the mail as it is (only quotes) rather than ''.
TRIMMER_KNOWN = {"spam_1"}
# Where talon and email_reply_trimmer disagree we follow email_reply_trimmer (text after a quote
# is a footer/signature when short; a forward's header block is cut), plus a few talon-specific cases.
TALON_KNOWN = {"test_reply_and_quotation_splitter_share_line", "test_reply_wraps_quotations",
               "test_reply_wraps_nested_quotations", "test_quotation_separator_takes_2_lines",
               "test_link_closed_with_quotation_marker_on_new_line", "test_link_breaks_quotation_markers_sequence",
               "test_bold_from_block", "test_dont_parse_quotations_for_forwarded_messages"}


def _trimmer(corpora):
    return json.loads((corpora / "email_reply_trimmer" / "vectors.json").read_text())["cases"]


def _talon(corpora):
    return json.loads((corpora / "talon" / "expectations.json").read_text())


def test_email_reply_trimmer_vectors(corpora):
    passed, unexpected = 0, []
    for case in _trimmer(corpora):
        ok = extract_reply(case["input"]).strip() == case["expected_trimmed"].replace("\r\n", "\n").strip()
        passed += ok
        if ok == (case["name"] in TRIMMER_KNOWN):
            unexpected.append((case["name"], ok))
    assert not unexpected, unexpected
    assert passed >= 63


def test_talon_plain_vectors(corpora):
    unexpected = []
    for case in _talon(corpora)["inline_vectors"]["cases"]:
        if case["function"] != "extract_from_plain":
            continue
        ok = extract_reply(case["input"]).strip() == case["expected"].strip()
        if ok == (case["test"] in TALON_KNOWN):
            unexpected.append((case["test"], ok))
    assert not unexpected, unexpected


def test_talon_standard_replies(corpora):
    from helpdesk.intake.email.parse import parse_email

    for case in _talon(corpora)["standard_replies"]["cases"]:
        mail = parse_email((corpora / "talon" / case["input_file"]).read_bytes())
        ours, theirs = mail.reply_text.strip(), case["expected_reply"].strip()
        # Deliberate difference: talon keeps mobile/"-- " signatures, we cut them (email_reply_trimmer
        # does too); the reply itself must match.
        assert ours == theirs or (ours and theirs.startswith(ours) and
                                  re.match(r"\s*(?:--|Sent from|Sent with)", theirs[len(ours):])), (case["input_file"], ours)


def test_talon_html_replies(corpora):
    ws = lambda s: re.sub(r"\s", "", s)  # noqa: E731
    results = {}
    for case in _talon(corpora)["html_replies"]["cases"]:
        html = (corpora / "talon" / case["input_file"]).read_text(errors="replace")
        results[case["input_file"]] = ws(extract_reply(html_to_text(html))) == ws(case["expected_reply_text"])
    assert all(results.values()), results


@pytest.mark.parametrize("text", ["", "   ", "> only a quote"])
def test_degenerate_inputs(text):
    assert extract_reply(text) == text.strip()


@pytest.mark.parametrize("text", ["On x\n" * 20_000, "x<" + "a" * 100_000 + "@b", ">\n" * 50_000,
                                  "On Mon wrote\n> q\ntext\n" * 5_000, "1" * 100_000 + ":"])
def test_pathological_text_stays_fast(text):
    import time

    start = time.perf_counter()
    extract_reply(text)
    assert time.perf_counter() - start < 2.0

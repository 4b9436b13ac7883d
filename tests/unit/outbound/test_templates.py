"""Mail templates: placeholders are checked when saved, filled as is in text and escaped in HTML,
and a mail made of parts keeps the plain rendering when no template brought HTML."""
from __future__ import annotations

import pytest

from helpdesk import errors
from helpdesk.outbound import templates
from helpdesk.outbound.html import render_html
from helpdesk.tickets.states import AUTO_CLOSE_HOURS

HOSTILE = {"customer_name": '<img src=x onerror=alert(1)> "Q" & \'A\'', "ticket_ref": "TKT-7",
           "rating_good_url": 'https://help.test/s.html?answer=good#k0.1.a"><script>x</script>'}


def test_every_default_renders_with_only_its_own_placeholders():
    for kind, template in templates.DEFAULTS.items():
        templates.check_template(kind, template.subject, template.body_text, template.body_html)
        values = {name: f"<{name}>" for name in templates.PLACEHOLDERS[kind]}
        assert "{{" not in templates.fill_text(template.body_text, values)


def test_text_takes_values_as_they_are_and_html_escapes_them_even_in_attributes():
    text = templates.fill_text("Hi {{customer_name}}, {{ ticket_ref }}", HOSTILE)
    assert text == f"Hi {HOSTILE['customer_name']}, TKT-7"
    html = templates.fill_html('<a href="{{rating_good_url}}">{{customer_name}}</a>', HOSTILE)
    assert "<script>" not in html and "<img" not in html and '"><' not in html
    assert html == ('<a href="https://help.test/s.html?answer=good#k0.1.a&quot;&gt;&lt;script&gt;x&lt;/script&gt;">'
                    "&lt;img src=x onerror=alert(1)&gt; &quot;Q&quot; &amp; &#x27;A&#x27;</a>")


@pytest.mark.parametrize("kind, subject, text, html, says", [
    ("solved", None, "Hi {{customer}}", None, "unknown placeholder '{{customer}}'"),
    ("acknowledgement", None, "{{not_solved_url}}", None, "the acknowledgement template allows"),
    ("csat", None, "x", "<p>{{rating_good_url</p>", "without its"),
    ("csat", None, "x }} y", None, "without its"),
    ("csat", None, "{{Rating_Good_Url}}", None, "unknown placeholder"),
    ("reply_footer", "Subject", "x", None, "only the acknowledgement and solved"),
    ("greeting", None, "x", None, "kind must be one of"),
])
def test_a_template_that_could_not_render_is_refused_naming_what_is_allowed(kind, subject, text, html, says):
    with pytest.raises(errors.ValidationFailed, match=None) as refused:
        templates.check_template(kind, subject, text, html)
    assert says in refused.value.detail


def test_a_mail_without_template_html_renders_as_a_reply_always_did():
    parts = [templates.Part("Fixed.\n> quoted"), templates.signature_part("Alice"), templates.Part("\n\n--\nfooter")]
    text, html = templates.assemble(parts, title="TKT-1")
    assert text == "Fixed.\n> quoted\n\n-- \nAlice\n\n--\nfooter"
    assert html == render_html(text, title="TKT-1")


def test_template_html_is_used_as_written_and_the_other_parts_are_escaped_text():
    parts = [templates.Part("<b>not bold</b>"), templates.Part("x", '<p class="csat">Rate us</p>')]
    text, html = templates.assemble(parts, title="TKT-1")
    assert text == "<b>not bold</b>x"
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and '<p class="csat">Rate us</p>' in html


def test_blank_signatures_add_nothing_and_the_solved_mail_names_the_auto_close():
    assert templates.signature_part("  \n") is None and templates.signature_part(None) is None
    with pytest.raises(errors.ValidationFailed):
        templates.check_signature("   ")
    assert f"closes in {AUTO_CLOSE_HOURS // 24} days" in templates.DEFAULTS["solved"].body_text

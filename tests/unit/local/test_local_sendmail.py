"""local.sendmail: the reply a customer sends to the newest outbound mail threads by headers."""
from __future__ import annotations

import mailbox
import os
import time

from local.sendmail import latest_outbound, reply_to


def test_reply_goes_to_reply_to_and_carries_in_reply_to_and_references(tmp_path):
    box = mailbox.Maildir(str(tmp_path / "outbox"), create=True)
    box.add(b"From: a@example.com\r\nSubject: old\r\nMessage-ID: <old@x>\r\n\r\nold")
    time.sleep(0.01)
    key = box.add(b"From: Support <support@example.com>\r\nReply-To: support+t1.sig@example.com\r\n"
                  b"Subject: Re: help [TKT-7]\r\nMessage-ID: <ses1@us-east-1.amazonses.com>\r\nReferences: <first@c>\r\n\r\nWe are on it.\r\n")
    path = tmp_path / "outbox" / "new" / key
    os.utime(path, (time.time() + 5, time.time() + 5))
    original = latest_outbound(tmp_path / "outbox")
    assert original["Subject"] == "Re: help [TKT-7]"
    reply, recipients = reply_to(original, "dana@customer.test", "Thanks!")
    assert recipients == ["support+t1.sig@example.com"]
    assert reply["Subject"] == "Re: help [TKT-7]"
    assert reply["In-Reply-To"] == "<ses1@us-east-1.amazonses.com>"
    assert reply["References"] == "<first@c> <ses1@us-east-1.amazonses.com>"
    assert "> We are on it." in reply.get_content()


def test_no_maildir_means_no_latest(tmp_path):
    assert latest_outbound(tmp_path / "missing") is None

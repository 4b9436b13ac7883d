-- Sender authentication (SES's SPF/DKIM/DMARC verdicts) adds two quarantine reasons: a DMARC failure
-- from a domain whose policy is reject/quarantine, and a sender SES did not authenticate whose mail
-- would have threaded by its subject tag or into a closed/resolved ticket (setting: quarantine).
ALTER TABLE email_quarantine DROP CONSTRAINT email_quarantine_reason_check;
ALTER TABLE email_quarantine ADD CONSTRAINT email_quarantine_reason_check CHECK (reason IN (
    'spam', 'virus', 'rate_limited', 'auto_reply_unmatched', 'unparseable', 'error', 'dmarc_fail', 'unverified_sender'));

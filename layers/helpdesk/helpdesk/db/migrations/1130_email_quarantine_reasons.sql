-- Three more reasons a mail is kept in quarantine instead of becoming a ticket message:
--   bulk          a newsletter, mailing-list or campaign mail (HELPDESK_EMAIL_BULK=quarantine)
--   suspicious    it reuses the Message-ID of a mail we sent (a forgery or a broken relay)
--   store_failed  its ticket could not be stored for what it holds (the reason is in detail)
DO $$ BEGIN PERFORM email_quarantine_allow_reasons('bulk', 'suspicious', 'store_failed'); END $$;

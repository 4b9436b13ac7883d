-- Three more reasons a mail is kept in quarantine instead of becoming a ticket message:
--   bulk          a newsletter, mailing-list or campaign mail (HELPDESK_EMAIL_BULK=quarantine)
--   suspicious    it reuses the Message-ID of a mail we sent (a forgery or a broken relay)
--   store_failed  its ticket could not be stored for what it holds (the reason is in detail)
-- The allowed reasons are those of the current constraint plus these three, read from the
-- catalogue, so reasons another migration added before this one are kept.
DO $$
DECLARE
    current_def text;
    reasons text[];
    constraint_name name;
BEGIN
    SELECT string_agg(pg_get_constraintdef(c.oid), ' ') INTO current_def
    FROM pg_constraint c
    WHERE c.conrelid = 'email_quarantine'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%reason%';
    SELECT array_agg(DISTINCT m[1]) INTO reasons
    FROM regexp_matches(coalesce(current_def, ''), '''([a-z_]+)''', 'g') AS m;
    reasons := array(SELECT DISTINCT unnest(coalesce(reasons, '{}'::text[]) ||
                                            ARRAY['spam', 'virus', 'rate_limited', 'auto_reply_unmatched', 'unparseable',
                                                  'error', 'bulk', 'suspicious', 'store_failed']) ORDER BY 1);
    FOR constraint_name IN
        SELECT c.conname FROM pg_constraint c
        WHERE c.conrelid = 'email_quarantine'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%reason%'
    LOOP
        EXECUTE format('ALTER TABLE email_quarantine DROP CONSTRAINT %I', constraint_name);
    END LOOP;
    EXECUTE format('ALTER TABLE email_quarantine ADD CONSTRAINT email_quarantine_reason_check CHECK (reason = ANY (%L::text[]))',
                   reasons);
END
$$;

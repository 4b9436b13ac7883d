-- Sender authentication (SES's SPF/DKIM/DMARC verdicts) adds two reasons a mail is kept in quarantine:
--   dmarc_fail         DMARC failed for a From domain whose policy is reject or quarantine
--   unverified_sender  SES did not authenticate the sender of a mail that would have threaded by its
--                      subject tag or into a closed/resolved ticket (HELPDESK_EMAIL_UNVERIFIED_SENDER=quarantine)
--
-- email_quarantine_allow_reasons: the one way a migration adds quarantine reasons. The allowed
-- reasons become those of the current constraint plus the given ones, read from the catalogue in
-- either form PostgreSQL prints them (ARRAY['a'::text, ...] or '{a,...}'::text[]), so no migration
-- drops a reason another one added; the constraint is rewritten as an IN list.
CREATE FUNCTION email_quarantine_allow_reasons(VARIADIC added text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    current_def text;
    reasons text[];
    constraint_name name;
BEGIN
    SELECT string_agg(pg_get_constraintdef(c.oid), ' ') INTO current_def
    FROM pg_constraint c
    WHERE c.conrelid = 'email_quarantine'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%reason%';
    SELECT array_agg(DISTINCT w) INTO reasons FROM (
        SELECT m[1] AS w FROM regexp_matches(coalesce(current_def, ''), '''([a-z_]+)''', 'g') AS m
        UNION
        SELECT unnest(string_to_array(m[1], ',')) FROM regexp_matches(coalesce(current_def, ''), '''\{([a-z_,]+)\}''', 'g') AS m
    ) found;
    reasons := array(SELECT DISTINCT unnest(coalesce(reasons, '{}'::text[]) || added) ORDER BY 1);
    FOR constraint_name IN
        SELECT c.conname FROM pg_constraint c
        WHERE c.conrelid = 'email_quarantine'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%reason%'
    LOOP
        EXECUTE format('ALTER TABLE email_quarantine DROP CONSTRAINT %I', constraint_name);
    END LOOP;
    EXECUTE format('ALTER TABLE email_quarantine ADD CONSTRAINT email_quarantine_reason_check CHECK (reason IN (%s))',
                   (SELECT string_agg(quote_literal(r), ', ') FROM unnest(reasons) AS r));
END
$$;

-- (The first six are 0500's; naming them keeps them if that constraint was ever written differently.)
DO $$ BEGIN
    PERFORM email_quarantine_allow_reasons('spam', 'virus', 'rate_limited', 'auto_reply_unmatched', 'unparseable', 'error',
                                           'dmarc_fail', 'unverified_sender');
END $$;

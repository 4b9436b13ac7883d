-- A ticket reports as solved (resolved_at) only while it is resolved or closed, and as closed
-- (closed_at) only while it is closed: a move out of either (a customer's message, an agent
-- reopening, "it's not solved", a trigger) takes them back, whichever statement made it, so a
-- reopened ticket never counts as a resolution in the reports nor shows "solved" to its customer.
-- Its next resolve sets resolved_at again (the resolution the reports, the solved mail and the
-- sweep's auto-close count from); the resolves before it stay in the audit trail.

-- Tickets a customer's message reopened from closed before this migration kept their old resolve.
UPDATE tickets SET resolved_at = NULL WHERE resolved_at IS NOT NULL AND status NOT IN ('resolved', 'closed');
UPDATE tickets SET closed_at = NULL WHERE closed_at IS NOT NULL AND status <> 'closed';

ALTER TABLE tickets ADD CONSTRAINT tickets_resolved_at_only_while_solved
    CHECK (resolved_at IS NULL OR status IN ('resolved', 'closed'));
ALTER TABLE tickets ADD CONSTRAINT tickets_closed_at_only_while_closed
    CHECK (closed_at IS NULL OR status = 'closed');

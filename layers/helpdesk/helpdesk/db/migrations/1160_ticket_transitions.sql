-- The ticket state machine in the database, so that no statement can make a status change the
-- state machine does not allow, whichever command, job or migration wrote it.
-- The rows are helpdesk.tickets.states.TRANSITIONS (plus COMPOSITE_MOVES, with `via`);
-- tests/integration/tickets/test_state_machine_sql.py fails when the two disagree. A change to the
-- Python table therefore comes with a new migration that rewrites these rows.
CREATE TABLE ticket_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    -- a move one statement makes in a single row update through an intermediate status, both steps
    -- written to the audit trail (a customer reply reopening a closed ticket: closed -> reopened -> in_progress)
    via         text,
    PRIMARY KEY (from_status, to_status)
);

INSERT INTO ticket_transitions (from_status, to_status, via) VALUES
    ('new', 'assigned', NULL), ('new', 'spam', NULL), ('new', 'duplicate', NULL), ('new', 'merged', NULL),
    ('assigned', 'in_progress', NULL), ('assigned', 'new', NULL), ('assigned', 'spam', NULL),
    ('assigned', 'duplicate', NULL), ('assigned', 'merged', NULL),
    ('in_progress', 'waiting_on_customer', NULL), ('in_progress', 'resolved', NULL), ('in_progress', 'assigned', NULL),
    ('in_progress', 'spam', NULL), ('in_progress', 'duplicate', NULL), ('in_progress', 'merged', NULL),
    ('waiting_on_customer', 'in_progress', NULL), ('waiting_on_customer', 'resolved', NULL),
    ('waiting_on_customer', 'spam', NULL), ('waiting_on_customer', 'duplicate', NULL),
    ('resolved', 'closed', NULL), ('resolved', 'in_progress', NULL),
    ('closed', 'reopened', NULL),
    ('reopened', 'in_progress', NULL), ('reopened', 'assigned', NULL), ('reopened', 'spam', NULL),
    ('reopened', 'duplicate', NULL),
    ('spam', 'new', NULL),
    ('closed', 'in_progress', 'reopened');

CREATE FUNCTION tickets_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    step ticket_transitions%ROWTYPE;
BEGIN
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;
    SELECT * INTO step FROM ticket_transitions WHERE from_status = OLD.status AND to_status = NEW.status;
    IF NOT FOUND
       OR (step.via = 'reopened' AND NEW.reopen_count <> OLD.reopen_count + 1) THEN
        RAISE EXCEPTION 'ticket % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  HINT = 'allowed moves are the rows of ticket_transitions (helpdesk.tickets.states.TRANSITIONS)';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER tickets_transition_check BEFORE UPDATE OF status ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_check_transition();

-- A duplicate names the ticket it duplicates. NOT VALID: rows marked duplicate before this column
-- existed keep NULL; every new change to duplicate must name its original.
ALTER TABLE tickets ADD COLUMN duplicate_of_id uuid REFERENCES tickets(id);
ALTER TABLE tickets ADD CONSTRAINT tickets_duplicate_names_original
    CHECK (status <> 'duplicate' OR duplicate_of_id IS NOT NULL) NOT VALID;

-- Triggers (issue 19 item 4): business rules an admin writes, run by the notifier after the outbox.
-- A trigger's definition (events, conditions, actions) is validated JSON (helpdesk.triggers.models).

CREATE TABLE triggers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    description  text CHECK (length(description) <= 2000),
    position     integer NOT NULL DEFAULT 0,
    is_active    boolean NOT NULL DEFAULT true,
    events       jsonb NOT NULL CHECK (jsonb_typeof(events) = 'array'),
    conditions   jsonb NOT NULL DEFAULT '{"all": [], "any": []}' CHECK (jsonb_typeof(conditions) = 'object'),
    actions      jsonb NOT NULL CHECK (jsonb_typeof(actions) = 'array'),
    created_by   uuid,
    updated_by   uuid,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX triggers_order ON triggers (position, name) WHERE is_active;

-- One row per (trigger, event): the claim taken before the actions run (state 'acting', with a lease
-- a crashed worker's redelivery waits out) and their outcome once done. A redelivered event finds
-- its row and fires nothing again. chain_id is the event that started the chain of trigger
-- actions (its own id for an event nobody's trigger caused); depth counts the hops from it.
-- event_at is the event's occurred_at: the events one command writes share it (one change, one firing).
CREATE TABLE trigger_firings (
    trigger_id   uuid NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
    event_id     uuid NOT NULL,
    ticket_id    uuid NOT NULL REFERENCES tickets(id),
    event_at     timestamptz NOT NULL,
    chain_id     uuid NOT NULL,
    depth        integer NOT NULL CHECK (depth >= 0),
    state        text NOT NULL CHECK (state IN ('acting', 'done')),
    lease_until  timestamptz,
    progress     integer NOT NULL DEFAULT 0,  -- actions already carried out (a retry resumes after them)
    outcomes     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(outcomes) = 'array'),
    fired_at     timestamptz NOT NULL,
    finished_at  timestamptz,
    PRIMARY KEY (trigger_id, event_id)
);
CREATE INDEX trigger_firings_chain ON trigger_firings (chain_id, ticket_id);
CREATE INDEX trigger_firings_ticket ON trigger_firings (ticket_id, trigger_id, fired_at DESC);
CREATE INDEX trigger_firings_change ON trigger_firings (ticket_id, event_at);
CREATE INDEX trigger_firings_finished ON trigger_firings (finished_at) WHERE state = 'done';

-- The events a firing's actions wrote, with the chain they belong to: when such an event comes back
-- through the queue, the triggers it fires continue that chain (one hop deeper) instead of starting one.
CREATE TABLE trigger_chain_events (
    event_id    uuid PRIMARY KEY,
    chain_id    uuid NOT NULL,
    depth       integer NOT NULL CHECK (depth >= 0),
    trigger_id  uuid NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX trigger_chain_events_created ON trigger_chain_events (created_at);

-- A trigger is an actor of its own in the audit trail (actor_id: the trigger's id).
ALTER TABLE ticket_audit DROP CONSTRAINT ticket_audit_actor_type_check;
ALTER TABLE ticket_audit ADD CONSTRAINT ticket_audit_actor_type_check
    CHECK (actor_type IN ('customer', 'agent', 'system', 'trigger')) NOT VALID;
ALTER TABLE ticket_audit VALIDATE CONSTRAINT ticket_audit_actor_type_check;

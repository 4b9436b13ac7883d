-- Agents are matched by their sign-in identity's immutable id (Cognito `sub`), not by the token's email
-- claim, which a user may be able to change. The first sign-in with a verified email equal to an
-- agent's address binds that sub to the agent; from then on only that sub is the agent.
ALTER TABLE agents ADD COLUMN IF NOT EXISTS identity_sub text UNIQUE CHECK (length(identity_sub) BETWEEN 1 AND 200);

// AppSync Events handlers of the agents' namespaces (tickets, teams, agents): the AWS side of
// helpdesk/push/access.py (authorize_agent, presence_message). tests/infra/test_push_handlers.py
// runs these functions under node against the same cases as the Python rules.
import { util } from '@aws-appsync/utils';

const ROLES = ['agent', 'lead', 'admin'];
const PRESENCE_STATES = ['viewing', 'replying', 'left'];
const PRESENCE_TTL_SECONDS = 40;

function isAgent(identity) {
  return Boolean(identity && identity.sub && (identity.groups || []).some((g) => ROLES.includes(String(g).toLowerCase())));
}

export function onSubscribe(ctx) {
  if (!isAgent(ctx.identity)) util.unauthorized();
  const [namespace, key] = ctx.info.channel.segments;
  if (ctx.info.channel.segments.length !== 2) util.unauthorized();
  // An agent's own channel is named by their Cognito sub: nobody else may listen to it.
  if (namespace === 'agents' && key !== ctx.identity.sub) util.unauthorized();
}

export function onPublish(ctx) {
  // The push function publishes with IAM (no Cognito sub): its signals pass as they are.
  if (!ctx.identity || !ctx.identity.sub) return ctx.events;
  // Agents publish presence only, on /tickets channels, rebuilt from who they are.
  if (!isAgent(ctx.identity) || ctx.info.channel.segments[0] !== 'tickets') util.unauthorized();
  const email = String((ctx.identity.claims || {}).email || '').toLowerCase();
  const name = String((ctx.identity.claims || {}).name || email.split('@')[0]).slice(0, 80);
  return ctx.events.map((event) => {
    const doc = event.payload || {};
    if (doc.kind !== 'presence' || !PRESENCE_STATES.includes(doc.state)) {
      return { id: event.id, error: 'agents publish only {"kind": "presence", "state": "viewing" | "replying" | "left"}' };
    }
    return {
      id: event.id,
      payload: { kind: 'presence', state: doc.state, agent: { sub: ctx.identity.sub, email, name },
                 at: util.time.nowISO8601(), ttl_seconds: PRESENCE_TTL_SECONDS },
    };
  });
}

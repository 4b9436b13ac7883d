// Teams, agents (invite, roles, skills, capacity, out of office with a delegate), knowledge-base
// articles and Slack channels.
import { ApiError } from "../api.js";
import { announce, h, render } from "../dom.js";
import { formatDateTime } from "../format.js";
import { adminForm, apiSchemas, enumOptions, labelOf } from "./forms.js";
import { crudPage, itemsOf, mayUse, patch, remove } from "./page.js";

const yesNo = (v) => (v ? "yes" : "no");

async function loadTeams(ctx) {
  const teams = itemsOf(await ctx.api.get("/teams"));
  ctx.teams = new Map(teams.map((t) => [t.id, t]));
  return teams;
}

async function loadAgents(ctx, includeInactive = false) {
  const agents = itemsOf(await ctx.api.get("/agents", includeInactive ? { include_inactive: "true" } : undefined));
  for (const a of agents) ctx.agents.set(a.id, a);
  return agents;
}

export async function renderTeams(root, ctx) {
  const schemas = await apiSchemas(ctx);
  const admin = mayUse(ctx, "admin");
  const [schedules] = await Promise.all([admin ? ctx.api.get("/schedules").then(itemsOf) : [], ctx.agents.size ? null : loadAgents(ctx)]);
  const scheduleName = (id) => (schedules.find((s) => s.id === id) || {}).name || (id ? "a schedule" : "—");
  const mine = new Set(ctx.myTeamIds());
  await crudPage(root, ctx, {
    title: admin ? "Teams" : "My teams", noun: "team", label: (t) => t.name || "team",
    intro: admin ? "Where tickets go: the support address a team answers, how it assigns, its business hours and who it escalates to."
      : "The teams you lead: members and how they work. An admin changes team settings.",
    load: async () => (await loadTeams(ctx)).filter((t) => admin || mine.has(t.id)),
    canEdit: admin,
    columns: [
      { label: "Name", value: (t) => h("span", {}, t.name, t.is_default ? h("span", { class: "status" }, " default") : null) },
      { label: "Support address", value: (t) => t.email_address || "—" },
      { label: "Assignment", value: (t) => labelOf(t.assignment_mode || "") },
      ...(admin ? [{ label: "Schedule", value: (t) => scheduleName(t.schedule_id) }] : []),
      { label: "Escalates to", value: (t) => ctx.teamName(t.escalation_team_id) },
      { label: "Members", value: (t) => (t.member_ids || []).map((id) => ctx.agentName(id)).join(", ") || "—" },
    ],
    createSchema: "TeamIn", updateSchema: "TeamPatch",
    fields: (t) => [
      { name: "name", label: "Name", value: t && t.name },
      { name: "email_address", label: "Support address", type: "email", nullable: true, value: t && t.email_address,
        hint: "Mail to this address is routed to the team (leave empty for none)." },
      { name: "assignment_mode", label: "Assignment mode", type: "select", value: (t && t.assignment_mode) || "push",
        options: enumOptions(schemas, "TeamIn", "assignment_mode") },
      { name: "schedule_id", label: "Business hours", type: "select", nullable: true, value: t && t.schedule_id,
        options: [["", "None (24/7)"], ...schedules.map((s) => [s.id, s.name])] },
      { name: "escalation_team_id", label: "Escalation team", type: "select", nullable: true, value: t && t.escalation_team_id,
        options: [["", "None"], ...[...ctx.teams.values()].filter((x) => !t || x.id !== t.id).map((x) => [x.id, x.name])] },
      { name: "is_default", label: "Default team (tickets no routing rule matched)", type: "checkbox", value: t && t.is_default },
    ],
    create: (body) => ctx.api.post("/teams", body),
    update: (t, body) => patch(ctx, `/teams/${t.id}`, body),
  });
}

export async function renderAgents(root, ctx) {
  const schemas = await apiSchemas(ctx);
  const teams = ctx.teams.size ? [...ctx.teams.values()] : await loadTeams(ctx);
  const teamOptions = teams.map((t) => [t.id, t.name]);
  const oooSlot = h("div", { class: "admin-form-slot" });
  let agents = [];
  const page = await crudPage(root, ctx, {
    title: "Agents", noun: "agent", label: (a) => a.name || a.email || "agent",
    intro: "Invite agents, set their role, teams, skills and capacity, and their out of office with a delegate.",
    load: async () => (agents = await loadAgents(ctx, true)),
    columns: [
      { label: "Name", value: (a) => a.name },
      { label: "Email", value: (a) => a.email },
      { label: "Role", value: (a) => labelOf(a.role) },
      { label: "Teams", value: (a) => (a.team_ids || []).map((id) => ctx.teamName(id)).join(", ") || "—" },
      { label: "Skills", value: (a) => (a.skills || []).join(", ") || "—" },
      { label: "Capacity", value: (a) => String(a.capacity) },
      { label: "Active", value: (a) => yesNo(a.is_active) },
      { label: "Out of office", value: (a) => (a.ooo_start
        ? `${formatDateTime(a.ooo_start)} – ${a.ooo_end ? formatDateTime(a.ooo_end) : "until cleared"}${a.ooo_delegate_id ? `, delegate ${ctx.agentName(a.ooo_delegate_id)}` : ""}`
        : "—") },
    ],
    createSchema: "AgentIn", updateSchema: "AgentPatch",
    fields: (a) => [
      ...(a ? [] : [{ name: "email", label: "Email", type: "email" }]),
      { name: "name", label: "Name", value: a && a.name },
      { name: "role", label: "Role", type: "select", value: (a && a.role) || "agent", options: enumOptions(schemas, "AgentIn", "role") },
      { name: "team_ids", label: "Teams", type: "checks", value: a ? a.team_ids : [], options: teamOptions },
      { name: "skills", label: "Skills", type: "list", value: a ? a.skills : [], hint: "Comma-separated, e.g. billing, german." },
      { name: "capacity", label: "Capacity (open tickets at once)", type: "number", value: a ? a.capacity : 10 },
      { name: "slack_user_id", label: "Slack member id", nullable: true, value: a && a.slack_user_id, hint: "For notifications by Slack DM, e.g. U0123ABCD." },
      ...(a ? [{ name: "is_active", label: "Active", type: "checkbox", value: a.is_active }] : []),
    ],
    create: (body) => ctx.api.post("/agents", body),
    update: (a, body) => patch(ctx, `/agents/${a.id}`, body),
    rowActions: (a, refresh) => [
      h("button", { type: "button", onclick: () => invite(ctx, a, oooSlot), "aria-label": `Invite ${a.name}` }, "Invite"),
      h("button", { type: "button", onclick: () => outOfOffice(ctx, a, agents, oooSlot, refresh), "aria-label": `Out of office for ${a.name}` }, "Out of office"),
    ],
  });
  root.insertBefore(oooSlot, root.querySelector(".admin-list"));
  return page;
}

async function invite(ctx, agent, slot) {
  try {
    const answer = await ctx.api.post(`/agents/${agent.id}/invite`, {});
    if (answer.sent) {
      render(slot, h("p", { class: "notice", role: "status" }, `Invitation ${answer.resent ? "sent again" : "sent"} to ${agent.email}: a temporary password by mail.`));
      return;
    }
    // No user pool (the local stack): the agent signs in with a local token instead.
    const token = ctx.config.auth === "local" ? (await ctx.api.post("/dev/token", { email: agent.email })).token : null;
    render(slot, h("div", { class: "notice", role: "status" },
      h("p", {}, `${agent.email} signs in on this stack with a local token${token ? ": give them this one" : " (no user pool here)"}.`),
      token ? h("label", { class: "field" }, "Local sign-in token", h("textarea", { readonly: true, rows: 3, class: "mono", value: token })) : null));
  } catch (err) {
    ctx.showError(err, "Invite");
  }
}

function outOfOffice(ctx, agent, agents, slot, refresh) {
  const { form } = adminForm(ctx, {
    id: "ooo-form", schema: "OutOfOfficeIn", submitLabel: "Set out of office",
    fields: [
      { name: "start", label: "From", type: "datetime", value: agent.ooo_start || new Date().toISOString() },
      { name: "end", label: "Until (empty: until cleared)", type: "datetime", nullable: true, value: agent.ooo_end },
      { name: "delegate_id", label: "Delegate (takes over their tickets)", type: "select", nullable: true, value: agent.ooo_delegate_id,
        options: [["", "Nobody (tickets go back to the queue)"], ...agents.filter((a) => a.id !== agent.id && a.is_active).map((a) => [a.id, a.name])] },
    ],
    submit: (body) => ctx.api.put(`/agents/${agent.id}/out-of-office`, body),
    onSaved: async () => { render(slot); announce(`${agent.name} is out of office.`); await refresh(); },
    extraButtons: [
      h("button", { type: "button", onclick: async () => {
        try {
          await remove(ctx, `/agents/${agent.id}/out-of-office`);
          render(slot);
          announce(`${agent.name} is back.`);
          await refresh();
        } catch (err) { ctx.showError(err, "Out of office"); }
      } }, "Clear out of office"),
      h("button", { type: "button", onclick: () => render(slot) }, "Cancel")],
  });
  render(slot, h("h2", {}, `Out of office: ${agent.name}`), form);
  form.querySelector("input").focus();
}

export async function renderKb(root, ctx) {
  await crudPage(root, ctx, {
    title: "Knowledge base", noun: "article", label: (a) => a.title || "article",
    intro: "Articles agents and customers see as suggestions. Drafts stay unpublished until you publish them.",
    load: async () => itemsOf(await ctx.api.get("/kb/articles", { include_unpublished: "true", limit: 100 })),
    columns: [
      { label: "Title", value: (a) => a.title },
      { label: "State", value: (a) => h("span", { class: "status" }, a.is_published ? "published" : "draft") },
      { label: "Tags", value: (a) => (a.tags || []).join(", ") || "—" },
      { label: "Updated", value: (a) => formatDateTime(a.updated_at) },
    ],
    createSchema: "ArticleIn", updateSchema: "ArticlePatch",
    fields: async (a) => {
      const full = a ? await ctx.api.get(`/kb/articles/${a.id}`) : null;
      return [
        { name: "title", label: "Title", value: full && full.title },
        { name: "body", label: "Body", type: "textarea", rows: 10, value: full && full.body },
        { name: "tags", label: "Tags", type: "list", value: full ? full.tags : [], hint: "Comma-separated." },
        { name: "is_published", label: "Published", type: "checkbox", value: full ? full.is_published : false },
      ];
    },
    create: (body) => ctx.api.post("/kb/articles", body),
    update: (a, body) => patch(ctx, `/kb/articles/${a.id}`, body),
    remove: (a) => remove(ctx, `/kb/articles/${a.id}`),
  });
}

export async function renderSlack(root, ctx) {
  const teams = ctx.teams.size ? [...ctx.teams.values()] : await loadTeams(ctx);
  await crudPage(root, ctx, {
    title: "Slack channels", noun: "channel", label: (c) => (c.name ? `#${c.name}` : c.channel_id || "channel"),
    intro: "Top-level messages in a connected channel open tickets; replies in their thread continue them.",
    load: async () => itemsOf(await ctx.api.get("/channels/slack/channels")),
    columns: [
      { label: "Channel id", value: (c) => c.channel_id },
      { label: "Name", value: (c) => c.name || "—" },
      { label: "Team", value: (c) => ctx.teamName(c.team_id) },
    ],
    createSchema: "SlackChannelIn", updateSchema: "SlackChannelIn",
    fields: (c) => [
      { name: "channel_id", label: "Slack channel id", value: c && c.channel_id, readonly: Boolean(c), api: false, hint: "e.g. C0123ABCD (channel details in Slack)." },
      { name: "name", label: "Name", nullable: true, value: c && c.name },
      { name: "team_id", label: "Team", type: "select", nullable: true, value: c && c.team_id,
        options: [["", "By routing rules"], ...teams.map((t) => [t.id, t.name])] },
    ],
    create: ({ channel_id: channelId, ...body }) => {
      if (!channelId) throw new ApiError(422, { detail: "channel_id: the Slack channel id is required (e.g. C0123ABCD)" });
      return ctx.api.put(`/channels/slack/channels/${encodeURIComponent(channelId)}`, body);
    },
    update: (c, body) => ctx.api.put(`/channels/slack/channels/${encodeURIComponent(c.channel_id)}`, body),
    remove: (c) => remove(ctx, `/channels/slack/channels/${encodeURIComponent(c.channel_id)}`),
  });
}

// The tenant's contents, read through Graph with the signed-in user's
// token: users, groups, teams and their channels, applications with their
// redirect URIs and permissions, and the delegated permission grants.

import { el, fill, message } from "./ui.js";
import { currentToken } from "./auth.js";

let config = null;
const $ = (id) => document.getElementById(id);

export function init(studioConfig) {
  config = studioConfig;
  $("tenant-refresh").addEventListener("click", refresh);
}

async function get(path, token) {
  const response = await fetch(`${config.graphUrl}/v1.0${path}`, {
    headers: { Authorization: `Bearer ${token.accessToken}` },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    return { error: `${response.status} ${body.error?.code || ""}: ${body.error?.message || ""}` };
  }
  return { value: body.value || [] };
}

function table(caption, columns, rows) {
  return el("table", {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c)))),
    el("tbody", {}, rows.length
      ? rows.map((r) => el("tr", {}, r.map((cell) => el("td", {}, cell))))
      : el("tr", {}, el("td", { colspan: columns.length }, "None"))));
}

function section(title, result, render) {
  return el("section", { "aria-label": title }, el("h3", {}, title),
    result.error ? el("p", { class: "bad" }, `Could not read ${title.toLowerCase()}: ${result.error}`) : render(result.value));
}

export async function refresh() {
  const token = currentToken();
  if (!token) { fill($("tenant-content"), el("p", {}, "Sign in to read the tenant.")); return; }
  message("");
  fill($("tenant-content"), el("p", {}, "Reading…"));
  const [users, groups, apps, grants] = await Promise.all([
    get("/users?$select=displayName,userPrincipalName,jobTitle", token),
    get("/groups?$select=id,displayName,groupTypes,mailNickname,resourceProvisioningOptions", token),
    get("/applications", token),
    get("/oauth2PermissionGrants", token),
  ]);
  // Teams: the groups whose resourceProvisioningOptions holds "Team"
  // (Graph's documented way to list teams, "List all teams in Microsoft
  // Teams for an organization"); asking /teams/{id} of every group would
  // log a 404 in the console for each group without a team.
  const teams = [];
  for (const g of (groups.value || []).filter((g) => (g.resourceProvisioningOptions || []).includes("Team"))) {
    const team = await fetch(`${config.graphUrl}/v1.0/teams/${encodeURIComponent(g.id)}`,
      { headers: { Authorization: `Bearer ${token.accessToken}` } });
    if (!team.ok) continue;
    const channels = await get(`/teams/${encodeURIComponent(g.id)}/channels`, token);
    teams.push({ group: g, channels });
  }
  fill($("tenant-content"),
    section("Users", users, (v) => table("Users", ["Name", "User name", "Job title"],
      v.map((u) => [u.displayName, u.userPrincipalName, u.jobTitle || ""]))),
    section("Groups", groups, (v) => table("Groups", ["Name", "Mail nickname", "Kind"],
      v.map((g) => [g.displayName, g.mailNickname || "", (g.groupTypes || []).join(", ") || "Security"]))),
    el("section", { "aria-label": "Teams" }, el("h3", {}, "Teams"),
      teams.length ? teams.map((t) => el("div", { class: "team" },
        el("h4", {}, t.group.displayName),
        t.channels.error ? el("p", { class: "bad" }, t.channels.error)
          : el("ul", { "aria-label": `Channels of ${t.group.displayName}` },
            t.channels.value.map((c) => el("li", {}, c.displayName,
              c.description ? el("span", { class: "help" }, ` — ${c.description}`) : null)))))
        : el("p", {}, "No teams yet (step 6 creates one).")),
    section("Applications", apps, (v) => table("Applications", ["Name", "Client id", "Redirect URIs", "Permissions"],
      v.map((a) => [a.displayName, a.appId,
        ["web", "spa", "publicClient"].flatMap((p) => (a[p]?.redirectUris || []).map((u) => `${p}: ${u}`)).join("\n"),
        (a.requiredResourceAccess || []).flatMap((r) => (r.resourceAccess || []).map((x) => `${x.type} ${x.id}`)).join("\n")]))),
    section("Permission grants", grants, (v) => table("Permission grants", ["Client", "Consent", "Principal", "Scopes"],
      v.map((g) => [g.clientId, g.consentType, g.principalId || "all users", g.scope]))));
}

// The sample queries: Graph Explorer's "Perform parallel GETs" (its
// sample-queries.json, category Batching), every request of the lab's
// steps 5 to 7 (shared/lab/LAB.md), and a few of Graph Explorer's common
// ones. `{group-id}` and `{team-id}` are filled in with the newest group
// the signed-in user can see when the query runs.

const json = { "Content-Type": "application/json" };

export const SAMPLES = [
  {
    name: "Perform parallel GETs",
    method: "POST", version: "v1.0", url: "/$batch", headers: json,
    body: { requests: [
      { url: "/me?$select=displayName,jobTitle,userPrincipalName", method: "GET", id: "1" },
      { url: "/me/messages?$filter=importance eq 'high'&$select=from,subject,receivedDateTime,bodyPreview", method: "GET", id: "2" },
      { url: "/me/events", method: "GET", id: "3" },
    ] },
  },
  {
    name: "Step 5: /me in a batch (compare v1.0 and beta)",
    method: "POST", version: "v1.0", url: "/$batch", headers: json,
    body: { requests: [{ id: 1, url: "/me", method: "GET" }] },
  },
  {
    name: "Step 5: a OneNote notebook (403 / 40004 without the Notes scopes)",
    method: "POST", version: "v1.0", url: "/$batch", headers: json,
    body: { requests: [{
      id: "1", method: "POST", url: "/groups/{group-id}/onenote/notebooks",
      headers: json, body: { displayName: "Meeting Notes" },
    }] },
  },
  {
    name: "Step 6: create the group (Batch POST-groups)",
    method: "POST", version: "v1.0", url: "/$batch", headers: json,
    body: { requests: [{
      id: "1", method: "POST", url: "/groups", headers: json,
      body: { description: "LabTeam", displayName: "LabTeam", groupTypes: ["Unified"],
        mailEnabled: true, mailNickname: "LabTeam", securityEnabled: false },
    }] },
  },
  {
    name: "Step 6: add the team (Batch PUT-team)",
    method: "POST", version: "v1.0", url: "/$batch", headers: json,
    body: { requests: [{
      id: "1", method: "PUT", url: "/groups/{group-id}/team", headers: json,
      body: {
        memberSettings: { allowCreateUpdateChannels: true },
        messagingSettings: { allowUserEditMessages: true, allowUserDeleteMessages: true },
        funSettings: { allowGiphy: true, giphyContentRating: "strict" },
      },
    }] },
  },
  {
    name: "Step 7: three channels, chained (Batch POST-channels)",
    method: "POST", version: "v1.0", url: "/$batch", headers: json,
    body: { requests: [
      { id: "1", method: "POST", url: "/teams/{team-id}/channels", headers: json,
        body: { displayName: "Marketing Collateral", description: "Marketing collateral and documentation." } },
      { id: "2", dependsOn: ["1"], method: "POST", url: "/teams/{team-id}/channels", headers: json,
        body: { displayName: "Vendor Contracts", description: "Vendor documents, contracts, agreements and schedules." } },
      { id: "3", dependsOn: ["2"], method: "POST", url: "/teams/{team-id}/channels", headers: json,
        body: { displayName: "General Client Agreements", description: "General Client documents and agreements." } },
    ] },
  },
  { name: "my profile", method: "GET", version: "v1.0", url: "/me" },
  { name: "my profile (beta)", method: "GET", version: "beta", url: "/me" },
  { name: "my high importance messages", method: "GET", version: "v1.0",
    url: "/me/messages?$filter=importance eq 'high'" },
  { name: "my events", method: "GET", version: "v1.0", url: "/me/events" },
  { name: "all users in the organization", method: "GET", version: "v1.0", url: "/users" },
  { name: "all groups in my organization", method: "GET", version: "v1.0", url: "/groups" },
  { name: "the channels of a team", method: "GET", version: "v1.0", url: "/teams/{team-id}/channels" },
];

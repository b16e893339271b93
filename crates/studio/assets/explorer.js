// The batch explorer (step 5): a request to Graph, sent from the page with
// the signed-in user's token, and its answer: status, time, headers, the
// body as a collapsible tree and, for $batch, the items in a table. The
// history stays in this browser (localStorage) and exports as HAR 1.2.

import { el, fill, jsonView, message, statusCell, tabs } from "./ui.js";
import { SAMPLES } from "./samples.js";
import { claims, currentToken, signIn, DEFAULT_SCOPES } from "./auth.js";

const HISTORY = "graphlab-studio-history";
const HISTORY_MAX = 50;
let config = null;
let selectTab = null;

const $ = (id) => document.getElementById(id);

export function init(studioConfig) {
  config = studioConfig;
  selectTab = tabs(document.querySelector(".tabs[role=tablist]"));
  fill($("samples"), SAMPLES.map((s) =>
    el("li", {}, el("button", { type: "button", class: "sample", onclick: () => load(s) }, s.name))));
  $("request-form").addEventListener("submit", (e) => { e.preventDefault(); run(); });
  $("permissions-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const extra = $("scopes").value.split(/[\s,]+/).filter(Boolean);
    const granted = (currentToken()?.scope || "").split(" ").filter(Boolean);
    signIn(config, [...new Set([...DEFAULT_SCOPES, ...granted, ...extra])], "consent");
  });
  $("export-har").addEventListener("click", exportHar);
  $("clear-history").addEventListener("click", () => { localStorage.removeItem(HISTORY); showHistory(); });
  for (const id of ["method", "version", "url", "body", "headers"]) {
    $(id).addEventListener("input", showCode);
  }
  showHistory();
  showToken();
  showCode();
}

function load(sample) {
  $("method").value = sample.method;
  $("version").value = sample.version;
  $("url").value = sample.url;
  $("body").value = sample.body ? JSON.stringify(sample.body, null, 2) : "";
  $("headers").value = Object.entries(sample.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  showCode();
  $("url").focus();
}

function requestHeaders() {
  const headers = {};
  for (const [n, line] of $("headers").value.split("\n").entries()) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at < 1) throw new Error(`Request headers, line ${n + 1}: write Name: value`);
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

async function graph(method, path, token, options = {}) {
  return fetch(`${config.graphUrl}${path}`, {
    method,
    headers: { ...(options.headers || {}), Authorization: `Bearer ${token.accessToken}` },
    body: options.body,
  });
}

/** Fills {group-id} and {team-id} with the newest group the user sees. */
async function placeholders(text, token) {
  if (!/\{(group|team)-id\}/.test(text)) return text;
  const answer = await graph("GET", "/v1.0/groups?$select=id,displayName,createdDateTime", token);
  const groups = (await answer.json()).value || [];
  groups.sort((a, b) => String(a.createdDateTime).localeCompare(String(b.createdDateTime)));
  const group = groups[groups.length - 1];
  if (!group) throw new Error("no group to put in {group-id}: create one first (step 6)");
  return text.replace(/\{(group|team)-id\}/g, group.id);
}

async function run() {
  message("");
  const token = currentToken();
  if (!token) { message("Sign in first: the explorer calls Graph as you."); return; }
  let headers;
  try { headers = requestHeaders(); } catch (e) { message(e.message); return; }
  const method = $("method").value;
  let body = $("body").value.trim();
  if (body && method !== "GET") {
    try { JSON.parse(body); } catch (e) { message(`Request body: not valid JSON: ${e.message}`); return; }
  }
  let url;
  try {
    url = await placeholders($("url").value.trim(), token);
    body = await placeholders(body, token);
  } catch (e) { message(e.message); return; }
  const path = `/${$("version").value}${url.startsWith("/") ? url : `/${url}`}`;
  $("run").disabled = true;
  $("response-status").textContent = "Running…";
  const started = performance.now();
  const startedAt = new Date();
  try {
    const response = await graph(method, path, token,
      { headers, body: method === "GET" || method === "DELETE" || !body ? undefined : body });
    const text = await response.text();
    const ms = Math.round(performance.now() - started);
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
    const responseHeaders = [...response.headers.entries()];
    show({ status: response.status, ms, parsed, text, responseHeaders, path });
    remember({ startedAt: startedAt.toISOString(), ms, method, url: `${config.graphUrl}${path}`,
      requestHeaders: headers, requestBody: body, status: response.status,
      statusText: response.statusText, responseHeaders, responseText: text.slice(0, 100000) });
  } catch (e) {
    $("response-status").textContent = "";
    message(`The request did not reach Graph: ${e.message}`);
  } finally {
    $("run").disabled = false;
  }
}

function show({ status, ms, parsed, text, responseHeaders, path }) {
  const isBatch = /\/\$batch$/.test(path.split("?")[0]) && parsed && Array.isArray(parsed.responses);
  $("response-status").textContent = isBatch
    ? `Batch answer: ${status} (the $batch call itself) · ${ms} ms`
    : `Status: ${status} · ${ms} ms`;
  $("response-status").className = `status-line ${status < 400 ? "ok" : "bad"}`;
  fill($("preview"), parsed === null ? el("pre", {}, text) : jsonView(parsed));
  fill($("batch"), isBatch ? batchTable(parsed.responses) : []);
  fill($("response-headers").tBodies[0],
    responseHeaders.map(([n, v]) => el("tr", {}, el("th", { scope: "row" }, n), el("td", {}, v))));
  selectTab("tab-preview");
  showToken();
}

function batchTable(responses) {
  const table = el("table", { class: "batch" },
    el("caption", {}, "Batch responses"),
    el("thead", {}, el("tr", {},
      ["Id", "Method", "URL", "Status", "Error code"].map((h) => el("th", { scope: "col" }, h)))));
  const requests = (() => { try { return JSON.parse($("body").value).requests || []; } catch { return []; } })();
  const body = el("tbody");
  // The answers in the order Graph gave them: the order they completed.
  responses.forEach((item, index) => {
    const request = requests.find((r) => String(r.id).toLowerCase() === String(item.id).toLowerCase()) || {};
    const code = item.body?.error?.code ?? "";
    const failed = Number(item.status) >= 400;
    const detailId = `batch-item-${index}`;
    const toggle = el("button", { type: "button", "aria-expanded": "false", "aria-controls": detailId,
      "aria-label": `Details of item ${item.id}` }, "▸");
    const detail = el("tr", { id: detailId, class: "detail", hidden: true },
      el("td", { colspan: 5 },
        el("h4", {}, "Headers"), jsonView(item.headers || {}),
        el("h4", {}, "Body"), jsonView(item.body ?? null)));
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "▾" : "▸";
      detail.hidden = !open;
    });
    body.append(
      el("tr", { class: failed ? "failed" : "" },
        el("td", {}, toggle, " ", String(item.id)),
        el("td", {}, request.method || ""),
        el("td", { class: "url" }, request.url || ""),
        statusCell(item.status),
        el("td", { class: failed ? "code bad" : "code" }, failed ? `⚠ ${code}` : "")),
      detail);
  });
  table.append(body);
  return table;
}

function showToken() {
  const token = currentToken();
  const dl = $("claims");
  if (!token) { fill(dl, el("dt", {}, "Not signed in")); $("granted").textContent = ""; return; }
  const c = claims(token.accessToken);
  const rows = [["scp", c.scp], ["aud", c.aud],
    ["exp", c.exp ? `${c.exp} (${new Date(c.exp * 1000).toISOString()})` : ""],
    ["tid", c.tid], ["upn", c.upn || c.preferred_username], ["appid", c.appid || c.azp]];
  fill(dl, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v ?? "")]));
  $("granted").textContent = c.scp || token.scope;
}

function showCode() {
  const method = $("method").value;
  const path = `/${$("version").value}${$("url").value}`;
  const body = $("body").value.trim();
  let headers = {};
  try { headers = requestHeaders(); } catch { headers = {}; }
  const quote = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  const curl = [`curl -X ${method} ${quote(config.graphUrl + path)}`,
    `  -H 'Authorization: Bearer '"$TOKEN"`,
    ...Object.entries(headers).map(([k, v]) => `  -H ${quote(`${k}: ${v}`)}`),
    ...(body && method !== "GET" ? [`  --data ${quote(body)}`] : [])].join(" \\\n");
  $("code-curl").textContent = curl;
  let requests = null;
  try { requests = JSON.parse(body).requests; } catch { requests = null; }
  const isBatch = /\$batch$/.test($("url").value) && Array.isArray(requests);
  $("code-batch").textContent = isBatch
    ? `cat > job.json <<'EOF'\n${JSON.stringify({ requests }, null, 2)}\nEOF\ngraphlab batch run job.json${$("version").value === "beta" ? " --beta" : ""}`
    : `graphlab graph ${method} ${quote(path)}${body && method !== "GET" ? ` --body ${quote(body)}` : ""}`;
  const items = isBatch ? requests : [{ id: "1", method, url: $("url").value, body: body ? safeJson(body) : undefined }];
  const variant = (m) => ({ GET: "Get", POST: "Post", PUT: "Put", PATCH: "Patch", DELETE: "Delete" })[String(m || "GET").toUpperCase()] || "Get";
  $("code-rust").textContent = [
    "use graphlab_batch::{BatchClient, BatchItem, Config, Method, Version};",
    "",
    "let items = vec![",
    ...items.map((r) => `    BatchItem::new(${JSON.stringify(String(r.id))}, Method::${variant(r.method)}, ${JSON.stringify(r.url || "")})` +
      (r.body !== undefined ? `\n        .json(serde_json::json!(${JSON.stringify(r.body)}))` : "") +
      (r.dependsOn || []).map((d) => `\n        .depends_on(${JSON.stringify(String(d))})`).join("") + ","),
    "];",
    `let config = Config { version: Version::${$("version").value === "beta" ? "Beta" : "V1"}, ..Config::default() };`,
    `let client = BatchClient::new(${JSON.stringify(config.graphUrl)}, tokens, config);`,
    "let report = client.run(items).await?;",
    "for (id, outcome) in &report.outcomes {",
    "    println!(\"{id}: {:?}\", outcome.status());",
    "}",
].join("\n");
}

function safeJson(text) {
  try { return JSON.parse(text); } catch { return undefined; }
}

function history() {
  try { return JSON.parse(localStorage.getItem(HISTORY) || "[]"); } catch { return []; }
}

function remember(entry) {
  // Never the Authorization header: only what the form held.
  const all = [entry, ...history()].slice(0, HISTORY_MAX);
  try { localStorage.setItem(HISTORY, JSON.stringify(all)); } catch { /* full: keep going */ }
  showHistory();
}

function showHistory() {
  fill($("history"), history().map((h) =>
    el("li", {}, `${h.method} ${h.url.replace(config.graphUrl, "")} → ${h.status} (${h.ms} ms)`)));
}

/** HAR 1.2 (W3C Web Performance WG's draft, as browsers export it). */
function exportHar() {
  const headers = (obj) => Object.entries(obj).map(([name, value]) => ({ name, value }));
  const har = { log: { version: "1.2", creator: { name: "graphlab studio", version: "1" },
    entries: history().map((h) => ({
      startedDateTime: h.startedAt, time: h.ms,
      request: { method: h.method, url: h.url, httpVersion: "HTTP/1.1", cookies: [],
        headers: headers(h.requestHeaders || {}), queryString: [], headersSize: -1,
        bodySize: (h.requestBody || "").length,
        ...(h.requestBody ? { postData: { mimeType: "application/json", text: h.requestBody } } : {}) },
      response: { status: h.status, statusText: h.statusText || "", httpVersion: "HTTP/1.1",
        cookies: [], headers: (h.responseHeaders || []).map(([name, value]) => ({ name, value })),
        content: { size: (h.responseText || "").length, mimeType: "application/json", text: h.responseText || "" },
        redirectURL: "", headersSize: -1, bodySize: -1 },
      cache: {}, timings: { send: 0, wait: h.ms, receive: 0 },
    })) } };
  const url = URL.createObjectURL(new Blob([JSON.stringify(har, null, 2)], { type: "application/json" }));
  const a = el("a", { href: url, download: "graphlab-studio.har" });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

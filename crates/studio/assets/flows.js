// The lab's flows, drawn by graphlab-flow (SVG from /api/flows), and their
// runs from the run history: a run's picture (each action coloured and
// marked by status, with duration and retries) and its actions' inputs and
// outputs.

import { el, fill, jsonView, message } from "./ui.js";

const $ = (id) => document.getElementById(id);

export function init() {
  $("flows-refresh").addEventListener("click", refresh);
}

async function api(path) {
  const response = await fetch(path);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error?.message || `${path}: ${response.status}`);
  return body;
}

/** The SVG text from the studio's own API, parsed as SVG (not HTML). */
function picture(svgText) {
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = doc.documentElement;
  return svg.nodeName === "svg" ? document.importNode(svg, true) : el("p", {}, "The drawing could not be read.");
}

export async function refresh() {
  message("");
  try {
    const [{ flows }, { runs }] = await Promise.all([api("/api/flows"), api("/api/runs")]);
    fill($("flows-content"), flows.length ? flows.map((f) => el("figure", { class: "flow" },
      f.error ? el("p", { class: "bad" }, f.error) : el("div", { class: "picture" }, picture(f.svg)),
      el("figcaption", {}, `${f.name || f.file} (${f.file})`))) : el("p", {}, "No flow files found."));
    fill($("runs").tBodies[0], runs.length ? runs.map((r) => el("tr", {},
      el("td", {}, el("button", { type: "button", onclick: () => showRun(r.id) }, r.id)),
      el("td", {}, r.workflow),
      el("td", { class: `status ${r.status === "Succeeded" ? "ok" : "bad"}` }, r.status),
      el("td", {}, r.startTime)))
      : el("tr", {}, el("td", { colspan: 4 }, "No runs yet: graphlab flow run FILE")));
  } catch (e) {
    message(`Flows: ${e.message}`);
  }
}

function records(actions, prefix = "") {
  return Object.entries(actions || {}).flatMap(([name, r]) => [
    [`${prefix}${name}`, r],
    ...records(r.actions, `${prefix}${name} › `),
    ...(r.repetitions || []).flatMap((rep) => records(rep.actions, `${prefix}${name} [${rep.index}] › `)),
  ]);
}

async function showRun(id) {
  try {
    const { run, svg, file } = await api(`/api/runs/${encodeURIComponent(id)}`);
    fill($("run-detail"),
      el("h3", {}, `Run ${run.id}: ${run.status}`),
      svg ? el("div", { class: "picture" }, picture(svg)) : el("p", {}, `No flow file draws ${run.workflow}.`),
      file ? el("p", { class: "help" }, `Drawn from ${file}.`) : null,
      el("h4", {}, "Actions"),
      records(run.actions).map(([name, r]) => el("details", { class: "action" },
        el("summary", {}, `${name}: ${r.status}${r.code ? ` (${r.code})` : ""}`,
          (r.attempts || []).length > 1 ? ` · ${r.attempts.length - 1} retries` : ""),
        el("h5", {}, "Inputs"), jsonView(r.inputs ?? null, null, false),
        el("h5", {}, "Outputs"), jsonView(r.outputs ?? null, null, false),
        r.error ? [el("h5", {}, "Error"), jsonView(r.error)] : null)));
    $("run-detail").querySelector("h3").focus?.();
  } catch (e) {
    message(`Run ${id}: ${e.message}`);
  }
}

// The emulator's fault injection, through the studio's /api/faults (which
// adds the admin secret: it never reaches this page).

import { message } from "./ui.js";

const $ = (id) => document.getElementById(id);

export function init(config) {
  if (!config.faults) {
    $("faults-status").textContent = config.targetKind === "emulator"
      ? "The emulator's admin secret was not found: start the emulator with graphlab tenant serve."
      : "Fault injection exists only on the emulated tenant.";
  }
  $("faults-form").addEventListener("submit", (e) => { e.preventDefault(); save($("faults").value); });
  $("faults-clear").addEventListener("click", () => save(JSON.stringify({ rules: [] })));
  $("faults-reload").addEventListener("click", refresh);
}

async function call(method, body) {
  const response = await fetch("/api/faults", {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error?.message || `${response.status}`);
  return answer;
}

export async function refresh() {
  try {
    const settings = await call("GET");
    $("faults").value = JSON.stringify(settings, null, 2);
    $("faults-status").textContent = "Current settings loaded.";
  } catch (e) {
    $("faults-status").textContent = `Could not read the fault settings: ${e.message}`;
  }
}

async function save(text) {
  message("");
  try {
    JSON.parse(text);
  } catch (e) {
    message(`Fault settings: not valid JSON: ${e.message}`);
    return;
  }
  try {
    const settings = await call("PUT", text);
    $("faults").value = JSON.stringify(settings, null, 2);
    $("faults-status").textContent = "Saved.";
  } catch (e) {
    message(`The emulator refused the settings: ${e.message}`);
  }
}

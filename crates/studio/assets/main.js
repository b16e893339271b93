// graphlab studio's page: reads /api/config, completes a sign-in that
// comes back from the identity platform, and shows one page at a time
// (#explorer, #tenant, #flows, #faults).

import { message } from "./ui.js";
import { completeSignIn, currentToken, signIn, signOut } from "./auth.js";
import * as explorer from "./explorer.js";
import * as tenant from "./tenant.js";
import * as flows from "./flows.js";
import * as faults from "./faults.js";

const $ = (id) => document.getElementById(id);
const PAGES = ["explorer", "tenant", "flows", "faults"];

function showPage() {
  const page = PAGES.includes(location.hash.slice(1)) ? location.hash.slice(1) : "explorer";
  for (const p of PAGES) {
    $(`page-${p}`).hidden = p !== page;
    const link = document.querySelector(`a[data-page=${p}]`);
    if (p === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (page === "tenant") tenant.refresh();
  if (page === "flows") flows.refresh();
  if (page === "faults") faults.refresh();
}

function showAccount() {
  const token = currentToken();
  $("sign-in").hidden = Boolean(token);
  $("sign-out").hidden = !token;
  $("account-name").textContent = token
    ? `Signed in as ${token.idClaims.preferred_username || token.idClaims.name || "you"}`
    : "";
}

async function start() {
  const config = await (await fetch("/api/config")).json();
  $("target").textContent = config.targetKind === "emulator"
    ? `Emulated tenant: Graph at ${config.graphUrl}, sign-in at ${config.authorityUrl}`
    : `Microsoft's cloud: ${config.graphUrl}, tenant ${config.tenant}`;
  try {
    await completeSignIn(config);
  } catch (e) {
    message(`Sign-in failed: ${e.message}`);
  }
  $("sign-in").addEventListener("click", () => signIn(config));
  $("sign-out").addEventListener("click", () => { signOut(); showAccount(); });
  explorer.init(config);
  tenant.init(config);
  flows.init(config);
  faults.init(config);
  showAccount();
  window.addEventListener("hashchange", showPage);
  showPage();
}

start().catch((e) => message(`The studio could not start: ${e.message}`));

// Sign-in as a single-page application: the authorization code flow with
// PKCE (S256, WebCrypto) against the target's identity platform v2.0
// endpoints, redirecting back to the studio. The token is kept in
// sessionStorage (gone with the tab) and only ever sent to Graph.
// Microsoft identity platform: "Microsoft identity platform and OAuth 2.0
// authorization code flow" (single-page apps redeem the code with PKCE,
// cross-origin, with no client secret).

const KEY = "graphlab-studio-token";
const PENDING = "graphlab-studio-pending";
export const DEFAULT_SCOPES = ["openid", "profile", "offline_access", "User.Read",
  "Mail.Read", "Calendars.Read", "Group.ReadWrite.All", "Directory.Read.All"];

function base64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(n) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

function endpoint(config, what) {
  return `${config.authorityUrl}/${encodeURIComponent(config.tenant)}/oauth2/v2.0/${what}`;
}

export function redirectUri() {
  return `${location.origin}/`;
}

/** Starts a sign-in: to the identity platform's authorize page. */
export async function signIn(config, scopes = DEFAULT_SCOPES, prompt = null) {
  const verifier = random(32);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, scopes, page: location.hash }));
  const query = new URLSearchParams({
    client_id: config.clientId,
    response_type: "code",
    redirect_uri: redirectUri(),
    response_mode: "query",
    scope: scopes.join(" "),
    state,
    code_challenge: base64url(digest),
    code_challenge_method: "S256",
  });
  if (prompt) query.set("prompt", prompt);
  location.assign(`${endpoint(config, "authorize")}?${query}`);
}

/** After the redirect: redeems the code (cross-origin, with the verifier). */
export async function completeSignIn(config) {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", `/${pending?.page || ""}`);
  if (params.has("error")) {
    throw new Error(`${params.get("error")}: ${params.get("error_description") || ""}`);
  }
  if (!pending || pending.state !== params.get("state")) {
    throw new Error("the sign-in answer does not match the request made here (state); sign in again");
  }
  const body = new URLSearchParams({
    client_id: config.clientId,
    grant_type: "authorization_code",
    code: params.get("code"),
    redirect_uri: redirectUri(),
    code_verifier: pending.verifier,
    scope: pending.scopes.join(" "),
  });
  const response = await fetch(endpoint(config, "token"), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`the token endpoint answered ${response.status}: ${answer.error_description || answer.error || ""}`);
  }
  const token = {
    accessToken: answer.access_token,
    scope: answer.scope || "",
    expiresAt: Date.now() + (Number(answer.expires_in) || 3600) * 1000,
    idClaims: answer.id_token ? claims(answer.id_token) : {},
  };
  sessionStorage.setItem(KEY, JSON.stringify(token));
  return token;
}

export function currentToken() {
  const token = JSON.parse(sessionStorage.getItem(KEY) || "null");
  if (!token || token.expiresAt <= Date.now()) return null;
  return token;
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** A JWT's claims, decoded here (never sent anywhere). */
export function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

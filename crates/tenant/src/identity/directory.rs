//! What the identity platform reads from the directory: client applications,
//! their redirect URIs and secrets, published Graph scopes, and consent.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::error::AadError;
use crate::{
    GRAPH_APP_ID, GRAPH_RESOURCE,
    routes::hash_secret,
    seed::{GRAPH_SCOPES, GRAPH_SP_ID, TENANT_ID},
    store::{Col, Store, WriteTx},
};

/// A client application as the token endpoint sees it.
#[derive(Debug, Clone)]
pub struct ClientApp {
    /// Application (client) id.
    pub app_id: String,
    /// Display name.
    pub name: String,
    /// The application object id, for apps registered in the tenant.
    pub object_id: Option<String>,
    /// Redirect URIs of the web platform (confidential: a secret is needed).
    pub web: Vec<String>,
    /// Redirect URIs of the mobile/desktop platform (public).
    pub public: Vec<String>,
    /// Redirect URIs of the single-page application platform (public; the
    /// code must be redeemed from the browser, cross-origin, with PKCE).
    pub spa: Vec<String>,
    /// "Allow public client flows" (device code without a secret).
    pub fallback_public: bool,
    /// Whether the app has any client secret registered.
    pub has_secrets: bool,
    /// Graph delegated permissions configured on the app (static consent).
    pub static_scopes: Vec<String>,
    /// Graph application permissions configured on the app.
    pub static_roles: Vec<String>,
}

/// OpenID Connect scopes, which need no consent.
pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Looks a client up by application id.
pub fn find_client(store: &Store, client_id: &str) -> Option<ClientApp> {
    if let Some(app) = store.scan(Col::Applications, |m| {
        m.values().find(|a| a["appId"] == client_id).cloned()
    }) {
        let (static_scopes, static_roles) = static_permissions(store, &app);
        return Some(ClientApp {
            app_id: client_id.to_owned(),
            name: app["displayName"].as_str().unwrap_or("").to_owned(),
            object_id: app["id"].as_str().map(str::to_owned),
            web: strings(&app["web"]["redirectUris"]),
            public: strings(&app["publicClient"]["redirectUris"]),
            spa: strings(&app["spa"]["redirectUris"]),
            fallback_public: app["isFallbackPublicClient"].as_bool().unwrap_or(false),
            has_secrets: app["_secretHashes"].as_array().is_some_and(|a| !a.is_empty()),
            static_scopes,
            static_roles,
        });
    }
    // Well-known first-party public clients exist only as service principals.
    let sp = store.scan(Col::ServicePrincipals, |m| {
        m.values()
            .find(|sp| sp["appId"] == client_id && sp["_publicClient"] == true)
            .cloned()
    })?;
    let spa = strings(&sp["_spaRedirectUris"]);
    Some(ClientApp {
        app_id: client_id.to_owned(),
        name: sp["displayName"].as_str().unwrap_or("").to_owned(),
        object_id: None,
        web: Vec::new(),
        // A first-party SPA's registration lives in its home tenant; the
        // seed keeps its spa redirect URIs beside the service principal.
        public: strings(&sp["replyUrls"])
            .into_iter()
            .filter(|u| !spa.contains(u))
            .collect(),
        spa,
        fallback_public: true,
        has_secrets: false,
        static_scopes: Vec::new(),
        static_roles: Vec::new(),
    })
}

/// The Graph permissions an app's `requiredResourceAccess` names.
fn static_permissions(store: &Store, app: &Value) -> (Vec<String>, Vec<String>) {
    let Some(graph) = store.get(Col::ServicePrincipals, GRAPH_SP_ID) else {
        return (vec![], vec![]);
    };
    let name_of = |list: &str, id: &str| {
        graph[list]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["id"] == id))
            .and_then(|p| p["value"].as_str())
            .map(str::to_owned)
    };
    let mut scopes = Vec::new();
    let mut roles = Vec::new();
    for entry in app["requiredResourceAccess"].as_array().into_iter().flatten() {
        if entry["resourceAppId"] != GRAPH_APP_ID {
            continue;
        }
        for access in entry["resourceAccess"].as_array().into_iter().flatten() {
            let id = access["id"].as_str().unwrap_or("");
            match access["type"].as_str() {
                Some("Scope") => scopes.extend(name_of("oauth2PermissionScopes", id)),
                Some("Role") => roles.extend(name_of("appRoles", id)),
                _ => {}
            }
        }
    }
    (scopes, roles)
}

/// Whether a client secret matches one of the app's secrets unexpired at
/// `now` (the tenant's clock).
pub fn secret_matches(
    store: &Store,
    client_id: &str,
    secret: &str,
    now: time::OffsetDateTime,
) -> bool {
    store.scan(Col::Applications, |m| {
        m.values().filter(|a| a["appId"] == client_id).any(|app| {
            app["_secretHashes"].as_array().into_iter().flatten().any(|h| {
                let salt = h["salt"].as_str().unwrap_or("");
                let unexpired = h["endDateTime"]
                    .as_str()
                    .and_then(|e| {
                        time::OffsetDateTime::parse(
                            e,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    })
                    .is_none_or(|end| end > now);
                unexpired
                    && h["hash"].as_str() == Some(hash_secret(salt, secret).as_str())
            })
        })
    })
}

/// Whether a redirect URI is registered. Loopback URIs of public and
/// single-page clients match on any port: "the port component ... is ignored
/// for the purposes of matching a redirect URI" (Microsoft Learn, "Redirect
/// URI (reply URL) best practices and limitations", localhost exceptions).
pub fn redirect_kind(client: &ClientApp, uri: &str) -> Option<RedirectKind> {
    if client.web.iter().any(|r| r == uri) {
        return Some(RedirectKind::Web);
    }
    if client.spa.iter().any(|r| r == uri || same_loopback(r, uri)) {
        return Some(RedirectKind::Spa);
    }
    if client.public.iter().any(|r| r == uri || same_loopback(r, uri)) {
        return Some(RedirectKind::Public);
    }
    None
}

/// The origin (`scheme://host[:port]`, lower-cased) of a URL, if it has one.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())?;
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// Whether a browser at `origin` may redeem the client's SPA codes: the
/// origin of one of its `spa` redirect URIs (a loopback one on any port).
pub(crate) fn spa_origin_allowed(client: &ClientApp, origin: &str) -> bool {
    let Some(origin) = origin_of(origin) else { return false };
    client.spa.iter().filter_map(|r| origin_of(r)).any(|registered| {
        registered == origin
            || same_loopback(&format!("{registered}/"), &format!("{origin}/"))
    })
}

fn same_loopback(registered: &str, given: &str) -> bool {
    let split = |u: &str| -> Option<(String, String)> {
        let rest = u.strip_prefix("http://")?;
        let (hostport, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        let host = hostport.split(':').next()?;
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
            .then(|| (host.to_owned(), path.to_owned()))
    };
    match (split(registered), split(given)) {
        (Some((h1, p1)), Some((h2, p2))) => {
            h1 == h2 && p1.trim_end_matches('/') == p2.trim_end_matches('/')
        }
        _ => false,
    }
}

/// Which platform a redirect URI belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RedirectKind {
    /// Web: the client is confidential and must send its secret.
    Web,
    /// Mobile and desktop: a public client.
    Public,
    /// Single-page application: a public client in a browser.
    Spa,
}

/// Scopes asked for in a v2 request, split into Graph's and OIDC's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requested {
    /// Graph permission names.
    pub graph: BTreeSet<String>,
    /// OIDC scopes (`openid`, `profile`, `email`, `offline_access`).
    pub oidc: BTreeSet<String>,
}

/// Whether Graph publishes this delegated permission, and whether it needs an admin.
pub fn scope_admin_only(name: &str) -> Option<bool> {
    GRAPH_SCOPES
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, admin)| *admin)
}

fn canonical(name: &str) -> Option<&'static str> {
    GRAPH_SCOPES.iter().find(|(s, _)| s.eq_ignore_ascii_case(name)).map(|(s, _)| *s)
}

/// Parses a v2 `scope` parameter. `.default` stands for the app's static
/// permissions.
pub fn parse_scopes(raw: &str, client: &ClientApp) -> Result<Requested, AadError> {
    let mut out = Requested::default();
    for item in raw.split_whitespace() {
        if let Some(oidc) = OIDC_SCOPES.iter().find(|s| s.eq_ignore_ascii_case(item)) {
            out.oidc.insert((*oidc).to_owned());
            continue;
        }
        let name = item
            .strip_prefix(GRAPH_RESOURCE)
            .or_else(|| item.strip_prefix(GRAPH_APP_ID))
            .map(|s| s.trim_start_matches('/'))
            .unwrap_or(item);
        if name.eq_ignore_ascii_case(".default") {
            out.graph.extend(client.static_scopes.iter().cloned());
            continue;
        }
        if item.contains("://") && !item.starts_with(GRAPH_RESOURCE) {
            return Err(AadError::bad(
                "invalid_resource",
                500011,
                format!(
                    "The resource principal named {item} was not found in the tenant named {TENANT_ID}."
                ),
            ));
        }
        match canonical(name) {
            Some(scope) => {
                out.graph.insert(scope.to_owned());
            }
            _ => {
                return Err(AadError::bad(
                    "invalid_scope",
                    70011,
                    format!(
                        "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: '{item}'."
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The Graph scopes consented for `client` and `user` (organisation-wide
/// grants and the user's own).
pub fn granted(
    store: &Store,
    client_sp: Option<&str>,
    user_id: &str,
) -> BTreeSet<String> {
    let Some(sp) = client_sp else { return BTreeSet::new() };
    store.scan(Col::Grants, |m| {
        m.values()
            .filter(|g| g["clientId"] == sp && g["resourceId"] == GRAPH_SP_ID)
            .filter(|g| {
                g["consentType"] == "AllPrincipals" || g["principalId"] == user_id
            })
            .flat_map(|g| {
                g["scope"]
                    .as_str()
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    })
}

/// The service principal of a client in this tenant, if it has one.
pub fn service_principal(store: &Store, client_id: &str) -> Option<String> {
    store.scan(Col::ServicePrincipals, |m| {
        m.values()
            .find(|sp| sp["appId"] == client_id)
            .and_then(|sp| sp["id"].as_str().map(str::to_owned))
    })
}

/// Makes sure the client has a service principal (consent creates one, as in
/// Entra) and returns its id.
pub fn ensure_service_principal(tx: &mut WriteTx<'_>, client: &ClientApp) -> String {
    if let Some(sp) = tx
        .committed(Col::ServicePrincipals)
        .find(|sp| sp["appId"] == client.app_id.as_str())
    {
        return sp["id"].as_str().unwrap_or_default().to_owned();
    }
    let id = uuid::Uuid::new_v4().to_string();
    tx.put(
        Col::ServicePrincipals,
        &id,
        json!({
            "id": id, "appId": client.app_id, "appDisplayName": client.name, "displayName": client.name,
            "servicePrincipalType": "Application", "accountEnabled": true,
            "appOwnerOrganizationId": TENANT_ID, "servicePrincipalNames": [client.app_id],
            "replyUrls": client.web, "oauth2PermissionScopes": [], "appRoles": [], "tags": [],
        }),
    );
    id
}

/// Records consent: organisation-wide (`principal` = `None`) or for one user.
pub fn record_grant(
    tx: &mut WriteTx<'_>,
    client_sp: &str,
    principal: Option<&str>,
    scopes: &BTreeSet<String>,
) {
    if scopes.is_empty() {
        return;
    }
    let existing = tx
        .committed(Col::Grants)
        .find(|g| {
            g["clientId"] == client_sp
                && g["resourceId"] == GRAPH_SP_ID
                && match principal {
                    None => g["consentType"] == "AllPrincipals",
                    Some(p) => g["consentType"] == "Principal" && g["principalId"] == p,
                }
        })
        .cloned();
    let (id, mut all): (String, BTreeSet<String>) = match &existing {
        Some(g) => (
            g["id"].as_str().unwrap_or_default().to_owned(),
            g["scope"]
                .as_str()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        ),
        None => (uuid::Uuid::new_v4().simple().to_string(), BTreeSet::new()),
    };
    all.extend(scopes.iter().cloned());
    let scope = all.into_iter().collect::<Vec<_>>().join(" ");
    tx.put(
        Col::Grants,
        &id,
        json!({
            "id": id, "clientId": client_sp, "resourceId": GRAPH_SP_ID, "scope": scope,
            "consentType": if principal.is_some() { "Principal" } else { "AllPrincipals" },
            "principalId": principal,
        }),
    );
}

/// Whether `resource` names Microsoft Graph (its URI or its app id).
pub(crate) fn is_graph(resource: &str) -> bool {
    let r = resource.trim_end_matches('/');
    r.eq_ignore_ascii_case(GRAPH_RESOURCE) || r.eq_ignore_ascii_case(GRAPH_APP_ID)
}

/// AADSTS500011: a resource the tenant does not have.
pub(crate) fn unknown_resource(resource: &str) -> AadError {
    AadError::bad(
        "invalid_resource",
        500011,
        format!(
            "The resource principal named {resource} was not found in the tenant named {TENANT_ID}."
        ),
    )
}

//! Layer 2: what a Swagger 2.0 document and a package need beyond the
//! schemas — references that resolve, well-formed paths and parameters, at
//! most one body, responses present, declared security schemes, an OAuth
//! connection parameter to go with an OAuth definition — and no secrets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::Sink;
use crate::json_path::{JPath, resolve};

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// The structural checks of an API definition.
pub(super) fn definition(doc: &Value, sink: &mut Sink<'_>) {
    refs(doc, doc, &JPath::root(), sink);
    let root = JPath::root();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        paths_and_operations(doc, paths, &root.key("paths"), sink);
    }
    security(doc, sink);
}

/// Every `$ref` string: local ones must resolve, others are refused.
fn refs(doc: &Value, at: &Value, path: &JPath, sink: &mut Sink<'_>) {
    match at {
        Value::Object(map) => {
            for (key, value) in map {
                let here = path.key(key);
                if key == "$ref" {
                    if let Some(target) = value.as_str() {
                        match target.strip_prefix('#') {
                            Some(pointer) if resolve(doc, pointer).is_some() => {}
                            Some(_) => sink.error(
                                "swagger.ref-unresolved",
                                &here,
                                format!("{target} does not exist in this file"),
                            ),
                            None => sink.error(
                                "swagger.ref-external",
                                &here,
                                format!(
                                    "{target} points outside this file; a connector \
                                     definition must be self-contained"
                                ),
                            ),
                        }
                    }
                } else {
                    refs(doc, value, &here, sink);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refs(doc, item, &path.index(i), sink);
            }
        }
        _ => {}
    }
}

/// The names in a path's `{templates}`, or why the path is malformed.
fn template_names(path: &str) -> Result<Vec<String>, String> {
    if !path.starts_with('/') {
        return Err("does not start with /".into());
    }
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("has a } without a {".into());
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("has a { without a }")?;
        let name = &after[..close];
        if name.is_empty() || name.contains('{') {
            return Err("has an empty or nested {template}".into());
        }
        if names.iter().any(|n| n == name) {
            return Err(format!("names {{{name}}} twice"));
        }
        names.push(name.to_owned());
        rest = &after[close + 1..];
    }
    Ok(names)
}

fn paths_and_operations(
    doc: &Value,
    paths: &Map<String, Value>,
    at: &JPath,
    sink: &mut Sink<'_>,
) {
    let mut shapes: HashMap<String, String> = HashMap::new();
    let mut operation_ids: BTreeMap<String, JPath> = BTreeMap::new();
    for (path, item) in paths {
        if path.starts_with("x-") {
            continue;
        }
        let here = at.key(path);
        let names = match template_names(path) {
            Ok(names) => names,
            Err(why) => {
                sink.error("swagger.path-syntax", &here, format!("path {path} {why}"));
                continue;
            }
        };
        let mut shape = path.clone();
        for name in &names {
            shape = shape.replace(&format!("{{{name}}}"), "{}");
        }
        if let Some(first) = shapes.insert(shape, path.clone()) {
            sink.error(
                "swagger.path-duplicate",
                &here,
                format!("path {path} is the same as {first} but for its template names"),
            );
        }
        let Some(item) = item.as_object() else { continue };
        let shared = params(
            doc,
            item.get("parameters").and_then(Value::as_array),
            &here.key("parameters"),
        );
        for method in METHODS {
            let Some(operation) = item.get(method).and_then(Value::as_object) else {
                continue;
            };
            let op_path = here.key(method);
            operation_checks(doc, path, &names, &shared, operation, &op_path, sink);
            if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                let id_path = op_path.key("operationId");
                if let Some(first) = operation_ids.get(id) {
                    sink.error(
                        "swagger.operation-id-duplicate",
                        &id_path,
                        format!("operationId {id} is already used at {first}"),
                    );
                } else {
                    operation_ids.insert(id.to_owned(), id_path);
                }
            }
        }
    }
}

/// A parameter, with `$ref`s followed, and where it was written.
struct Param<'a> {
    value: &'a Map<String, Value>,
    at: JPath,
}

fn params<'a>(
    doc: &'a Value,
    list: Option<&'a Vec<Value>>,
    at: &JPath,
) -> Vec<Param<'a>> {
    let Some(list) = list else { return Vec::new() };
    list.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let target = match p.get("$ref").and_then(Value::as_str) {
                Some(r) => resolve(doc, r.strip_prefix('#')?)?,
                None => p,
            };
            Some(Param { value: target.as_object()?, at: at.index(i) })
        })
        .collect()
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn operation_checks(
    doc: &Value,
    path: &str,
    names: &[String],
    shared: &[Param<'_>],
    operation: &Map<String, Value>,
    at: &JPath,
    sink: &mut Sink<'_>,
) {
    let own_at = at.key("parameters");
    let own = params(doc, operation.get("parameters").and_then(Value::as_array), &own_at);
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for p in &own {
        let key = (text(p.value, "name").to_owned(), text(p.value, "in").to_owned());
        if !seen.insert(key.clone()) {
            sink.error(
                "swagger.param-duplicate",
                &p.at,
                format!("a second parameter named {} in {}", key.0, key.1),
            );
        }
    }
    // Path-level parameters apply unless the operation overrides them.
    let inherited: Vec<&Param<'_>> = shared
        .iter()
        .filter(|p| {
            let key = (text(p.value, "name").to_owned(), text(p.value, "in").to_owned());
            !seen.contains(&key)
        })
        .collect();
    let all: Vec<&Param<'_>> = own.iter().chain(inherited).collect();

    let bodies: Vec<_> = all.iter().filter(|p| text(p.value, "in") == "body").collect();
    if let Some(second) = bodies.get(1) {
        sink.error(
            "swagger.body-multiple",
            &second.at,
            format!("{} body parameters; an operation takes at most one", bodies.len()),
        );
    }
    if let Some(form) = all.iter().find(|p| text(p.value, "in") == "formData")
        && !bodies.is_empty()
    {
        sink.error(
            "swagger.body-and-form",
            &form.at,
            "an operation cannot take both a body and formData parameters",
        );
    }
    for p in all.iter().filter(|p| text(p.value, "in") == "path") {
        let name = text(p.value, "name");
        if !names.iter().any(|n| n == name) {
            sink.error(
                "swagger.path-param-unused",
                &p.at,
                format!("path parameter {name} is not in the path {path}"),
            );
        }
        if p.value.get("required") != Some(&Value::Bool(true)) {
            sink.error(
                "swagger.path-param-required",
                &p.at.key("required"),
                format!("path parameter {name} must say required: true"),
            );
        }
    }
    for name in names {
        let declared = all
            .iter()
            .any(|p| text(p.value, "in") == "path" && text(p.value, "name") == name);
        if !declared {
            sink.error(
                "swagger.path-param-undeclared",
                at,
                format!("{{{name}}} in {path} has no parameter with in: path"),
            );
        }
    }
    let has_response = operation
        .get("responses")
        .and_then(Value::as_object)
        .is_some_and(|r| r.keys().any(|k| !k.starts_with("x-")));
    if !has_response {
        sink.error(
            "swagger.responses-missing",
            &at.key("responses"),
            "the operation has no responses",
        );
    }
}

/// Security requirements name defined schemes; an OAuth token URL is not the
/// authorize endpoint.
fn security(doc: &Value, sink: &mut Sink<'_>) {
    let root = JPath::root();
    let definitions = doc.get("securityDefinitions").and_then(Value::as_object);
    let mut requirements: Vec<(JPath, &Value)> = Vec::new();
    if let Some(list) = doc.get("security").and_then(Value::as_array) {
        requirements.extend(
            list.iter().enumerate().map(|(i, r)| (root.key("security").index(i), r)),
        );
    }
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                let op = item.get(method);
                if let Some(list) =
                    op.and_then(|o| o.get("security")).and_then(Value::as_array)
                {
                    let at = root.key("paths").key(path).key(method).key("security");
                    requirements
                        .extend(list.iter().enumerate().map(|(i, r)| (at.index(i), r)));
                }
            }
        }
    }
    for (at, requirement) in requirements {
        for name in requirement.as_object().into_iter().flat_map(|m| m.keys()) {
            if !definitions.is_some_and(|d| d.contains_key(name)) {
                sink.error(
                    "swagger.security-undefined",
                    &at.key(name),
                    format!("security scheme {name} is not in securityDefinitions"),
                );
            }
        }
    }
    for (name, scheme) in definitions.into_iter().flatten() {
        if scheme.get("type").and_then(Value::as_str) != Some("oauth2") {
            continue;
        }
        let token = scheme.get("tokenUrl").and_then(Value::as_str).unwrap_or_default();
        let authorize = scheme.get("authorizationUrl").and_then(Value::as_str);
        let bare =
            token.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
        if !token.is_empty() && (bare.ends_with("/authorize") || Some(token) == authorize)
        {
            sink.warning(
                "swagger.oauth-token-url",
                &root.key("securityDefinitions").key(name).key("tokenUrl"),
                format!(
                    "tokenUrl {token} is the authorize endpoint; Power Platform uses the \
                     identity provider's own token endpoint (…/oauth2/token)"
                ),
            );
        }
    }
}

/// Package-level checks of `apiProperties.json` against the definition.
pub(super) fn properties(doc: &Value, definition: Option<&Value>, sink: &mut Sink<'_>) {
    let root = JPath::root().key("properties").key("connectionParameters");
    let parameters =
        doc.pointer("/properties/connectionParameters").and_then(Value::as_object);
    let mut has_oauth = false;
    for (name, parameter) in parameters.into_iter().flatten() {
        if parameter.get("type").and_then(Value::as_str) != Some("oauthSetting") {
            continue;
        }
        has_oauth = true;
        let settings = parameter.get("oAuthSettings");
        if settings.and_then(|s| s.get("identityProvider")).and_then(Value::as_str)
            == Some("aad")
        {
            let custom = settings.and_then(|s| s.get("customParameters"));
            let missing: Vec<_> = ["loginUri", "tenantId", "resourceUri"]
                .into_iter()
                .filter(|k| {
                    custom
                        .and_then(|c| c.get(k))
                        .and_then(|v| v.get("value"))
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                })
                .collect();
            if !missing.is_empty() {
                sink.warning(
                    "properties.aad-parameters",
                    &root.key(name).key("oAuthSettings").key("customParameters"),
                    format!(
                        "an aad connection should set {} (the lab uses \
                         https://login.windows.net, common and https://graph.microsoft.com)",
                        missing.join(", ")
                    ),
                );
            }
        }
    }
    let sets = doc
        .pointer("/properties/connectionParameterSets/values")
        .and_then(Value::as_array);
    let in_sets = sets.into_iter().flatten().any(|set| {
        set.get("parameters").and_then(Value::as_object).is_some_and(|p| {
            p.values()
                .any(|v| v.get("type").and_then(Value::as_str) == Some("oauthSetting"))
        })
    });
    let wants_oauth = definition
        .and_then(|d| d.get("securityDefinitions"))
        .and_then(Value::as_object)
        .is_some_and(|d| {
            d.values().any(|s| s.get("type").and_then(Value::as_str) == Some("oauth2"))
        });
    if wants_oauth && !has_oauth && !in_sets {
        sink.error(
            "properties.oauth-missing",
            &root,
            "the API definition uses OAuth 2.0 but no connection parameter has type oauthSetting",
        );
    }
}

/// Keys whose non-empty string values are secrets.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['_', '-'], "");
    matches!(
        k.as_str(),
        "clientsecret"
            | "secret"
            | "password"
            | "apikey"
            | "accesstoken"
            | "refreshtoken"
            | "privatekey"
    )
}

/// A string that looks like a bearer token or a JWT.
fn looks_like_token(text: &str) -> bool {
    let t = text.trim();
    let jwt = t.starts_with("eyJ")
        && t.split('.').count() == 3
        && t.len() > 40
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '='));
    let bearer =
        t.len() > 20 && t.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer "));
    jwt || bearer
}

/// `secret.value`: a secret written into a file. The message never repeats
/// the value.
pub(super) fn secrets(at_value: &Value, path: &JPath, sink: &mut Sink<'_>) {
    match at_value {
        Value::Object(map) => {
            for (key, value) in map {
                let here = path.key(key);
                if let Some(text) = value.as_str()
                    && is_secret_key(key)
                    && !text.trim().is_empty()
                {
                    sink.error(
                        "secret.value",
                        &here,
                        format!(
                            "{key} holds a secret value; remove it (paconn takes the client \
                             secret as --secret, never from a file)"
                        ),
                    );
                } else {
                    secrets(value, &here, sink);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                secrets(item, &path.index(i), sink);
            }
        }
        Value::String(text) if looks_like_token(text) => {
            sink.error(
                "secret.value",
                path,
                "this string looks like an access token; remove it",
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(template_names("/a/{x}/b/{y}").unwrap(), ["x", "y"]);
        assert!(template_names("a").is_err());
        assert!(template_names("/a/{x").is_err());
        assert!(template_names("/a/x}").is_err());
        assert!(template_names("/a/{}").is_err());
        assert!(template_names("/a/{x}/{x}").is_err());
        assert!(template_names("/v1.0/$batch").unwrap().is_empty());
    }

    #[test]
    fn secret_keys_and_tokens() {
        assert!(is_secret_key("clientSecret"));
        assert!(is_secret_key("client_secret"));
        assert!(is_secret_key("API-Key"));
        assert!(!is_secret_key("x-ms-summary"));
        assert!(looks_like_token(
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefgh"
        ));
        assert!(looks_like_token("Bearer abcdefghijklmnopqrstuvwxyz"));
        assert!(!looks_like_token("https://graph.microsoft.com"));
    }
}

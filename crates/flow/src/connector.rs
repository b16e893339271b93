//! Custom connectors as the engine sees them: a package's swagger
//! (`apiDefinition.swagger.json`, as `graphlab connector export` or step 3
//! writes it), its operations, and which connector an action means.
//!
//! A Power Automate action names its operation by `host.operationId` and its
//! connector by `host.apiId` (`/providers/Microsoft.PowerApps/apis/NAME`) or
//! `host.connectionName`; a Logic Apps action by `method` and `path` and
//! its connection by `host.connection.name`
//! (`@parameters('$connections')['NAME']['connectionId']`).

use std::{collections::BTreeMap, path::Path};

use serde_json::Value;

/// One operation of a connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// `operationId`.
    pub id: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path template, with the swagger's `basePath` in front
    /// (`/v1.0/$batch`).
    pub path: String,
    /// Parameters: name → where (`path`, `query`, `header`, `body`).
    pub parameters: Vec<(String, String)>,
}

/// A connector package's operations.
#[derive(Debug, Clone)]
pub struct Connector {
    /// The name it was given (`--connector NAME=DIR`) or its title.
    pub name: String,
    /// `info.title`.
    pub title: String,
    /// The operations.
    pub operations: Vec<Operation>,
}

impl Connector {
    /// Reads `apiDefinition.swagger.json` from a package directory (or a
    /// swagger file given directly).
    pub fn load(path: &Path, name: Option<&str>) -> Result<Connector, String> {
        let file = if path.is_dir() {
            path.join(graphlab_connector::API_DEFINITION_FILE)
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let swagger: Value = serde_json::from_str(&text).map_err(|e| {
            format!("{}:{}:{}: not valid JSON: {e}", file.display(), e.line(), e.column())
        })?;
        Connector::from_swagger(&swagger, name)
            .map_err(|message| format!("{}: {message}", file.display()))
    }

    /// Reads a swagger document's operations.
    pub fn from_swagger(
        swagger: &Value,
        name: Option<&str>,
    ) -> Result<Connector, String> {
        let title = swagger
            .pointer("/info/title")
            .and_then(Value::as_str)
            .unwrap_or("connector")
            .to_owned();
        let base = swagger.get("basePath").and_then(Value::as_str).unwrap_or("/");
        let paths = swagger
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("the swagger has no 'paths' object")?;
        let mut operations = Vec::new();
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            let shared = item.get("parameters").and_then(Value::as_array);
            for (method, op) in item {
                let method = method.to_ascii_uppercase();
                if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                    .contains(&method.as_str())
                {
                    continue;
                }
                let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let mut parameters = Vec::new();
                for p in shared.into_iter().flatten().chain(
                    op.get("parameters").and_then(Value::as_array).into_iter().flatten(),
                ) {
                    if let (Some(n), Some(at)) = (
                        p.get("name").and_then(Value::as_str),
                        p.get("in").and_then(Value::as_str),
                    ) {
                        parameters.push((n.to_owned(), at.to_owned()));
                    }
                }
                operations.push(Operation {
                    id: id.to_owned(),
                    method,
                    path: join_path(base, path),
                    parameters,
                });
            }
        }
        if operations.is_empty() {
            return Err("the swagger has no operation with an operationId".into());
        }
        Ok(Connector { name: name.unwrap_or(&title).to_owned(), title, operations })
    }

    /// The operation with this `operationId`.
    pub fn by_id(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.id == id)
    }

    /// The operation whose method and path template match `method` and
    /// `path` (as an `ApiConnection` writes them; `/v1.0/$batch`, or a path
    /// with its template's parameters filled in, which are returned).
    pub fn by_route(
        &self,
        method: &str,
        path: &str,
    ) -> Option<(&Operation, Vec<(String, String)>)> {
        let path = path.split('?').next().unwrap_or(path);
        self.operations
            .iter()
            .filter(|o| o.method.eq_ignore_ascii_case(method))
            .find_map(|o| match_template(&o.path, path).map(|values| (o, values)))
    }
}

fn join_path(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.is_empty() { path.to_owned() } else { format!("{base}{path}") }
}

/// Matches `/teams/{id}/channels` against `/teams/abc/channels`.
fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut values = Vec::new();
    for (t, p) in t.iter().zip(&p) {
        if let Some(name) = t.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            values.push((name.to_owned(), (*p).to_owned()));
        } else if !t.eq_ignore_ascii_case(p) {
            return None;
        }
    }
    Some(values)
}

/// The connectors a run can use, and how actions find theirs.
#[derive(Debug, Clone, Default)]
pub struct Connectors {
    named: BTreeMap<String, Connector>,
}

impl Connectors {
    /// No connector.
    pub fn new() -> Connectors {
        Connectors::default()
    }

    /// Adds one.
    pub fn add(&mut self, connector: Connector) {
        self.named.insert(connector.name.clone(), connector);
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.named.is_empty()
    }

    /// The connector an action's `host` means: the only one there is, or
    /// the one whose name ends the api id, is the connection name, or is
    /// the `$connections` key.
    pub fn for_host(&self, host: &Value) -> Result<&Connector, String> {
        if self.named.len() == 1 {
            return Ok(self.named.values().next().expect("one connector"));
        }
        if self.named.is_empty() {
            return Err(
                "no connector package was given (--connector DIR, or run step 3 so \
                        that .lab/ has one)"
                    .into(),
            );
        }
        let mut names = Vec::new();
        if let Some(api) = host.get("apiId").and_then(Value::as_str) {
            names.push(api.rsplit('/').next().unwrap_or(api).to_owned());
        }
        if let Some(c) = host.get("connectionName").and_then(Value::as_str) {
            names.push(c.to_owned());
        }
        if let Some(c) = host.pointer("/connection/name").and_then(Value::as_str) {
            names.push(connections_key(c).unwrap_or(c).to_owned());
        }
        for name in &names {
            let bare = name.strip_prefix("shared_").unwrap_or(name);
            if let Some(c) = self.named.values().find(|c| {
                c.name.eq_ignore_ascii_case(name) || c.name.eq_ignore_ascii_case(bare)
            }) {
                return Ok(c);
            }
        }
        Err(format!(
            "no connector matches this action's host ({}); given: {}",
            if names.is_empty() {
                "no api id or connection name".to_owned()
            } else {
                names.join(", ")
            },
            self.named.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    }
}

/// `NAME` in `@parameters('$connections')['NAME']['connectionId']`.
pub fn connections_key(expression: &str) -> Option<&str> {
    let rest = expression
        .split("['$connections']")
        .nth(1)
        .or_else(|| expression.split("('$connections')").nth(1))?;
    let rest = rest.strip_prefix("['")?;
    rest.split("']").next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_templates_and_connection_keys_are_read() {
        assert_eq!(
            match_template("/teams/{id}/channels", "/teams/abc/channels"),
            Some(vec![("id".into(), "abc".into())])
        );
        assert_eq!(match_template("/v1.0/$batch", "/v1.0/$batch"), Some(vec![]));
        assert_eq!(match_template("/v1.0/$batch", "/beta/$batch"), None);
        assert_eq!(
            connections_key("@parameters('$connections')['graphbatch']['connectionId']"),
            Some("graphbatch")
        );
    }
}

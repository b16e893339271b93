//! Between Power Automate's and Logic Apps' shapes of the same definition.
//!
//! - Connector actions: Power Automate's `OpenApiConnection`
//!   (`inputs.host.{apiId, connectionName, operationId}`, `inputs.parameters`,
//!   `authentication: @parameters('$authentication')`) and Logic Apps'
//!   `ApiConnection` (`inputs.host.connection.name =
//!   @parameters('$connections')['NAME']['connectionId']`, `method`, `path`,
//!   `queries`, `headers`, `body`): the operation's method and path come from
//!   the connector's swagger, each parameter goes where its `in` says.
//! - The manual trigger: Power Automate's `Request` of kind `Button` and
//!   Logic Apps' `Request` of kind `Http`, with the same JSON schema (the
//!   designer's `x-ms-*` hints dropped on the way to Logic Apps, added back
//!   for Power Automate's text inputs).
//! - Parameters: `$authentication` exists only in Power Automate.
//!
//! Shapes: `FLOWS.md` ("Export shapes"), Microsoft's "Schema reference guide
//! for trigger and action types in Azure Logic Apps" (`ApiConnection`,
//! `Request`).

use serde_json::{Map, Value, json};

use super::ExportError;
use crate::{
    connector::Connector,
    definition::{MAX_NESTING, key_path},
};

/// Which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    ToLogicApp,
    ToPowerAutomate,
}

/// The connection an action names, on either side.
struct Names<'a> {
    connector: &'a Connector,
    /// Logic Apps: the `$connections` key; Power Automate: the api name
    /// (`shared_...`).
    key: &'a str,
}

/// The definition in Logic Apps' shape. `root` is its JSON path in the
/// source (for errors); `key` the `$connections` entry its connector
/// actions use.
pub fn to_logic_app(
    definition: &Value,
    root: &str,
    connector: &Connector,
    key: &str,
) -> Result<Value, ExportError> {
    convert(definition, root, &Names { connector, key }, Direction::ToLogicApp)
}

/// The definition in Power Automate's shape; `api_name` is the connector's
/// api name (`shared_ms-graph-batch-connector`).
pub fn to_power_automate(
    definition: &Value,
    root: &str,
    connector: &Connector,
    api_name: &str,
) -> Result<Value, ExportError> {
    convert(
        definition,
        root,
        &Names { connector, key: api_name },
        Direction::ToPowerAutomate,
    )
}

fn convert(
    definition: &Value,
    root: &str,
    names: &Names<'_>,
    direction: Direction,
) -> Result<Value, ExportError> {
    let Some(object) = definition.as_object() else {
        return Err(ExportError::source(root, "a workflow definition is a JSON object"));
    };
    let mut out = object.clone();
    let mut parameters =
        object.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    parameters
        .insert("$connections".to_owned(), json!({"defaultValue": {}, "type": "Object"}));
    match direction {
        Direction::ToLogicApp => {
            parameters.remove("$authentication");
        }
        Direction::ToPowerAutomate => {
            parameters.insert(
                "$authentication".to_owned(),
                json!({"defaultValue": {}, "type": "SecureObject"}),
            );
        }
    }
    out.insert("parameters".to_owned(), Value::Object(parameters));
    if let Some(triggers) = object.get("triggers").and_then(Value::as_object) {
        let mut converted = Map::new();
        for (name, trigger) in triggers {
            converted.insert(name.clone(), convert_trigger(trigger, direction));
        }
        out.insert("triggers".to_owned(), Value::Object(converted));
    }
    if let Some(actions) = object.get("actions") {
        let at = format!("{root}.actions");
        out.insert("actions".to_owned(), actions_of(actions, &at, names, direction, 1)?);
    }
    Ok(Value::Object(out))
}

fn convert_trigger(trigger: &Value, direction: Direction) -> Value {
    let mut t = trigger.clone();
    let manual = trigger.get("type").and_then(Value::as_str) == Some("Request");
    if !manual {
        return t;
    }
    let schema = trigger.pointer("/inputs/schema").cloned();
    match direction {
        Direction::ToLogicApp => {
            t["kind"] = json!("Http");
            if let Some(mut schema) = schema {
                strip_hints(&mut schema, 0);
                t["inputs"] = json!({ "schema": schema });
            }
        }
        Direction::ToPowerAutomate => {
            t["kind"] = json!("Button");
            if let Some(mut schema) = schema {
                if let Some(props) =
                    schema.get_mut("properties").and_then(Value::as_object_mut)
                {
                    for p in props.values_mut() {
                        if p.get("type").and_then(Value::as_str) == Some("string")
                            && let Some(p) = p.as_object_mut()
                        {
                            p.entry("x-ms-dynamically-added").or_insert(json!(true));
                            p.entry("x-ms-content-hint").or_insert(json!("TEXT"));
                        }
                    }
                }
                t["inputs"] = json!({ "schema": schema });
            }
        }
    }
    t
}

/// Drops the designer's `x-ms-*` hints from a JSON schema (bounded depth:
/// a trigger's schema is a few levels deep).
fn strip_hints(schema: &mut Value, depth: usize) {
    if depth > 32 {
        return;
    }
    match schema {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("x-ms-"));
            map.values_mut().for_each(|v| strip_hints(v, depth + 1));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_hints(v, depth + 1)),
        _ => {}
    }
}

fn actions_of(
    actions: &Value,
    at: &str,
    names: &Names<'_>,
    direction: Direction,
    depth: usize,
) -> Result<Value, ExportError> {
    if depth > MAX_NESTING + 1 {
        return Err(ExportError::source(
            at,
            format!("actions are nested more than {MAX_NESTING} levels deep"),
        ));
    }
    let Some(map) = actions.as_object() else {
        return Err(ExportError::source(at, "expected a JSON object of actions"));
    };
    let mut out = Map::new();
    for (name, action) in map {
        let here = format!("{at}{}", key_path(name));
        out.insert(name.clone(), action_of(action, &here, names, direction, depth)?);
    }
    Ok(Value::Object(out))
}

fn action_of(
    action: &Value,
    at: &str,
    names: &Names<'_>,
    direction: Direction,
    depth: usize,
) -> Result<Value, ExportError> {
    let Some(object) = action.as_object() else {
        return Err(ExportError::source(at, "expected a JSON object"));
    };
    let mut out = object.clone();
    // The bodies of containers: If (actions, else.actions), Switch
    // (cases.*.actions, default.actions), Foreach, Until, Scope (actions).
    if let Some(inner) = object.get("actions") {
        let v = actions_of(inner, &format!("{at}.actions"), names, direction, depth + 1)?;
        out.insert("actions".to_owned(), v);
    }
    for branch in ["else", "default"] {
        if let Some(inner) = object.get(branch).and_then(|b| b.get("actions")) {
            let v = actions_of(
                inner,
                &format!("{at}.{branch}.actions"),
                names,
                direction,
                depth + 1,
            )?;
            out[branch]["actions"] = v;
        }
    }
    if let Some(cases) = object.get("cases").and_then(Value::as_object) {
        for (case, body) in cases {
            if let Some(inner) = body.get("actions") {
                let v = actions_of(
                    inner,
                    &format!("{at}.cases{}.actions", key_path(case)),
                    names,
                    direction,
                    depth + 1,
                )?;
                out["cases"][case]["actions"] = v;
            }
        }
    }
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    match (direction, kind.to_ascii_lowercase().as_str()) {
        (Direction::ToLogicApp, "openapiconnection") => {
            out.insert("type".to_owned(), json!("ApiConnection"));
            out.insert("inputs".to_owned(), api_connection_inputs(object, at, names)?);
        }
        (Direction::ToPowerAutomate, "apiconnection") => {
            out.insert("type".to_owned(), json!("OpenApiConnection"));
            out.insert("inputs".to_owned(), open_api_inputs(object, at, names)?);
        }
        _ => {}
    }
    Ok(Value::Object(out))
}

/// `OpenApiConnection` inputs → `ApiConnection` inputs.
fn api_connection_inputs(
    action: &Map<String, Value>,
    at: &str,
    names: &Names<'_>,
) -> Result<Value, ExportError> {
    let inputs = action.get("inputs").cloned().unwrap_or(json!({}));
    let id =
        inputs.pointer("/host/operationId").and_then(Value::as_str).ok_or_else(|| {
            ExportError::source(format!("{at}.inputs.host"), "no 'operationId'")
        })?;
    let operation = names.connector.by_id(id).ok_or_else(|| {
        ExportError::source(
            format!("{at}.inputs.host.operationId"),
            format!("the connector '{}' has no operation '{id}'", names.connector.title),
        )
    })?;
    let params = inputs.get("parameters").and_then(Value::as_object);
    let mut out = Map::new();
    out.insert(
        "host".to_owned(),
        json!({"connection": {"name": format!(
            "@parameters('$connections')['{}']['connectionId']", names.key
        )}}),
    );
    out.insert("method".to_owned(), json!(operation.method.to_ascii_lowercase()));
    let mut path = operation.path.clone();
    let mut queries = Map::new();
    let mut headers = Map::new();
    for (name, place) in &operation.parameters {
        let Some(value) = params.and_then(|p| p.get(name)) else { continue };
        let value_at = format!("{at}.inputs.parameters{}", key_path(name));
        match place.as_str() {
            "path" => {
                path =
                    path.replace(&format!("{{{name}}}"), &path_segment(value, &value_at)?)
            }
            "query" => {
                queries.insert(name.clone(), value.clone());
            }
            "header" => {
                headers.insert(name.clone(), value.clone());
            }
            "body" => {
                out.insert("body".to_owned(), value.clone());
            }
            _ => {}
        }
    }
    out.insert("path".to_owned(), json!(path));
    if !queries.is_empty() {
        out.insert("queries".to_owned(), Value::Object(queries));
    }
    if !headers.is_empty() {
        out.insert("headers".to_owned(), Value::Object(headers));
    }
    if let Some(retry) = inputs.get("retryPolicy") {
        out.insert("retryPolicy".to_owned(), retry.clone());
    }
    Ok(Value::Object(out))
}

/// A path parameter's value in an `ApiConnection` path: a literal is
/// percent-encoded; a whole expression `@x` becomes
/// `@{encodeURIComponent(x)}`, as the designer writes it.
fn path_segment(value: &Value, at: &str) -> Result<String, ExportError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => {
            return Err(ExportError::source(
                at,
                "a path parameter is a string or a number",
            ));
        }
    };
    if let Some(literal) = text.strip_prefix("@@") {
        return Ok(encode(&format!("@{literal}")));
    }
    if text.contains("@{") {
        return Err(ExportError::source(
            at,
            "a path parameter with @{...} inside text cannot be placed in an ApiConnection \
             path; write it as one expression (@concat(...))",
        ));
    }
    match text.strip_prefix('@') {
        Some(expression) => Ok(format!("@{{encodeURIComponent({expression})}}")),
        None => Ok(encode(&text)),
    }
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
}

/// `ApiConnection` inputs → `OpenApiConnection` inputs.
fn open_api_inputs(
    action: &Map<String, Value>,
    at: &str,
    names: &Names<'_>,
) -> Result<Value, ExportError> {
    let inputs = action.get("inputs").cloned().unwrap_or(json!({}));
    let method = inputs.get("method").and_then(Value::as_str).unwrap_or("");
    let path = inputs.get("path").and_then(Value::as_str).unwrap_or("");
    let (operation, values) =
        names.connector.by_route(method, path).ok_or_else(|| {
            ExportError::source(
                format!("{at}.inputs"),
                format!(
                    "the connector '{}' has no operation {} {path}",
                    names.connector.title,
                    method.to_ascii_uppercase()
                ),
            )
        })?;
    let mut parameters = Map::new();
    for (name, value) in values {
        parameters.insert(name, json!(value));
    }
    for (name, place) in &operation.parameters {
        let value = match place.as_str() {
            "query" => inputs.get("queries").and_then(|q| q.get(name)),
            "header" => inputs.get("headers").and_then(|h| h.get(name)),
            "body" => inputs.get("body"),
            _ => None,
        };
        if let Some(value) = value {
            parameters.insert(name.clone(), value.clone());
        }
    }
    let mut out = json!({
        "host": {
            "apiId": format!("/providers/Microsoft.PowerApps/apis/{}", names.key),
            "connectionName": names.key,
            "operationId": operation.id,
        },
        "parameters": parameters,
        "authentication": "@parameters('$authentication')",
    });
    if let Some(retry) = inputs.get("retryPolicy") {
        out["retryPolicy"] = retry.clone();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector() -> Connector {
        Connector::from_swagger(
            &json!({"swagger": "2.0", "info": {"title": "T"}, "basePath": "/",
                    "paths": {"/teams/{id}/channels": {"post": {"operationId": "Add",
                      "parameters": [{"name": "id", "in": "path"}, {"name": "body", "in": "body"},
                                     {"name": "$top", "in": "query"}]}}}}),
            None,
        )
        .unwrap()
    }

    #[test]
    fn connector_actions_go_both_ways_with_path_parameters_encoded() {
        let c = connector();
        let pa = json!({"actions": {"A": {"type": "OpenApiConnection", "inputs": {
            "host": {"operationId": "Add", "apiId": "/providers/Microsoft.PowerApps/apis/shared_t"},
            "parameters": {"id": "@body('X')['id']", "body": {"n": 1}, "$top": 2},
            "authentication": "@parameters('$authentication')"}}}});
        let la = to_logic_app(&pa, "$", &c, "t").unwrap();
        let inputs = &la["actions"]["A"]["inputs"];
        assert_eq!(la["actions"]["A"]["type"], "ApiConnection");
        assert_eq!(
            inputs["path"],
            "/teams/@{encodeURIComponent(body('X')['id'])}/channels"
        );
        assert_eq!(inputs["method"], "post");
        assert_eq!(inputs["body"], json!({"n": 1}));
        assert_eq!(inputs["queries"], json!({"$top": 2}));
        assert_eq!(
            inputs["host"]["connection"]["name"],
            "@parameters('$connections')['t']['connectionId']"
        );
        assert!(la["parameters"].get("$authentication").is_none());
        let literal = json!({"actions": {"A": {"type": "OpenApiConnection", "inputs": {
            "host": {"operationId": "Add"}, "parameters": {"id": "a b"}}}}});
        let la = to_logic_app(&literal, "$", &c, "t").unwrap();
        assert_eq!(la["actions"]["A"]["inputs"]["path"], "/teams/a%20b/channels");
        let back = to_power_automate(&la, "$", &c, "shared_t").unwrap();
        assert_eq!(back["actions"]["A"]["inputs"]["host"]["operationId"], "Add");
        assert_eq!(back["actions"]["A"]["inputs"]["parameters"]["id"], "a%20b");
        let unknown = json!({"actions": {"S": {"type": "Scope", "actions": {"A": {
            "type": "OpenApiConnection", "inputs": {"host": {"operationId": "Nope"}}}}}}});
        let e = to_logic_app(&unknown, "$", &c, "t").unwrap_err().to_string();
        assert!(e.starts_with("$.actions.S.actions.A.inputs.host.operationId:"), "{e}");
    }
}

//! Offline checks of exports: what `graphlab flow check` adds for an ARM
//! template or a Power Automate package.
//!
//! - Each template resource against its ARM resource schema
//!   (`schemas/arm/`, vendored unchanged; see its `SOURCE.md`), compiled
//!   with `jsonschema` offline as graphlab-connector compiles its schemas:
//!   the schemas' one external `$ref` (`deploymentTemplate.json#/definitions/
//!   expression`) resolves to a small local schema registered under that
//!   URL, and nothing is fetched (`arm.schema`);
//! - the template's own shape: `$schema`, `contentVersion`, `resources`,
//!   every `parameters('x')` declared, every `dependsOn` naming a resource
//!   of the template (`arm.template`), and secrets only as `securestring`
//!   parameters without a default (`arm.secret`);
//! - the embedded swagger through graphlab-connector's validator
//!   (`connector.swagger`), and the workflow through [`crate::check`], with
//!   the embedded connector's operations when no connector is given;
//! - a package: its parts exist and parse, and the manifests agree
//!   (`package.part`, `package.manifest`).

use std::sync::OnceLock;

use jsonschema::{Draft, Registry, Resource, Validator};
use serde_json::Value;

use super::powerautomate;
use crate::{
    check::{self, Finding, Report, Severity},
    connector::{Connector, Connectors},
};

const LOGIC: &str = include_str!("../../schemas/arm/Microsoft.Logic.json");
const WEB: &str = include_str!("../../schemas/arm/Microsoft.Web.json");
const EXPRESSION: &str =
    include_str!("../../schemas/arm/deploymentTemplate-expression.json");
const LOGIC_URL: &str =
    "https://schema.management.azure.com/schemas/2016-06-01/Microsoft.Logic.json";
const WEB_URL: &str =
    "https://schema.management.azure.com/schemas/2016-06-01/Microsoft.Web.json";
const EXPRESSION_URL: &str =
    "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json";

/// The resource types an export holds, and their definitions.
const RESOURCES: &[(&str, &str)] = &[
    ("Microsoft.Web/customApis", "Microsoft.Web.json#/resourceDefinitions/customApis"),
    ("Microsoft.Web/connections", "Microsoft.Web.json#/resourceDefinitions/connections"),
    ("Microsoft.Logic/workflows", "Microsoft.Logic.json#/resourceDefinitions/workflows"),
];

fn registry() -> Result<&'static Registry<'static>, String> {
    static CELL: OnceLock<Result<Registry<'static>, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        let parse =
            |text: &str| serde_json::from_str::<Value>(text).map_err(|e| e.to_string());
        let (logic, web, expression) = (parse(LOGIC)?, parse(WEB)?, parse(EXPRESSION)?);
        Registry::new()
            .add(LOGIC_URL, Resource::from_contents(logic))
            .and_then(|r| r.add(WEB_URL, Resource::from_contents(web)))
            .and_then(|r| r.add(EXPRESSION_URL, Resource::from_contents(expression)))
            .and_then(|r| r.prepare())
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// The validator of one resource type, compiled once.
fn validator(kind: &str) -> Option<Result<&'static Validator, String>> {
    static CELLS: [OnceLock<Result<Validator, String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = RESOURCES.iter().position(|(t, _)| t.eq_ignore_ascii_case(kind))?;
    Some(
        CELLS[i]
            .get_or_init(|| {
                let registry = registry()?;
                let reference = format!(
                    "https://schema.management.azure.com/schemas/2016-06-01/{}",
                    RESOURCES[i].1
                );
                jsonschema::options()
                    .with_draft(Draft::Draft4)
                    .with_registry(registry)
                    .offline()
                    .build(&serde_json::json!({ "$ref": reference }))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone),
    )
}

/// `/a/0/b` (an instance pointer) as `.a[0].b`.
fn pointer_path(value: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut here = value;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        match here {
            Value::Array(items) => {
                out.push_str(&format!("[{token}]"));
                here = token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .unwrap_or(&Value::Null);
            }
            _ => {
                out.push_str(&crate::definition::key_path(&token));
                here = here.get(&token).unwrap_or(&Value::Null);
            }
        }
    }
    out
}

/// Each resource against its ARM resource schema, and the template's own
/// shape (see the module's documentation).
pub fn template_findings(template: &Value, file: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |rule, severity, path: String, message: String| {
        out.push(Finding::new(rule, severity, file, path, message));
    };
    for key in ["$schema", "contentVersion"] {
        if template.get(key).and_then(Value::as_str).is_none() {
            push(
                "arm.template",
                Severity::Error,
                "$".into(),
                format!("the template has no '{key}'"),
            );
        }
    }
    let declared = template.get("parameters").and_then(Value::as_object);
    let Some(resources) = template.get("resources").and_then(Value::as_array) else {
        push(
            "arm.template",
            Severity::Error,
            "$".into(),
            "the template has no 'resources' array".into(),
        );
        return out;
    };
    // Secrets: a parameter whose name says secret or password is a
    // securestring with no default value.
    for (name, p) in declared.into_iter().flatten() {
        let lower = name.to_ascii_lowercase();
        if lower.contains("secret") || lower.contains("password") {
            let at = format!("$.parameters{}", crate::definition::key_path(name));
            if !p["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("securestring"))
            {
                push(
                    "arm.secret",
                    Severity::Error,
                    at.clone(),
                    "a secret is a securestring parameter".into(),
                );
            }
            if p.get("defaultValue").is_some() {
                push(
                    "arm.secret",
                    Severity::Error,
                    at,
                    "a secret parameter has no defaultValue".into(),
                );
            }
        }
    }
    let mut names = Vec::new();
    for r in resources {
        if let (Some(t), Some(n)) = (r["type"].as_str(), r["name"].as_str()) {
            names.push(format!(
                "[resourceId('{t}', {})]",
                n.trim_start_matches('[').trim_end_matches(']')
            ));
        }
    }
    for (i, resource) in resources.iter().enumerate() {
        let at = format!("$.resources[{i}]");
        let kind = resource["type"].as_str().unwrap_or("");
        match validator(kind) {
            None => push(
                "arm.schema",
                Severity::Warning,
                format!("{at}.type"),
                format!("no vendored schema for '{kind}': the resource is not validated"),
            ),
            Some(Err(e)) => push(
                "arm.schema",
                Severity::Error,
                at.clone(),
                format!("the embedded schema does not compile: {e}"),
            ),
            Some(Ok(v)) => {
                for error in v.iter_errors(resource) {
                    let path = format!(
                        "{at}{}",
                        pointer_path(resource, error.instance_path().as_str())
                    );
                    push(
                        "arm.schema",
                        Severity::Error,
                        path,
                        format!(
                            "{} (schema: {})",
                            error.masked_with("value"),
                            error.schema_path().as_str()
                        ),
                    );
                }
            }
        }
        for (j, d) in resource["dependsOn"].as_array().into_iter().flatten().enumerate() {
            let text = d.as_str().unwrap_or("");
            if !names.iter().any(|n| n == text) {
                push(
                    "arm.template",
                    Severity::Error,
                    format!("{at}.dependsOn[{j}]"),
                    format!("'{text}' is not a resource of this template"),
                );
            }
        }
    }
    let mut used = Vec::new();
    parameter_uses(template, "$", 0, &mut used);
    for (path, name) in used {
        if !declared.is_some_and(|d| d.contains_key(&name)) {
            push(
                "arm.template",
                Severity::Error,
                path,
                format!("parameters('{name}') is not declared"),
            );
        }
    }
    out
}

/// `parameters('NAME')` in ARM expressions (`[...]` strings), with paths.
/// Workflow definitions are skipped: their `@parameters(...)` are the
/// workflow's own.
fn parameter_uses(
    value: &Value,
    at: &str,
    depth: usize,
    out: &mut Vec<(String, String)>,
) {
    if depth > 64 {
        return;
    }
    match value {
        Value::String(s) if s.starts_with('[') && !s.starts_with("[[") => {
            for part in s.split("parameters('").skip(1) {
                if let Some(name) = part.split('\'').next() {
                    out.push((at.to_owned(), name.to_owned()));
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                if k == "definition" || k == "swagger" {
                    continue;
                }
                parameter_uses(
                    v,
                    &format!("{at}{}", crate::definition::key_path(k)),
                    depth + 1,
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                parameter_uses(v, &format!("{at}[{i}]"), depth + 1, out);
            }
        }
        _ => {}
    }
}

/// The connector embedded in a template (its `Microsoft.Web/customApis`
/// swagger), named by the workflow's `$connections` key.
pub fn template_connector(template: &Value) -> Option<Result<Connector, String>> {
    let resources = template.get("resources")?.as_array()?;
    let api = resources.iter().find(|r| r["type"] == "Microsoft.Web/customApis")?;
    let swagger = api.pointer("/properties/swagger")?;
    Some(Connector::from_swagger(swagger, None))
}

/// Findings of graphlab-connector's validator for a swagger document
/// embedded at `at` in `file`.
pub fn swagger_findings(swagger: &Value, file: &str, at: &str) -> Vec<Finding> {
    let text = serde_json::to_string(swagger).unwrap_or_default();
    match graphlab_connector::validate_text(
        &text,
        graphlab_connector::API_DEFINITION_FILE,
        file,
        false,
    ) {
        Err(e) => vec![Finding::new(
            "connector.swagger",
            Severity::Error,
            file,
            at.to_owned(),
            e.to_string(),
        )],
        Ok(report) => report
            .findings
            .into_iter()
            .map(|f| {
                let inner = f.path.strip_prefix('$').unwrap_or(&f.path);
                Finding::new(
                    "connector.swagger",
                    f.severity,
                    file,
                    format!("{at}{inner}"),
                    format!("[{}] {}", f.rule, f.message),
                )
            })
            .collect(),
    }
}

/// Checks an exported template: the workflow (as [`check::check`]), its
/// resources and shape, and the embedded swagger. Without `connectors`, the
/// workflow's connector actions are looked up in the embedded swagger.
pub fn check_template(
    template: &Value,
    file: &str,
    connectors: Option<&Connectors>,
) -> Report {
    let embedded = match (connectors, template_connector(template)) {
        (None, Some(Ok(c))) => {
            let mut all = Connectors::new();
            all.add(c);
            Some(all)
        }
        _ => None,
    };
    let mut report = check::check(template, file, connectors.or(embedded.as_ref()));
    report.findings.extend(template_findings(template, file));
    if let Some(resources) = template.get("resources").and_then(Value::as_array) {
        for (i, r) in resources.iter().enumerate() {
            if let Some(swagger) = r
                .pointer("/properties/swagger")
                .filter(|_| r["type"] == "Microsoft.Web/customApis")
            {
                report.findings.extend(swagger_findings(
                    swagger,
                    file,
                    &format!("$.resources[{i}].properties.swagger"),
                ));
            }
        }
    }
    report
}

/// Checks a Power Automate package (the zip's bytes): its parts and
/// manifests, the flow's definition, and the connector's swagger.
pub fn check_package(
    bytes: &[u8],
    file: &str,
    connectors: Option<&Connectors>,
) -> Report {
    let contents = match powerautomate::read_package(bytes, file) {
        Ok(c) => c,
        Err(e) => {
            let part =
                Finding::new("package.part", Severity::Error, file, "$", e.to_string());
            return Report::of(vec![part]);
        }
    };
    let shown = format!("{file}!{}", contents.definition_part);
    let embedded = match (connectors, contents.swagger.as_ref()) {
        (None, Some(s)) => Connector::from_swagger(s, None).ok().map(|c| {
            let mut all = Connectors::new();
            all.add(c);
            all
        }),
        _ => None,
    };
    let mut report =
        check::check(&contents.flow, &shown, connectors.or(embedded.as_ref()));
    report.shape = Some("Power Automate package (zip)".to_owned());
    report.findings.extend(contents.problems.iter().map(|(part, message)| {
        Finding::new(
            "package.manifest",
            Severity::Error,
            format!("{file}!{part}"),
            "$",
            message.clone(),
        )
    }));
    if let (Some(swagger), Some(part)) = (&contents.swagger, &contents.swagger_part) {
        report.findings.extend(swagger_findings(swagger, &format!("{file}!{part}"), "$"));
    }
    report
}

/// Checks a file of any kind `graphlab flow check` accepts: a package (a
/// zip), an exported template, or a definition of any shape.
pub fn check_bytes(bytes: &[u8], file: &str, connectors: Option<&Connectors>) -> Report {
    if powerautomate::is_zip(bytes) {
        return check_package(bytes, file, connectors);
    }
    let text = String::from_utf8_lossy(bytes);
    match serde_json::from_str::<Value>(&text) {
        Ok(value) if value.get("resources").is_some_and(Value::is_array) => {
            check_template(&value, file, connectors)
        }
        _ => check::check_text(&text, file, connectors),
    }
}

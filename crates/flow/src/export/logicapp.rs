//! The ARM deployment template for Logic Apps (Consumption) and its
//! parameters file.
//!
//! Three resources, each `apiVersion` 2016-06-01 (the versions of the
//! vendored resource schemas):
//! - `Microsoft.Web/customApis`: the connector's swagger embedded, a
//!   `backendService` to Graph, and its connection parameters for Entra ID
//!   OAuth (`identityProvider: aad`, `clientId`, the client secret as a
//!   `securestring` template parameter, `scopes`, the consent service's
//!   `redirectUrl`, `properties.AzureActiveDirectoryResourceId`, and the
//!   `loginUri`/`tenantId`/`resourceUri` custom parameters);
//! - `Microsoft.Web/connections`: `properties.api.id` is the custom API's
//!   `resourceId(...)`; it is signed in after deployment;
//! - `Microsoft.Logic/workflows`: the definition in Logic Apps' shape, and
//!   `$connections` = `{KEY: {connectionId, connectionName, id}}`.
//!
//! The secret is never a value: not in the template, not in the parameters
//! file (give it at deployment: `--parameters clientSecret=...`).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::{ConnectorPackage, ExportError, ExportOptions, pretty, slug, translate};
use crate::definition::shape;

/// The template's `$schema`.
pub const TEMPLATE_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
/// The parameters file's `$schema`.
pub const PARAMETERS_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";
/// The resources' `apiVersion`.
pub const API_VERSION: &str = "2016-06-01";

/// What `--to logicapp` makes.
#[derive(Debug, Clone, PartialEq)]
pub struct LogicAppExport {
    /// The deployment template.
    pub template: Value,
    /// The parameters file (every parameter but the secret and the
    /// location).
    pub parameters: Value,
}

impl LogicAppExport {
    /// The files, for `out` (the template's path): the template, and the
    /// parameters file beside it ([`parameters_path`]).
    pub fn files(&self, out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        vec![
            (out.to_path_buf(), pretty(&self.template)),
            (parameters_path(out), pretty(&self.parameters)),
        ]
    }
}

/// `flow.json` → `flow.parameters.json` (Azure's quickstart convention,
/// `azuredeploy.json` and `azuredeploy.parameters.json`).
pub fn parameters_path(template: &Path) -> PathBuf {
    let stem = template.file_stem().map(|s| s.to_string_lossy().into_owned());
    template.with_file_name(format!(
        "{}.parameters.json",
        stem.as_deref().unwrap_or("template")
    ))
}

/// Exports `source` (a definition file of any shape [`shape::detect`]
/// reads; `file` names it) with `connector` as a Logic Apps template.
pub fn to_logic_app(
    source: &Value,
    file: &str,
    connector: &ConnectorPackage,
    options: &ExportOptions,
) -> Result<LogicAppExport, ExportError> {
    let found =
        shape::detect(source).map_err(|e| ExportError::source(e.path, e.message))?;
    let name =
        options.name.clone().or(found.name.clone()).unwrap_or_else(|| default_name(file));
    let operations = connector.operations()?;
    let api = api_name(found.definition, connector);
    let definition =
        translate::to_logic_app(found.definition, &found.root, &operations, &api)?;
    let (client_id, tenant) = oauth_defaults(&connector.properties)?;
    let custom_api =
        "[resourceId('Microsoft.Web/customApis', parameters('customApiName'))]";
    let connection =
        "[resourceId('Microsoft.Web/connections', parameters('connectionName'))]";
    let parameter = |kind: &str, default: Value, description: &str| {
        let mut p = json!({"type": kind, "metadata": {"description": description}});
        if !default.is_null() {
            p["defaultValue"] = default;
        }
        p
    };
    let workflow_name = slug(&name);
    let parameters = json!({
        "workflowName": parameter("string", json!(workflow_name), "The Logic App's name."),
        "location": parameter("string", json!("[resourceGroup().location]"),
            "Where the resources go (default: the resource group's region)."),
        "customApiName": parameter("string", json!(api),
            "The custom connector's resource name."),
        "connectionName": parameter("string", json!(format!("{api}-connection")),
            "The API connection's resource name."),
        "tenantId": parameter("string", json!(tenant),
            "The directory (tenant) the connection signs in to: a tenant id, or common."),
        "clientId": parameter("string", json!(client_id),
            "The Application (client) ID of the app registered at step 2."),
        "clientSecret": parameter("securestring", Value::Null,
            "A client secret of that application. Give it at deployment; it is never \
             stored in this template."),
    });
    let resources = json!([
        {
            "type": "Microsoft.Web/customApis",
            "apiVersion": API_VERSION,
            "name": "[parameters('customApiName')]",
            "location": "[parameters('location')]",
            "properties": custom_api_properties(connector)?,
        },
        {
            "type": "Microsoft.Web/connections",
            "apiVersion": API_VERSION,
            "name": "[parameters('connectionName')]",
            "location": "[parameters('location')]",
            "dependsOn": [custom_api],
            "properties": {
                "displayName": format!("{} (sign in after deployment)", connector.title()),
                "api": {"id": custom_api},
            },
        },
        {
            "type": "Microsoft.Logic/workflows",
            "apiVersion": API_VERSION,
            "name": "[parameters('workflowName')]",
            "location": "[parameters('location')]",
            "dependsOn": [connection],
            "properties": {
                "state": "Enabled",
                "definition": definition,
                "parameters": {
                    "$connections": {"value": {api.as_str(): {
                        "connectionId": connection,
                        "connectionName": "[parameters('connectionName')]",
                        "id": custom_api,
                    }}},
                },
            },
        },
    ]);
    let template = json!({
        "$schema": TEMPLATE_SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {"description": format!(
            "{name}: the flow and the '{}' custom connector, exported by graphlab flow export",
            connector.title()
        )},
        "parameters": parameters,
        "resources": resources,
    });
    let values =
        ["workflowName", "customApiName", "connectionName", "tenantId", "clientId"]
            .iter()
            .map(|k| ((*k).to_owned(), json!({"value": parameters[k]["defaultValue"]})))
            .collect::<Map<_, _>>();
    let parameters_file = json!({
        "$schema": PARAMETERS_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": values,
    });
    Ok(LogicAppExport { template, parameters: parameters_file })
}

/// The file's name without its extension.
pub(crate) fn default_name(file: &str) -> String {
    Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "flow".to_owned())
}

/// The connector's name: the one the flow's actions use
/// (`.../apis/shared_NAME`, without `shared_`), else its title as a slug.
pub(crate) fn api_name(definition: &Value, connector: &ConnectorPackage) -> String {
    let mut found = None;
    find_api_id(definition.get("actions"), 0, &mut found);
    found
        .map(|id| id.strip_prefix("shared_").unwrap_or(&id).to_owned())
        .unwrap_or_else(|| slug(connector.title()))
}

fn find_api_id(actions: Option<&Value>, depth: usize, found: &mut Option<String>) {
    let Some(map) = actions.and_then(Value::as_object) else { return };
    if depth > crate::definition::MAX_NESTING + 1 || found.is_some() {
        return;
    }
    for action in map.values() {
        let host = action.pointer("/inputs/host");
        if let Some(id) = host.and_then(|h| h.get("apiId")).and_then(Value::as_str) {
            *found = Some(id.rsplit('/').next().unwrap_or(id).to_owned());
            return;
        }
        if let Some(c) =
            host.and_then(|h| h.pointer("/connection/name")).and_then(Value::as_str)
            && let Some(key) = crate::connector::connections_key(c)
        {
            *found = Some(key.to_owned());
            return;
        }
        find_api_id(action.get("actions"), depth + 1, found);
        find_api_id(action.pointer("/else/actions"), depth + 1, found);
        find_api_id(action.pointer("/default/actions"), depth + 1, found);
        for case in action.get("cases").and_then(Value::as_object).into_iter().flatten() {
            find_api_id(case.1.get("actions"), depth + 1, found);
        }
    }
}

/// The Entra ID connection parameter of `apiProperties.json`: its client
/// id and tenant.
fn oauth_defaults(properties: &Value) -> Result<(String, String), ExportError> {
    let oauth = aad_parameter(properties).ok_or_else(|| {
        ExportError::Connector(
            "apiProperties.json has no connection parameter of type oauthSetting with \
             identityProvider aad"
                .into(),
        )
    })?;
    let settings = &oauth.1["oAuthSettings"];
    let client = settings["clientId"].as_str().unwrap_or_default().to_owned();
    let tenant = settings
        .pointer("/customParameters/tenantId/value")
        .and_then(Value::as_str)
        .unwrap_or("common")
        .to_owned();
    Ok((client, tenant))
}

fn aad_parameter(properties: &Value) -> Option<(&String, &Value)> {
    properties
        .pointer("/properties/connectionParameters")
        .and_then(Value::as_object)?
        .iter()
        .find(|(_, p)| {
            p["type"] == "oauthSetting"
                && p.pointer("/oAuthSettings/identityProvider").and_then(Value::as_str)
                    == Some("aad")
        })
}

/// `Microsoft.Web/customApis` `properties`.
fn custom_api_properties(connector: &ConnectorPackage) -> Result<Value, ExportError> {
    let swagger = &connector.swagger;
    let host =
        swagger.get("host").and_then(Value::as_str).unwrap_or("graph.microsoft.com");
    let scheme = swagger
        .get("schemes")
        .and_then(|s| s.get(0))
        .and_then(Value::as_str)
        .unwrap_or("https");
    let base = swagger.get("basePath").and_then(Value::as_str).unwrap_or("/");
    let mut connection_parameters = Map::new();
    let given = connector
        .properties
        .pointer("/properties/connectionParameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, p) in &given {
        let mut out = Map::new();
        out.insert("type".to_owned(), p["type"].clone());
        if let Some(ui) = p.get("uiDefinition") {
            out.insert("uiDefinition".to_owned(), ui.clone());
        }
        if p["type"] == "oauthSetting" {
            let s = &p["oAuthSettings"];
            let custom = &s["customParameters"];
            let resource = custom
                .pointer("/resourceUri/value")
                .and_then(Value::as_str)
                .unwrap_or("https://graph.microsoft.com");
            let login = custom
                .pointer("/loginUri/value")
                .and_then(Value::as_str)
                .unwrap_or("https://login.windows.net");
            let mut custom_parameters = custom.as_object().cloned().unwrap_or_default();
            custom_parameters.insert("loginUri".into(), json!({"value": login}));
            custom_parameters.insert("resourceUri".into(), json!({"value": resource}));
            custom_parameters
                .insert("tenantId".into(), json!({"value": "[parameters('tenantId')]"}));
            out.insert(
                "oAuthSettings".to_owned(),
                json!({
                    "identityProvider": s["identityProvider"],
                    "clientId": "[parameters('clientId')]",
                    "clientSecret": "[parameters('clientSecret')]",
                    "scopes": s.get("scopes").cloned().unwrap_or(json!([])),
                    "redirectUrl": graphlab_connector::REDIRECT_URL,
                    "properties": {
                        "IsFirstParty": "False",
                        "AzureActiveDirectoryResourceId": resource,
                    },
                    "customParameters": custom_parameters,
                }),
            );
        }
        connection_parameters.insert(name.clone(), Value::Object(out));
    }
    let mut properties = json!({
        "displayName": connector.title(),
        "description": swagger.pointer("/info/description").and_then(Value::as_str)
            .unwrap_or(""),
        "backendService": {"serviceUrl": format!(
            "{scheme}://{host}{}", base.trim_end_matches('/')
        )},
        "connectionParameters": connection_parameters,
        "swagger": swagger,
    });
    if let Some(color) =
        connector.properties.pointer("/properties/iconBrandColor").and_then(Value::as_str)
    {
        properties["brandColor"] = json!(color);
    }
    Ok(properties)
}

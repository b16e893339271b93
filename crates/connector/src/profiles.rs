//! The connector's definitions: the lab's original OpenAPI file and the typed
//! one, and the `apiProperties.json` both share.

use serde_json::{Value, json};

use crate::export::{ExportOptions, Profile};

/// Title of the lab's original file.
pub const LAB_TITLE: &str = "MS Graph Batch Connector";
/// Default title of the typed profile (the certification rules forbid the
/// words "API" and "Connector" in a title).
pub const TYPED_TITLE: &str = "MS Graph Batch";
/// The icon's background and `iconBrandColor`: Microsoft's blue, `#0078D4`
/// (neither white nor the portal's default `#007ee5`).
pub const BRAND_COLOR: &str = "#0078D4";
/// The placeholder client id written when none is given: the nil GUID, which
/// no application has. Replace it with the Application (client) ID from step 2
/// (`--client-id`).
pub const DEFAULT_CLIENT_ID: &str = "00000000-0000-0000-0000-000000000000";

const CONTACT_URL: &str = "https://example.invalid/graph-batch-lab";
const CONTACT_EMAIL: &str = "graph-batch-lab@example.invalid";
const WEBSITE: &str = "https://developer.microsoft.com/graph";
const PRIVACY: &str = "https://privacy.microsoft.com/privacystatement";

/// The v1 authorize endpoint for a login URL and tenant, e.g.
/// `https://login.windows.net/common/oauth2/authorize`.
pub fn authorize_url(login_url: &str, tenant: &str) -> String {
    format!(
        "{}/{}/oauth2/authorize",
        login_url.trim_end_matches('/'),
        tenant.trim_matches('/')
    )
}

/// The v1 token endpoint for a login URL and tenant, e.g.
/// `https://login.windows.net/common/oauth2/token`.
pub fn token_url(login_url: &str, tenant: &str) -> String {
    format!(
        "{}/{}/oauth2/token",
        login_url.trim_end_matches('/'),
        tenant.trim_matches('/')
    )
}

/// `apiDefinition.swagger.json` for the chosen profile.
pub(crate) fn api_definition(options: &ExportOptions) -> Value {
    match options.profile {
        Profile::Lab => lab(options),
        Profile::Typed => typed(options),
    }
}

/// The lab's `MSGraph-Delegate-Batch.swagger.json`, field for field,
/// including its token URL that points at `/authorize`.
fn lab(options: &ExportOptions) -> Value {
    let authorize = authorize_url(&options.login_url, &options.tenant);
    json!({
        "swagger": "2.0",
        "info": {
            "title": options.title.as_deref().unwrap_or(LAB_TITLE),
            "description": "",
            "version": "1.0"
        },
        "host": options.host,
        "basePath": "/",
        "schemes": ["https"],
        "consumes": [],
        "produces": [],
        "paths": {
            "/v1.0/$batch": {
                "post": {
                    "responses": {
                        "default": { "description": "default", "schema": {} }
                    },
                    "summary": "Batch",
                    "description": "Execute Batch with Delegate Permission",
                    "operationId": "Batch",
                    "x-ms-visibility": "important",
                    "parameters": [{
                        "name": "body",
                        "in": "body",
                        "required": false,
                        "schema": { "type": "object", "properties": {} }
                    }]
                }
            }
        },
        "definitions": {},
        "parameters": {},
        "responses": {},
        "securityDefinitions": {
            "oauth2_auth": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": authorize,
                "tokenUrl": authorize,
                "scopes": {}
            }
        },
        "security": [{ "oauth2_auth": [] }],
        "tags": []
    })
}

fn typed(options: &ExportOptions) -> Value {
    let scopes: serde_json::Map<String, Value> = options
        .scopes
        .iter()
        .map(|s| (s.clone(), Value::String(format!("Delegated permission {s}"))))
        .collect();
    json!({
        "swagger": "2.0",
        "info": {
            "title": options.title.as_deref().unwrap_or(TYPED_TITLE),
            "description": "Runs Microsoft Graph JSON batches with the signed-in user's \
                delegated permissions: up to 20 Graph requests in one call, each with \
                its own id, method, URL, headers, body and dependencies, answered one \
                response per request.",
            "version": "1.0",
            "contact": {
                "name": "graph-batch-lab",
                "url": CONTACT_URL,
                "email": CONTACT_EMAIL
            }
        },
        "host": options.host,
        "basePath": "/",
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/v1.0/$batch": { "post": operation(
                "Batch",
                "Batch",
                "Sends up to 20 requests to Microsoft Graph v1.0 in one JSON batch, \
                    with the signed-in user's delegated permissions.",
                "important",
            ) },
            "/beta/$batch": { "post": operation(
                "BatchBeta",
                "Batch (beta)",
                "Sends up to 20 requests to the Microsoft Graph beta endpoint in one \
                    JSON batch; beta resources may change without notice.",
                "advanced",
            ) }
        },
        "definitions": definitions(),
        "parameters": {},
        "responses": {},
        "securityDefinitions": {
            "oauth2_auth": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": authorize_url(&options.login_url, &options.tenant),
                "tokenUrl": token_url(&options.login_url, &options.tenant),
                "scopes": scopes
            }
        },
        "security": [{ "oauth2_auth": options.scopes }],
        "tags": [],
        "x-ms-connector-metadata": [
            { "propertyName": "Website", "propertyValue": WEBSITE },
            { "propertyName": "Privacy policy", "propertyValue": PRIVACY },
            { "propertyName": "Categories", "propertyValue": "IT Operations;Productivity" }
        ]
    })
}

fn operation(id: &str, summary: &str, description: &str, visibility: &str) -> Value {
    json!({
        "operationId": id,
        "summary": summary,
        "description": description,
        "x-ms-visibility": visibility,
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "parameters": [{
            "name": "body",
            "in": "body",
            "required": true,
            "x-ms-summary": "Batch",
            "description": "The requests to run, in Graph's JSON batch format.",
            "schema": { "$ref": "#/definitions/BatchRequest" }
        }],
        "responses": {
            "200": {
                "description": "One response per request, in any order; match them by id.",
                "schema": { "$ref": "#/definitions/BatchResponse" }
            },
            "default": { "description": "The batch as a whole failed." }
        }
    })
}

fn field(summary: &str, description: &str, visibility: &str, schema: Value) -> Value {
    let mut field = schema;
    field["x-ms-summary"] = json!(summary);
    field["description"] = json!(description);
    field["x-ms-visibility"] = json!(visibility);
    field
}

fn definitions() -> Value {
    let headers =
        json!({ "type": "object", "additionalProperties": { "type": "string" } });
    json!({
        "BatchRequest": {
            "type": "object",
            "required": ["requests"],
            "properties": {
                "requests": field(
                    "Requests",
                    "The requests of the batch: at most 20, each with a unique id.",
                    "important",
                    json!({
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 20,
                        "items": { "$ref": "#/definitions/BatchRequestItem" }
                    }),
                )
            }
        },
        "BatchRequestItem": {
            "type": "object",
            "required": ["id", "method", "url"],
            "properties": {
                "id": field(
                    "Request ID",
                    "Identifies the request in the batch; its response carries the same id.",
                    "important",
                    json!({ "type": "string" }),
                ),
                "method": field(
                    "Method",
                    "The HTTP method of the request.",
                    "important",
                    json!({
                        "type": "string",
                        "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
                        "default": "GET"
                    }),
                ),
                "url": field(
                    "URL",
                    "The request's URL relative to the version root, e.g. /me/events.",
                    "important",
                    json!({ "type": "string" }),
                ),
                "headers": field(
                    "Headers",
                    "Request headers; Content-Type is required when there is a body.",
                    "advanced",
                    headers.clone(),
                ),
                "body": field(
                    "Body",
                    "The request body: a JSON object (or base64 text for binary content).",
                    "advanced",
                    json!({ "type": "object" }),
                ),
                "dependsOn": field(
                    "Depends on",
                    "Ids of requests that must succeed before this one runs.",
                    "advanced",
                    json!({ "type": "array", "items": { "type": "string" } }),
                )
            }
        },
        "BatchResponse": {
            "type": "object",
            "properties": {
                "responses": field(
                    "Responses",
                    "One response per request, in any order.",
                    "important",
                    json!({ "type": "array", "items": { "$ref": "#/definitions/BatchResponseItem" } }),
                ),
                "@odata.nextLink": field(
                    "Next link",
                    "Present when more responses remain: follow it until it is absent.",
                    "advanced",
                    json!({ "type": "string" }),
                )
            }
        },
        "BatchResponseItem": {
            "type": "object",
            "properties": {
                "id": field(
                    "Request ID",
                    "The id of the request this response answers.",
                    "important",
                    json!({ "type": "string" }),
                ),
                "status": field(
                    "Status",
                    "The HTTP status of this request; check it for every item.",
                    "important",
                    json!({ "type": "integer", "format": "int32" }),
                ),
                "headers": field(
                    "Headers",
                    "The response headers of this request, such as Retry-After.",
                    "advanced",
                    headers,
                ),
                "body": field(
                    "Body",
                    "The response body; on failure it holds Graph's error object.",
                    "important",
                    json!({ "type": "object" }),
                )
            }
        }
    })
}

/// `apiProperties.json`: the OAuth connection parameter as the lab's
/// Security tab sets it up (Azure Active Directory, login URL, tenant,
/// resource URL), the client id, the scopes, and the brand colour. The client
/// secret is never written: `paconn create --secret` takes it.
pub(crate) fn api_properties(options: &ExportOptions) -> Value {
    json!({
        "properties": {
            "connectionParameters": {
                "token": {
                    "type": "oauthSetting",
                    "oAuthSettings": {
                        "identityProvider": "aad",
                        "clientId": options.client_id,
                        "scopes": options.scopes,
                        "redirectMode": "GlobalPerConnector",
                        "customParameters": {
                            "loginUri": { "value": options.login_url },
                            "tenantId": { "value": options.tenant },
                            "resourceUri": { "value": options.resource_uri }
                        },
                        "properties": { "IsFirstParty": "False" }
                    },
                    "uiDefinition": {
                        "displayName": "Sign in with Microsoft Entra ID",
                        "description": "The connection keeps the signed-in user's delegated token.",
                        "tooltip": "Provide your Microsoft Entra ID credentials",
                        "constraints": { "required": "true" }
                    }
                }
            },
            "iconBrandColor": BRAND_COLOR,
            "capabilities": [],
            "publisher": "graph-batch-lab",
            "stackOwner": "Microsoft"
        }
    })
}

/// `settings.json` as `paconn` writes it for a connector not yet created
/// (no `connectorId` or `environment` until `paconn create` fills them in).
pub(crate) fn settings() -> Value {
    json!({
        "apiDefinition": crate::API_DEFINITION_FILE,
        "apiProperties": crate::API_PROPERTIES_FILE,
        "icon": crate::ICON_FILE,
        "powerAppsApiVersion": "2016-11-01",
        "powerAppsUrl": "https://api.powerapps.com"
    })
}

/// `BRAND_COLOR` as bytes.
pub(crate) fn brand_rgb() -> [u8; 3] {
    crate::validate::parse_hex_color(BRAND_COLOR).unwrap_or([0x00, 0x78, 0xd4])
}

//! Power Automate's legacy import package ("Export → Package (.zip)", and
//! "Import package (Legacy)"), written and read.
//!
//! Layout (PyPowerAutomate's `package/package.py`, and packages the portal
//! exports):
//!
//! ```text
//! manifest.json                       schema 1.0, details, resources by GUID
//! Microsoft.Flow/flows/manifest.json  packageSchemaVersion, flowAssets.assetPaths
//! Microsoft.Flow/flows/<flow>/definition.json     the flow (name, properties:
//!                                     definition, connectionReferences)
//! Microsoft.Flow/flows/<flow>/apisMap.json        api name → api resource GUID
//! Microsoft.Flow/flows/<flow>/connectionsMap.json api name → connection GUID
//! Microsoft.PowerApps/apis/<api>/apiDefinition.swagger.json  the connector
//! Microsoft.PowerApps/apis/<api>/apiProperties.json
//! Microsoft.PowerApps/apis/<api>/icon.png
//! ```
//!
//! `manifest.json`'s resources: the flow (`Microsoft.Flow/flows`,
//! suggested creation `New`), the custom connector
//! (`Microsoft.PowerApps/apis`, `New`, creatable as Existing, New or
//! Update) and its connection (`Microsoft.PowerApps/apis/connections`,
//! `Existing`, depending on the connector), so that the import asks the
//! user to create the connector and to choose or create the connection.
//! GUIDs derive from the flow's name ([`super::derived_guid`]); entries are
//! deflated and dated 1980-01-01 (zip's epoch): the same flow gives the same
//! bytes.

use std::io::{Cursor, Read, Write};

use serde_json::{Value, json};
use zip::{CompressionMethod, ZipArchive, ZipWriter, write::SimpleFileOptions};

use super::{
    ConnectorPackage, ExportError, ExportOptions, derived_guid, logicapp, pretty, slug,
    translate,
};
use crate::definition::shape;

/// The largest part read from a package (a definition or a swagger is far
/// smaller; this bounds a zip bomb).
pub const MAX_PART: u64 = 16 * 1024 * 1024;

/// Whether `bytes` start like a zip file.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Exports `source` (any shape [`shape::detect`] reads; `file` names it)
/// with `connector` as a package: the zip's bytes.
pub fn to_power_automate(
    source: &Value,
    file: &str,
    connector: &ConnectorPackage,
    options: &ExportOptions,
) -> Result<Vec<u8>, ExportError> {
    let found =
        shape::detect(source).map_err(|e| ExportError::source(e.path, e.message))?;
    let name = options
        .name
        .clone()
        .or(found.name.clone())
        .unwrap_or_else(|| logicapp::default_name(file));
    let operations = connector.operations()?;
    let api = format!("shared_{}", logicapp::api_name(found.definition, connector));
    let definition =
        translate::to_power_automate(found.definition, &found.root, &operations, &api)?;
    let seed = slug(&name);
    let flow_guid = derived_guid(&["flow resource", &seed]);
    let api_guid = derived_guid(&["api resource", &seed, &api]);
    let connection_guid = derived_guid(&["connection resource", &seed, &api]);
    let flow_name = derived_guid(&["flow name", &seed]);
    let title = connector.title().to_owned();
    let manifest = json!({
        "schema": "1.0",
        "details": {
            "displayName": name,
            "description": format!("{name}, with the '{title}' custom connector, exported by graphlab flow export"),
            "createdTime": options.created.clone().unwrap_or_else(|| "1980-01-01T00:00:00Z".to_owned()),
            "packageTelemetryId": derived_guid(&["package", &seed]),
            "creator": "graph-batch-lab",
            "sourceEnvironment": "",
        },
        "resources": {
            flow_guid.as_str(): {
                "type": "Microsoft.Flow/flows",
                "suggestedCreationType": "New",
                "creationType": "Existing, New, Update",
                "details": {"displayName": name},
                "configurableBy": "User",
                "hierarchy": "Root",
                "dependsOn": [api_guid, connection_guid],
            },
            api_guid.as_str(): {
                "id": format!("/providers/Microsoft.PowerApps/apis/{api}"),
                "name": api,
                "type": "Microsoft.PowerApps/apis",
                "suggestedCreationType": "New",
                "creationType": "Existing, New, Update",
                "details": {"displayName": title},
                "configurableBy": "User",
                "hierarchy": "Child",
                "dependsOn": [],
            },
            connection_guid.as_str(): {
                "type": "Microsoft.PowerApps/apis/connections",
                "suggestedCreationType": "Existing",
                "creationType": "Existing",
                "details": {"displayName": title},
                "configurableBy": "User",
                "hierarchy": "Child",
                "dependsOn": [api_guid],
            },
        },
    });
    let flow = json!({
        "name": flow_name,
        "id": format!("/providers/Microsoft.Flow/flows/{flow_name}"),
        "type": "Microsoft.Flow/flows",
        "properties": {
            "apiId": "/providers/Microsoft.PowerApps/apis/shared_logicflows",
            "displayName": name,
            "definition": definition,
            "connectionReferences": {
                api.as_str(): {
                    "connectionName": "",
                    "source": "Invoker",
                    "id": format!("/providers/Microsoft.PowerApps/apis/{api}"),
                    "tier": "NotSpecified",
                },
            },
            "flowFailureAlertSubscribed": false,
            "isManaged": false,
        },
    });
    let flows = format!("Microsoft.Flow/flows/{flow_guid}");
    let apis = format!("Microsoft.PowerApps/apis/{api_guid}");
    let mut parts: Vec<(String, Vec<u8>)> = vec![
        ("manifest.json".into(), pretty(&manifest)),
        (
            "Microsoft.Flow/flows/manifest.json".into(),
            pretty(&json!({"packageSchemaVersion": "1.0",
                           "flowAssets": {"assetPaths": [flow_guid]}})),
        ),
        (format!("{flows}/definition.json"), pretty(&flow)),
        (format!("{flows}/apisMap.json"), pretty(&json!({api.as_str(): api_guid}))),
        (
            format!("{flows}/connectionsMap.json"),
            pretty(&json!({api.as_str(): connection_guid})),
        ),
        (
            format!("{apis}/{}", graphlab_connector::API_DEFINITION_FILE),
            pretty(&connector.swagger),
        ),
        (
            format!("{apis}/{}", graphlab_connector::API_PROPERTIES_FILE),
            pretty(&connector.properties),
        ),
    ];
    if let Some(icon) = &connector.icon {
        parts.push((format!("{apis}/{}", graphlab_connector::ICON_FILE), icon.clone()));
    }
    zip_parts(&parts, file)
}

fn zip_parts(parts: &[(String, Vec<u8>)], file: &str) -> Result<Vec<u8>, ExportError> {
    let err = |e: &dyn std::fmt::Display| ExportError::Zip {
        file: file.to_owned(),
        message: e.to_string(),
    };
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in parts {
        writer.start_file(name.as_str(), options).map_err(|e| err(&e))?;
        writer.write_all(bytes).map_err(|e| err(&e))?;
    }
    Ok(writer.finish().map_err(|e| err(&e))?.into_inner())
}

/// What a package holds, read back.
#[derive(Debug, Clone)]
pub struct PackageContents {
    /// The flow's `definition.json` (Power Automate's shape).
    pub flow: Value,
    /// Its part name.
    pub definition_part: String,
    /// The custom connector's swagger, if the package has one.
    pub swagger: Option<Value>,
    /// Its part name.
    pub swagger_part: Option<String>,
    /// Disagreements between the manifests and the parts: (part, message).
    pub problems: Vec<(String, String)>,
}

/// Reads a package: the zip's bytes, `file` naming it in errors. A part
/// that is missing, corrupt (bad CRC, bad deflate data) or not valid JSON
/// is an [`ExportError::Part`] naming it.
pub fn read_package(bytes: &[u8], file: &str) -> Result<PackageContents, ExportError> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| ExportError::Zip {
        file: file.to_owned(),
        message: format!("not a readable zip file: {e}"),
    })?;
    let json = |zip: &mut Zip<'_>, part: &str| read_json(zip, file, part);
    let manifest = json(&mut zip, "manifest.json")?;
    let flows = json(&mut zip, "Microsoft.Flow/flows/manifest.json")?;
    let asset = flows
        .pointer("/flowAssets/assetPaths/0")
        .and_then(Value::as_str)
        .ok_or_else(|| ExportError::Part {
            file: file.to_owned(),
            part: "Microsoft.Flow/flows/manifest.json".into(),
            message: "no flowAssets.assetPaths[0]".into(),
        })?
        .to_owned();
    let dir = format!("Microsoft.Flow/flows/{asset}");
    let definition_part = format!("{dir}/definition.json");
    let flow = json(&mut zip, &definition_part)?;
    let apis_map = json(&mut zip, &format!("{dir}/apisMap.json"))?;
    let connections_map = json(&mut zip, &format!("{dir}/connectionsMap.json"))?;
    let resources = manifest.get("resources").and_then(Value::as_object);
    let mut problems = Vec::new();
    if manifest["schema"] != "1.0" {
        problems.push(("manifest.json".to_owned(), "'schema' is not \"1.0\"".to_owned()));
    }
    if resources.and_then(|r| r.get(&asset)).map(|r| &r["type"])
        != Some(&json!("Microsoft.Flow/flows"))
    {
        problems.push((
            "manifest.json".to_owned(),
            format!("resources has no Microsoft.Flow/flows resource '{asset}'"),
        ));
    }
    let mut swagger = None;
    let mut swagger_part = None;
    for (map_part, map, kind) in [
        ("apisMap.json", &apis_map, "Microsoft.PowerApps/apis"),
        ("connectionsMap.json", &connections_map, "Microsoft.PowerApps/apis/connections"),
    ] {
        for (api, guid) in map.as_object().into_iter().flatten() {
            let guid = guid.as_str().unwrap_or("");
            if resources.and_then(|r| r.get(guid)).map(|r| &r["type"])
                != Some(&json!(kind))
            {
                problems.push((
                    format!("{dir}/{map_part}"),
                    format!("'{api}' maps to '{guid}', which is no {kind} resource of manifest.json"),
                ));
            }
            if kind == "Microsoft.PowerApps/apis" && swagger.is_none() {
                let part = format!(
                    "Microsoft.PowerApps/apis/{guid}/{}",
                    graphlab_connector::API_DEFINITION_FILE
                );
                if zip.index_for_name(&part).is_some() {
                    swagger = Some(json(&mut zip, &part)?);
                    swagger_part = Some(part);
                }
            }
        }
    }
    Ok(PackageContents { flow, definition_part, swagger, swagger_part, problems })
}

type Zip<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// One part, parsed; bounded in size.
fn read_json(zip: &mut Zip<'_>, file: &str, part: &str) -> Result<Value, ExportError> {
    let bad = |message: String| ExportError::Part {
        file: file.to_owned(),
        part: part.to_owned(),
        message,
    };
    let entry = zip.by_name(part).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => bad("missing from the package".into()),
        other => bad(format!("cannot be read: {other}")),
    })?;
    if entry.size() > MAX_PART {
        return Err(bad(format!("larger than {MAX_PART} bytes")));
    }
    let mut text = Vec::new();
    entry
        .take(MAX_PART + 1)
        .read_to_end(&mut text)
        .map_err(|e| bad(format!("corrupt: {e}")))?;
    serde_json::from_slice(&text).map_err(|e| {
        bad(format!("not valid JSON at line {}, column {}: {e}", e.line(), e.column()))
    })
}

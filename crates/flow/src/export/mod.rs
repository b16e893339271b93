//! Take a flow to the cloud: export a definition and its custom connector
//! as an ARM deployment template for Logic Apps (Consumption), or as Power
//! Automate's legacy import package (a zip), and check such exports.
//!
//! - [`translate`]: Power Automate's actions and manual trigger to Logic
//!   Apps' (`OpenApiConnection` → `ApiConnection`, the Button trigger → a
//!   `Request` trigger with the same JSON schema), and back.
//! - [`logicapp`]: the template (`Microsoft.Web/customApis`,
//!   `Microsoft.Web/connections`, `Microsoft.Logic/workflows`) and its
//!   parameters file.
//! - [`powerautomate`]: the package's parts, zipped, and reading a package
//!   back (for `flow check` and `flow run`).
//! - [`validate`]: the template's resources against Microsoft's ARM
//!   resource schemas (vendored in `schemas/arm/`, see its `SOURCE.md`),
//!   the embedded swagger through graphlab-connector's validator, and the
//!   workflow through [`crate::check`].
//!
//! Everything here is pure: exports are built in memory, and writing them
//! is the caller's. GUIDs are derived from names ([`derived_guid`]), so an
//! export of the same flow is the same bytes every time.

pub mod logicapp;
pub mod powerautomate;
pub mod translate;
pub mod validate;

use std::{fmt, path::Path, str::FromStr};

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use logicapp::{LogicAppExport, to_logic_app};
pub use powerautomate::{PackageContents, read_package, to_power_automate};

/// Where an export goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An ARM template for Logic Apps (Consumption).
    LogicApp,
    /// Power Automate's legacy import package.
    PowerAutomate,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Target, String> {
        match s.to_ascii_lowercase().as_str() {
            "logicapp" | "logicapps" | "logic-app" => Ok(Target::LogicApp),
            "powerautomate" | "power-automate" => Ok(Target::PowerAutomate),
            _ => Err(format!("'{s}' is not an export target: logicapp or powerautomate")),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::LogicApp => "logicapp",
            Target::PowerAutomate => "powerautomate",
        })
    }
}

/// Why an export could not be made or read. Problems *in* a template or a
/// package that can be read are [`crate::check::Finding`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The source definition cannot be exported.
    #[error("{path}: {message}")]
    Source {
        /// Where, as a JSON path in the source file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The connector package lacks something the export needs.
    #[error("connector package: {0}")]
    Connector(String),
    /// A part of a package is missing, corrupt or not what it should be.
    #[error("{file}: {part}: {message}")]
    Part {
        /// The package file.
        file: String,
        /// The part (its path in the zip).
        part: String,
        /// What is wrong.
        message: String,
    },
    /// The zip itself cannot be read or written.
    #[error("{file}: {message}")]
    Zip {
        /// The package file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

impl ExportError {
    pub(crate) fn source(path: impl Into<String>, message: impl Into<String>) -> Self {
        ExportError::Source { path: path.into(), message: message.into() }
    }
}

/// The custom connector an export embeds: the package `graphlab connector
/// export` (step 3) writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorPackage {
    /// `apiDefinition.swagger.json`.
    pub swagger: Value,
    /// `apiProperties.json`.
    pub properties: Value,
    /// `icon.png`, if any.
    pub icon: Option<Vec<u8>>,
}

impl ConnectorPackage {
    /// From a package built in memory.
    pub fn from_package(package: &graphlab_connector::Package) -> ConnectorPackage {
        ConnectorPackage {
            swagger: package.api_definition.clone(),
            properties: package.api_properties.clone(),
            icon: Some(package.icon.clone()),
        }
    }

    /// Reads a package directory (`apiDefinition.swagger.json`,
    /// `apiProperties.json`, `icon.png` if present).
    pub fn read_dir(dir: &Path) -> Result<ConnectorPackage, ExportError> {
        let json = |name: &str| -> Result<Value, ExportError> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ExportError::Connector(format!("{}: {e}", path.display()))
            })?;
            serde_json::from_str(&text).map_err(|e| {
                ExportError::Connector(format!(
                    "{}:{}:{}: not valid JSON: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            })
        };
        Ok(ConnectorPackage {
            swagger: json(graphlab_connector::API_DEFINITION_FILE)?,
            properties: json(graphlab_connector::API_PROPERTIES_FILE)?,
            icon: std::fs::read(dir.join(graphlab_connector::ICON_FILE)).ok(),
        })
    }

    /// `info.title`.
    pub fn title(&self) -> &str {
        self.swagger.pointer("/info/title").and_then(Value::as_str).unwrap_or("connector")
    }

    /// The connector's operations, as the engine reads them.
    pub fn operations(&self) -> Result<crate::connector::Connector, ExportError> {
        crate::connector::Connector::from_swagger(&self.swagger, None)
            .map_err(ExportError::Connector)
    }
}

/// What an export is made of, beside the flow and its connector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// The workflow's or flow's name (`--name`); default: the source's
    /// display name, else its file name.
    pub name: Option<String>,
    /// The package's `createdTime` (RFC 3339); default
    /// `1980-01-01T00:00:00Z`, so that exports are reproducible.
    pub created: Option<String>,
}

/// A GUID derived from `parts`: SHA-256 of the parts (each followed by a
/// NUL), its first 16 bytes as an RFC 9562 version 8 ("custom") UUID. The
/// same names give the same GUID, so exports can be compared and
/// snapshot-tested.
pub fn derived_guid(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"graph-batch-lab export\0");
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

/// `MS Graph Batch Connector` → `ms-graph-batch-connector`: lower case,
/// letters and digits, single dashes (a name Azure and Power Platform both
/// accept).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "flow".to_owned() } else { out }
}

/// JSON, pretty-printed with a final newline, as every export file is.
pub(crate) fn pretty(value: &Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_derived_from_names_and_slugs_are_plain() {
        let a = derived_guid(&["flow", "Create Team"]);
        assert_eq!(a, derived_guid(&["flow", "Create Team"]));
        assert_ne!(a, derived_guid(&["flow", "Create team"]));
        assert_ne!(derived_guid(&["ab", "c"]), derived_guid(&["a", "bc"]));
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 8);
        assert_eq!(slug("MS Graph Batch Connector"), "ms-graph-batch-connector");
        assert_eq!(
            slug("  Create Team, every item checked!"),
            "create-team-every-item-checked"
        );
        assert_eq!(slug("!!"), "flow");
        assert_eq!("LogicApp".parse::<Target>(), Ok(Target::LogicApp));
        assert!("arm".parse::<Target>().is_err());
    }
}

//! [`validate`] (a package in memory) and [`validate_path`] (a package
//! directory or one file, read, then checked the same way): three layers of
//! checks.
//!
//! 1. `schema` ([`schema`]): Microsoft's JSON Schemas for the three JSON files.
//! 2. `swagger.*`, `properties.*`, `package.*` ([`structure`]): what a
//!    Swagger 2.0 document and a package need beyond the schemas.
//! 3. `cert.*` ([`cert`]): the connector certification rules, warnings for a
//!    private connector and errors with `certification`.
//!
//! `json.malformed` (with line and column) and `secret.value` are errors in
//! every mode: a secret in a package is shipped to everyone who downloads it.

mod cert;
mod schema;
mod structure;

use std::{collections::BTreeMap, path::Path};

use serde_json::Value;

use crate::{
    API_DEFINITION_FILE, API_PROPERTIES_FILE, Error, Finding, ICON_FILE, Report,
    SETTINGS_FILE, Severity, json_path::JPath,
};

/// The rule ids a [`Finding`] can carry, with what each checks.
pub mod rules {
    /// Every rule: (id, what it checks).
    pub const ALL: &[(&str, &str)] = &[
        ("json.malformed", "a file is not valid JSON (reported with line and column)"),
        (
            "package.missing-file",
            "a package lacks apiDefinition.swagger.json or apiProperties.json",
        ),
        (
            "package.settings-file",
            "settings.json names a file that is not in the package",
        ),
        ("schema", "a file does not match Microsoft's published JSON Schema for it"),
        ("swagger.ref-unresolved", "a local $ref points at nothing"),
        (
            "swagger.ref-external",
            "a $ref points outside the file (connectors are one file)",
        ),
        (
            "swagger.path-syntax",
            "a path does not start with / or has a malformed {template}",
        ),
        ("swagger.path-duplicate", "two paths differ only in their template names"),
        ("swagger.path-param-undeclared", "a {template} in a path has no path parameter"),
        ("swagger.path-param-unused", "a path parameter is not in the path's template"),
        ("swagger.path-param-required", "a path parameter is not required: true"),
        (
            "swagger.param-duplicate",
            "an operation has two parameters with the same name and place",
        ),
        ("swagger.body-multiple", "an operation has more than one body parameter"),
        ("swagger.body-and-form", "an operation has both body and formData parameters"),
        ("swagger.responses-missing", "an operation has no responses"),
        ("swagger.operation-id-duplicate", "two operations share an operationId"),
        (
            "swagger.security-undefined",
            "a security requirement names an undefined scheme",
        ),
        (
            "swagger.oauth-token-url",
            "an OAuth token URL is the authorize endpoint (a warning)",
        ),
        (
            "properties.oauth-missing",
            "the definition uses OAuth 2.0 but no oauthSetting parameter exists",
        ),
        (
            "properties.aad-parameters",
            "an aad connection lacks loginUri, tenantId or resourceUri",
        ),
        ("secret.value", "a secret (client secret, password, key, token) is in a file"),
        ("cert.title-length", "the title is longer than 30 characters"),
        ("cert.title-words", "the title contains \"API\" or \"Connector\""),
        ("cert.description-length", "info.description is not 30 to 500 characters long"),
        ("cert.contact", "info.contact (name, url, email) is missing"),
        (
            "cert.metadata",
            "x-ms-connector-metadata lacks Website, Privacy policy or Categories",
        ),
        ("cert.https", "the API is not served over https only"),
        ("cert.summary-missing", "an operation has no summary"),
        ("cert.summary-length", "an operation's summary is longer than 80 characters"),
        ("cert.summary-punctuation", "an operation's summary ends with punctuation"),
        ("cert.operation-description", "an operation has no description"),
        ("cert.operation-id", "an operationId is missing or not CamelCase"),
        ("cert.param-summary", "a parameter has no x-ms-summary"),
        ("cert.param-description", "a parameter has no description"),
        ("cert.visibility", "x-ms-visibility is not important, advanced or internal"),
        ("cert.default-response-schema", "a default response has a schema"),
        (
            "cert.brand-color",
            "iconBrandColor is missing, not #RRGGBB, white or the default #007ee5",
        ),
        (
            "cert.icon",
            "the icon is missing, not a PNG, not square 100-230 px, or white/transparent",
        ),
    ];

    /// Whether `id` is a known rule.
    pub fn is_known(id: &str) -> bool {
        ALL.iter().any(|(known, _)| *known == id)
    }
}

/// Collects findings for one file.
pub(crate) struct Sink<'a> {
    file: String,
    certification: bool,
    findings: &'a mut Vec<Finding>,
}

impl Sink<'_> {
    fn push(
        &mut self,
        rule: &'static str,
        severity: Severity,
        path: &JPath,
        message: String,
    ) {
        debug_assert!(rules::is_known(rule), "unknown rule {rule}");
        self.findings.push(Finding::new(
            rule,
            severity,
            &self.file,
            path.to_string(),
            message,
        ));
    }

    /// An error in every mode.
    pub(crate) fn error(
        &mut self,
        rule: &'static str,
        path: &JPath,
        message: impl Into<String>,
    ) {
        self.push(rule, Severity::Error, path, message.into());
    }

    /// A warning in every mode.
    pub(crate) fn warning(
        &mut self,
        rule: &'static str,
        path: &JPath,
        message: impl Into<String>,
    ) {
        self.push(rule, Severity::Warning, path, message.into());
    }

    /// A certification rule: a warning, or an error with `--certification`.
    pub(crate) fn cert(
        &mut self,
        rule: &'static str,
        path: &JPath,
        message: impl Into<String>,
    ) {
        let severity =
            if self.certification { Severity::Error } else { Severity::Warning };
        self.push(rule, severity, path, message.into());
    }
}

/// A package's files in memory: each file's name (as `settings.json`
/// names it, relative to the package) and its content.
pub type PackageFiles = BTreeMap<String, Vec<u8>>;

/// Validates a package held in memory: paconn's layout, where
/// `settings.json` may rename the other files. Pure: no I/O. With
/// `certification`, the certification rules are errors instead of warnings.
///
/// Problems in the package are [`Finding`]s; `Err` only when a JSON file of
/// the package is not UTF-8 text.
pub fn validate(files: &PackageFiles, certification: bool) -> Result<Report, Error> {
    let mut findings = Vec::new();
    validate_files(files, certification, &mut findings)?;
    Ok(Report::of(findings))
}

/// Validates a package directory (read into memory, then [`validate`]) or a
/// single file: `apiProperties.json` and `settings.json` by name; any other
/// file as API properties when it has a top-level `properties` object and no
/// `swagger` or `paths`, else as a swagger file. With `certification`, the
/// certification rules are errors instead of warnings.
///
/// Problems in the package are [`Finding`]s; `Err` only when `path` cannot be
/// read at all.
pub fn validate_path(path: &Path, certification: bool) -> Result<Report, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return validate(&read_package(path)?, certification).map_err(|e| match e {
            Error::NotAPackage { path: name, reason } => {
                Error::NotAPackage { path: path.join(name), reason }
            }
            other => other,
        });
    }
    let mut findings = Vec::new();
    let shown = path.display().to_string();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = utf8(path, &bytes)?;
    validate_file_text(text, name, &shown, certification, &mut findings)?;
    Ok(Report::of(findings))
}

/// The files of the package in `dir` that [`validate`] reads: `settings.json`
/// and the files of [`NAMED_FILES`], under their default names and under the
/// names `settings.json` gives them.
fn read_package(dir: &Path) -> Result<PackageFiles, Error> {
    let read = |name: &str| -> Result<Option<Vec<u8>>, Error> {
        let path = dir.join(name);
        if !path.is_file() {
            return Ok(None);
        }
        std::fs::read(&path).map(Some).map_err(|e| Error::io(path, e))
    };
    let mut files = PackageFiles::new();
    let settings = read(SETTINGS_FILE)?;
    let doc = settings.as_deref().and_then(|bytes| {
        let text = std::str::from_utf8(bytes).ok()?;
        serde_json::from_str::<Value>(text.strip_prefix('\u{feff}').unwrap_or(text)).ok()
    });
    if let Some(bytes) = settings {
        files.insert(SETTINGS_FILE.to_owned(), bytes);
    }
    let renamed =
        NAMED_FILES.iter().filter_map(|(_, key)| doc.as_ref()?.get(*key)?.as_str());
    for name in NAMED_FILES.iter().map(|(name, _)| *name).chain(renamed) {
        if !files.contains_key(name)
            && let Some(bytes) = read(name)?
        {
            files.insert(name.to_owned(), bytes);
        }
    }
    Ok(files)
}

/// Validates one file's text; `name` is its file name, `shown` how
/// findings name it.
fn validate_file_text(
    text: &str,
    name: &str,
    shown: &str,
    certification: bool,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
    let mut sink = Sink { file: shown.to_owned(), certification, findings };
    if let Some(doc) = parse(text, &mut sink) {
        let kind = match name {
            API_PROPERTIES_FILE => Kind::Properties,
            SETTINGS_FILE => Kind::Settings,
            _ => sniff(&doc),
        };
        check_file(kind, &doc, &mut sink)?;
        match kind {
            Kind::Definition => {
                structure::definition(&doc, &mut sink);
                cert::definition(&doc, &mut sink);
            }
            Kind::Properties => structure::properties(&doc, None, &mut sink),
            Kind::Settings => {}
        }
    }
    Ok(())
}

/// Validates one file's text as [`validate_path`] validates a file of that
/// name (`name`: `apiProperties.json`, `settings.json`, or any other name
/// for a swagger document); `shown` is how findings name the file (a
/// part of an exported template or package, for example).
pub fn validate_text(
    text: &str,
    name: &str,
    shown: &str,
    certification: bool,
) -> Result<Report, Error> {
    let mut findings = Vec::new();
    validate_file_text(text, name, shown, certification, &mut findings)?;
    Ok(Report::of(findings))
}

/// [`validate_path`] of one file's text, for the fuzz targets: the number
/// of findings. Not an API.
#[doc(hidden)]
pub fn validate_text_for_fuzz(text: &str, name: &str, certification: bool) -> usize {
    let mut findings = Vec::new();
    let _ = validate_file_text(text, name, name, certification, &mut findings);
    findings.len()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Definition,
    Properties,
    Settings,
}

/// What a file of another name holds.
fn sniff(doc: &Value) -> Kind {
    let has = |k: &str| doc.get(k).is_some();
    if !has("swagger")
        && !has("paths")
        && doc.get("properties").is_some_and(Value::is_object)
    {
        Kind::Properties
    } else {
        Kind::Definition
    }
}

/// A JSON file's bytes as text.
fn utf8<'a>(name: &Path, bytes: &'a [u8]) -> Result<&'a str, Error> {
    std::str::from_utf8(bytes).map_err(|_| Error::NotAPackage {
        path: name.to_owned(),
        reason: "not UTF-8 text, so not a JSON file".into(),
    })
}

/// Parses strict JSON; a syntax error becomes `json.malformed` with its line
/// and column.
fn parse(text: &str, sink: &mut Sink<'_>) -> Option<Value> {
    match serde_json::from_str::<Value>(text.strip_prefix('\u{feff}').unwrap_or(text)) {
        Ok(doc) => Some(doc),
        Err(e) => {
            let message = e.to_string();
            // serde_json appends " at line L column C"; we report them apart.
            let message =
                message.split(" at line ").next().unwrap_or(&message).to_owned();
            sink.findings.push(Finding {
                line: Some(e.line()),
                column: Some(e.column()),
                ..Finding::new(
                    "json.malformed",
                    Severity::Error,
                    &sink.file,
                    "$",
                    message,
                )
            });
            None
        }
    }
}

fn check_file(kind: Kind, doc: &Value, sink: &mut Sink<'_>) -> Result<(), Error> {
    let validator = match kind {
        Kind::Definition => schema::api_definition()?,
        Kind::Properties => schema::api_properties()?,
        Kind::Settings => schema::settings()?,
    };
    schema::check(validator, doc, sink);
    structure::secrets(doc, &JPath::root(), sink);
    if kind == Kind::Properties {
        cert::properties(doc, sink);
    }
    Ok(())
}

/// The files `settings.json` may rename: default name and its key there.
const NAMED_FILES: [(&str, &str); 3] = [
    (API_DEFINITION_FILE, "apiDefinition"),
    (API_PROPERTIES_FILE, "apiProperties"),
    (ICON_FILE, "icon"),
];

fn validate_files(
    files: &PackageFiles,
    certification: bool,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
    let mut names = NAMED_FILES.map(|(name, key)| (name.to_owned(), key));
    let text = |name: &str| -> Result<Option<&str>, Error> {
        files.get(name).map(|bytes| utf8(Path::new(name), bytes)).transpose()
    };
    if let Some(text) = text(SETTINGS_FILE)? {
        let mut sink = Sink {
            file: SETTINGS_FILE.to_owned(),
            certification,
            findings: &mut *findings,
        };
        if let Some(doc) = parse(text, &mut sink) {
            check_file(Kind::Settings, &doc, &mut sink)?;
            for (name, key) in &mut names {
                if let Some(named) = doc.get(*key).and_then(Value::as_str) {
                    *name = named.to_owned();
                    if !files.contains_key(named) {
                        sink.error(
                            "package.settings-file",
                            &JPath::root().key(key),
                            format!("names {named}, which is not in the package"),
                        );
                    }
                }
            }
        }
    }
    let [(definition_name, _), (properties_name, _), (icon_name, _)] = names;

    let mut definition = None;
    let mut sink =
        Sink { file: definition_name.clone(), certification, findings: &mut *findings };
    match text(&definition_name)? {
        Some(text) => {
            if let Some(doc) = parse(text, &mut sink) {
                check_file(Kind::Definition, &doc, &mut sink)?;
                structure::definition(&doc, &mut sink);
                cert::definition(&doc, &mut sink);
                definition = Some(doc);
            }
        }
        None => sink.error(
            "package.missing-file",
            &JPath::root(),
            "the package has no API definition",
        ),
    }

    let mut sink =
        Sink { file: properties_name.clone(), certification, findings: &mut *findings };
    match text(&properties_name)? {
        Some(text) => {
            if let Some(doc) = parse(text, &mut sink) {
                check_file(Kind::Properties, &doc, &mut sink)?;
                structure::properties(&doc, definition.as_ref(), &mut sink);
            }
        }
        None => sink.error(
            "package.missing-file",
            &JPath::root(),
            "the package has no API properties",
        ),
    }

    let mut sink = Sink { file: icon_name.clone(), certification, findings };
    match files.get(&icon_name) {
        Some(bytes) => cert::icon(bytes, &mut sink),
        None => sink.cert("cert.icon", &JPath::root(), "the package has no icon"),
    }
    Ok(())
}

/// `#RRGGBB` (or `#RGB`) as bytes.
pub(crate) fn parse_hex_color(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |s: &str| u8::from_str_radix(s, 16).ok();
    match hex.len() {
        6 => Some([byte(&hex[0..2])?, byte(&hex[2..4])?, byte(&hex[4..6])?]),
        3 => {
            let d = |i: usize| byte(&hex[i..i + 1]).map(|v| v * 17);
            Some([d(0)?, d(1)?, d(2)?])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours() {
        assert_eq!(parse_hex_color("#0078D4"), Some([0x00, 0x78, 0xd4]));
        assert_eq!(parse_hex_color("#fff"), Some([0xff, 0xff, 0xff]));
        assert_eq!(parse_hex_color("0078D4"), None);
        assert_eq!(parse_hex_color("#0078D"), None);
        assert_eq!(parse_hex_color("#00é8D4"), None);
    }

    #[test]
    fn every_rule_id_is_unique_and_namespaced() {
        let mut ids: Vec<_> = rules::ALL.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), rules::ALL.len());
        for id in ids {
            let ns = id.split('.').next().unwrap();
            assert!(
                ["json", "package", "schema", "swagger", "properties", "secret", "cert"]
                    .contains(&ns),
                "{id}"
            );
        }
    }
}

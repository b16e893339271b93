//! The lab's Power Platform custom connector: export it, and validate any
//! connector package offline.
//!
//! Step 3 of the lab creates a custom connector that wraps Microsoft Graph's
//! `$batch` endpoint. [`export`] builds that connector as a package in the
//! layout `paconn` uses (`apiDefinition.swagger.json`, `apiProperties.json`,
//! `settings.json`, `icon.png`), in one of two [`Profile`]s: the lab's own
//! OpenAPI file, or a typed definition whose request and response fields show
//! up in the flow designer.
//!
//! [`validate`] checks a package held in memory ([`PackageFiles`]: names
//! and bytes), and [`validate_path`] a package directory (read, then
//! [`validate`]d) or a bare swagger file, in three layers: Microsoft's published JSON Schemas (vendored in this crate,
//! see `schemas/SOURCE.md`), the structure of a Swagger 2.0 document, and the
//! connector certification rules. Each problem is a [`Finding`] with a rule
//! id, a [`Severity`], the file and a JSON path.
//!
//! The crate does no network I/O: the schemas are compiled in and no `$ref`
//! is ever fetched. It does file I/O only at its edges: [`validate_path`]
//! reads the package, [`Package::write_to`] writes one; [`export`] and
//! [`validate`] are pure.
#![deny(missing_docs)]

mod export;
mod json_path;
pub mod jsonc;
mod png;
mod profiles;
mod report;
mod validate;

use std::path::PathBuf;

pub use export::{
    API_DEFINITION_FILE, API_PROPERTIES_FILE, ExportOptions, ICON_FILE, Package, Profile,
    SETTINGS_FILE, export,
};
pub use png::{ICON_SIZE, icon_png};
pub use profiles::{
    BRAND_COLOR, DEFAULT_CLIENT_ID, LAB_TITLE, TYPED_TITLE, authorize_url, token_url,
};
pub use report::{Finding, Report, Severity};
#[doc(hidden)]
pub use validate::validate_text_for_fuzz;
pub use validate::{PackageFiles, rules, validate, validate_path, validate_text};

/// The redirect URL that Power Platform's OAuth consent service uses for
/// connectors with the global redirect mode (the one the lab's screenshots
/// show on the connector's Security page). Add it to the application's
/// redirect URIs (Authentication, Web platform).
///
/// Connectors created today get a unique URL per connector instead (see
/// [`redirect_url_for`]); the exported `apiProperties.json` asks for that
/// mode (`redirectMode: GlobalPerConnector`).
pub const REDIRECT_URL: &str = "https://global.consent.azure-apim.net/redirect";

/// The per-connector redirect URL for a connector whose id (the `connectorId`
/// that `paconn create` writes into `settings.json`, or the name shown in the
/// connector's URL in the portal) is `connector_id`: [`REDIRECT_URL`]
/// followed by `/` and the id. The portal shows the same URL on the
/// connector's Security page once the connector exists.
pub fn redirect_url_for(connector_id: &str) -> String {
    format!("{REDIRECT_URL}/{}", connector_id.trim().trim_matches('/'))
}

/// Why exporting or validating could not be done at all. Problems *in* a
/// package are not errors: they are [`Finding`]s in a [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The path is neither a package directory nor a JSON file.
    #[error("{}: {reason}", path.display())]
    NotAPackage {
        /// What was given.
        path: PathBuf,
        /// Why it cannot be validated.
        reason: String,
    },
    /// One of the schemas compiled into this crate could not be used (a bug).
    #[error("embedded schema {name}: {message}")]
    EmbeddedSchema {
        /// The schema's file name.
        name: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

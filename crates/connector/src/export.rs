//! [`export`]: the connector package, in memory, and [`Package::write_to`].

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::{Error, png, profiles};

/// The swagger file's name in a package.
pub const API_DEFINITION_FILE: &str = "apiDefinition.swagger.json";
/// The properties file's name in a package.
pub const API_PROPERTIES_FILE: &str = "apiProperties.json";
/// The settings file's name in a package.
pub const SETTINGS_FILE: &str = "settings.json";
/// The icon's name in a package.
pub const ICON_FILE: &str = "icon.png";

/// Which OpenAPI definition the package carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// The lab's `MSGraph-Delegate-Batch.swagger.json`, unchanged: one
    /// untyped `Batch` operation (and the original's token URL quirk).
    Lab,
    /// Typed `Batch` and `BatchBeta` operations whose request and response
    /// fields show up in the flow designer; passes the certification rules.
    #[default]
    Typed,
}

/// What to export. [`Default`] gives the lab's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// Which definition to write.
    pub profile: Profile,
    /// The connector's title; `None` uses the profile's
    /// ([`crate::TYPED_TITLE`] or [`crate::LAB_TITLE`]).
    pub title: Option<String>,
    /// The application (client) id from step 2. Default:
    /// [`crate::DEFAULT_CLIENT_ID`], a placeholder to replace.
    pub client_id: String,
    /// The tenant in the sign-in URLs. Default: `common` (multi-tenant).
    pub tenant: String,
    /// The identity platform. Default: `https://login.windows.net`, as in the
    /// lab.
    pub login_url: String,
    /// OAuth scopes. Default: none, as in the lab (the v1 endpoint grants the
    /// permissions configured on the application, `Group.ReadWrite.All`).
    pub scopes: Vec<String>,
    /// The resource the token is for. Default: `https://graph.microsoft.com`
    /// (no trailing slash).
    pub resource_uri: String,
    /// The API host. Default: `graph.microsoft.com`.
    pub host: String,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            profile: Profile::Typed,
            title: None,
            client_id: profiles::DEFAULT_CLIENT_ID.to_owned(),
            tenant: "common".to_owned(),
            login_url: "https://login.windows.net".to_owned(),
            scopes: Vec::new(),
            resource_uri: "https://graph.microsoft.com".to_owned(),
            host: "graph.microsoft.com".to_owned(),
        }
    }
}

/// A connector package: the four files of paconn's layout, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// `apiDefinition.swagger.json`.
    pub api_definition: serde_json::Value,
    /// `apiProperties.json`.
    pub api_properties: serde_json::Value,
    /// `settings.json`.
    pub settings: serde_json::Value,
    /// `icon.png`.
    pub icon: Vec<u8>,
}

/// Builds the package for `options`. Pure: no I/O.
pub fn export(options: &ExportOptions) -> Package {
    Package {
        api_definition: profiles::api_definition(options),
        api_properties: profiles::api_properties(options),
        settings: profiles::settings(),
        icon: png::icon_png(profiles::brand_rgb()),
    }
}

impl Package {
    /// The files as (name, bytes), in a fixed order; JSON is pretty-printed
    /// with a final newline.
    pub fn files(&self) -> Vec<(&'static str, Vec<u8>)> {
        let json = |v: &serde_json::Value| {
            let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
            text.push('\n');
            text.into_bytes()
        };
        vec![
            (API_DEFINITION_FILE, json(&self.api_definition)),
            (API_PROPERTIES_FILE, json(&self.api_properties)),
            (SETTINGS_FILE, json(&self.settings)),
            (ICON_FILE, self.icon.clone()),
        ]
    }

    /// Writes the files into `dir` (created if needed), each replaced
    /// atomically (`graphlab_fs::write_atomically`), so a reader never sees
    /// half a file. Returns the paths written.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut written = Vec::new();
        for (name, bytes) in self.files() {
            let path = dir.join(name);
            graphlab_fs::write_atomically(&path, &bytes, graphlab_fs::Access::Shared)
                .map_err(|e| Error::io(&path, e))?;
            written.push(path);
        }
        Ok(written)
    }
}

//! [`LabDir`]: the lab directory's layout, every file and folder the lab
//! keeps there named once, for `graphlab`, the lab steps and the xtask. (The
//! flow run history, `flow-runs.db`, is `graphlab_flow::history::FILE`,
//! which `History::open` finds in the directory it is given.)

use std::path::{Path, PathBuf};

/// The lab's config, in the lab directory.
pub const CONFIG_FILE: &str = "lab.toml";
/// The lab app's client secret (0600), in the lab directory.
pub const SECRET_FILE: &str = "app-secret";
/// The token cache (0600), in the lab directory.
pub const CACHE_FILE: &str = "token-cache.json";
/// The background tenant's state directory, in the lab directory.
pub const TENANT_DIR: &str = "tenant";
/// Step 3's connector packages, one folder per profile, in the lab directory.
pub const CONNECTOR_DIR: &str = "connector";
/// Step 8's exports (ARM templates and Power Automate packages), in the
/// lab directory.
pub const EXPORT_DIR: &str = "export";
/// The background tenant's process id, in the lab directory.
pub const TENANT_PID_FILE: &str = "tenant.pid";
/// The background tenant's log, in the lab directory.
pub const TENANT_LOG_FILE: &str = "tenant.log";

/// The lab directory (`.lab` by default, `--lab-dir`, `GRAPHLAB_LAB_DIR`)
/// and where each of its files is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabDir(PathBuf);

impl LabDir {
    /// The lab directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> LabDir {
        LabDir(root.into())
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.0
    }

    /// `lab.toml`: the target and the app of step 2.
    pub fn config(&self) -> PathBuf {
        self.0.join(CONFIG_FILE)
    }

    /// `app-secret`: the lab app's client secret (0600).
    pub fn secret(&self) -> PathBuf {
        self.0.join(SECRET_FILE)
    }

    /// `token-cache.json`: MSAL's token cache (0600).
    pub fn token_cache(&self) -> PathBuf {
        self.0.join(CACHE_FILE)
    }

    /// `connector/PROFILE`: step 3's package of `profile` (`lab`, `typed`).
    pub fn connector(&self, profile: &str) -> PathBuf {
        self.0.join(CONNECTOR_DIR).join(profile)
    }

    /// `export/`: step 8's ARM templates, their parameters files and Power
    /// Automate packages.
    pub fn export(&self) -> PathBuf {
        self.0.join(EXPORT_DIR)
    }

    /// `tenant/`: the background tenant's state (its database, admin secret
    /// and TLS certificate).
    pub fn tenant_state(&self) -> PathBuf {
        self.0.join(TENANT_DIR)
    }

    /// `tenant.pid`: the background tenant's process id.
    pub fn tenant_pid(&self) -> PathBuf {
        self.0.join(TENANT_PID_FILE)
    }

    /// `tenant.log`: the background tenant's log.
    pub fn tenant_log(&self) -> PathBuf {
        self.0.join(TENANT_LOG_FILE)
    }

    /// Whether the directory holds something only a lab directory holds
    /// (its config, tenant, tenant pid or log, or token cache), so that
    /// `lab reset` may remove it.
    pub fn has_lab_files(&self) -> bool {
        [
            self.config(),
            self.tenant_state(),
            self.tenant_pid(),
            self.tenant_log(),
            self.token_cache(),
        ]
        .iter()
        .any(|p| p.exists())
    }
}

impl AsRef<Path> for LabDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_under_the_root() {
        let dir = LabDir::new("/x/.lab");
        assert_eq!(dir.config(), Path::new("/x/.lab/lab.toml"));
        assert_eq!(dir.secret(), Path::new("/x/.lab/app-secret"));
        assert_eq!(dir.token_cache(), Path::new("/x/.lab/token-cache.json"));
        assert_eq!(dir.connector("lab"), Path::new("/x/.lab/connector/lab"));
        assert_eq!(dir.export(), Path::new("/x/.lab/export"));
        assert_eq!(dir.tenant_state(), Path::new("/x/.lab/tenant"));
        assert_eq!(dir.tenant_pid(), Path::new("/x/.lab/tenant.pid"));
        assert_eq!(dir.tenant_log(), Path::new("/x/.lab/tenant.log"));
    }
}

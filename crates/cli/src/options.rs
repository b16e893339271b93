//! Options every `graphlab` subcommand shares, and how endpoints resolve.

use std::path::PathBuf;

use clap::Args;

/// The real identity platform.
pub const REAL_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The real Microsoft Graph.
pub const REAL_GRAPH: &str = "https://graph.microsoft.com";

/// Where the tenant is, and where the lab keeps its files.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The emulator's base URL, used for both identity and Graph. Without it
    /// (and without the finer overrides) the real endpoints are used.
    #[arg(long, env = "GRAPHLAB_TENANT_URL", global = true, value_name = "URL")]
    pub tenant_url: Option<String>,
    /// Identity-platform base URL (overrides --tenant-url for sign-in).
    #[arg(long, env = "GRAPHLAB_AUTHORITY_URL", global = true, value_name = "URL")]
    pub authority_url: Option<String>,
    /// Microsoft Graph base URL (overrides --tenant-url for Graph calls).
    #[arg(long, env = "GRAPHLAB_GRAPH_URL", global = true, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Directory for the lab's config, caches and emulator state.
    #[arg(
        long,
        env = "GRAPHLAB_LAB_DIR",
        global = true,
        default_value = ".lab",
        value_name = "DIR"
    )]
    pub lab_dir: PathBuf,
}

impl Global {
    /// The identity-platform base URL, without a trailing slash.
    pub fn authority(&self) -> String {
        pick(&self.authority_url, &self.tenant_url, REAL_AUTHORITY)
    }

    /// The Graph base URL, without a trailing slash.
    pub fn graph(&self) -> String {
        pick(&self.graph_url, &self.tenant_url, REAL_GRAPH)
    }

    /// Whether any endpoint points somewhere other than Microsoft's services.
    pub fn is_emulated(&self) -> bool {
        self.authority() != REAL_AUTHORITY || self.graph() != REAL_GRAPH
    }

    /// Prints the resolved endpoints (`graphlab endpoints`).
    pub fn print_endpoints(&self) {
        let target = if self.is_emulated() {
            "emulated or custom"
        } else {
            "real Microsoft cloud"
        };
        println!("target:    {target}");
        println!("authority: {}", self.authority());
        println!("graph:     {}", self.graph());
        println!("lab dir:   {}", self.lab_dir.display());
    }
}

fn pick(specific: &Option<String>, tenant: &Option<String>, real: &str) -> String {
    specific
        .as_deref()
        .or(tenant.as_deref())
        .unwrap_or(real)
        .trim_end_matches('/')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(
        tenant: Option<&str>,
        authority: Option<&str>,
        graph: Option<&str>,
    ) -> Global {
        Global {
            tenant_url: tenant.map(str::to_owned),
            authority_url: authority.map(str::to_owned),
            graph_url: graph.map(str::to_owned),
            lab_dir: ".lab".into(),
        }
    }

    #[test]
    fn real_endpoints_by_default() {
        let g = global(None, None, None);
        assert_eq!(g.authority(), REAL_AUTHORITY);
        assert_eq!(g.graph(), REAL_GRAPH);
        assert!(!g.is_emulated());
    }

    #[test]
    fn tenant_url_serves_both_and_finer_overrides_win() {
        let g = global(Some("http://127.0.0.1:5580/"), None, None);
        assert_eq!(g.authority(), "http://127.0.0.1:5580");
        assert_eq!(g.graph(), "http://127.0.0.1:5580");
        let g =
            global(Some("http://127.0.0.1:5580"), Some("https://login.example"), None);
        assert_eq!(g.authority(), "https://login.example");
        assert_eq!(g.graph(), "http://127.0.0.1:5580");
        assert!(g.is_emulated());
    }
}

//! Options every `graphlab` subcommand shares, and how the target resolves:
//! the rule of `graphlab-lab`, the same as the lab steps' (flags, then
//! `GRAPHLAB_*` variables, then `.lab/lab.toml`, then the embedded tenant).

use std::{path::PathBuf, sync::Arc};

use anyhow::bail;
use clap::Args;
use graphlab_auth::{
    AuthClient, Authority, Secret, SilentTokenProvider, StaticToken, TokenCache,
    TokenProvider,
};
use graphlab_lab::{LabConfig, LabDir, Resolved, TargetArgs};

use crate::output::outln;

/// Where the tenant is, and where the lab keeps its files.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Where the tenant is (default: as the lab's lab.toml says, else the
    /// embedded tenant on 127.0.0.1:5580).
    #[command(flatten)]
    pub target: TargetArgs,
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
    /// The lab directory's files.
    pub fn lab(&self) -> LabDir {
        LabDir::new(&self.lab_dir)
    }

    /// The target, resolved as the lab steps resolve it; `tenant` is a
    /// command's own `--tenant`, if it has one.
    pub fn resolve(&self, tenant: Option<&str>) -> anyhow::Result<Resolved> {
        let config = LabConfig::load(&self.lab_dir)?;
        Ok(graphlab_lab::resolve(
            &self.target,
            tenant,
            &config,
            &self.lab().config(),
            &graphlab_lab::process_env,
        ))
    }

    /// Resolves the target and says on stderr which it is (stdout stays the
    /// command's own output).
    pub fn announce(&self, tenant: Option<&str>) -> anyhow::Result<Resolved> {
        let resolved = self.resolve(tenant)?;
        eprintln!("graphlab: target: {}", resolved.describe());
        Ok(resolved)
    }

    /// The lab's token cache.
    pub fn cache(&self) -> TokenCache {
        TokenCache::file(self.lab().token_cache())
    }

    /// A client of the resolved identity platform.
    pub fn auth_client(
        &self,
        resolved: &Resolved,
        client_id: &str,
    ) -> anyhow::Result<AuthClient> {
        let authority =
            Authority::new(&resolved.target.authority, &resolved.target.tenant)?;
        Ok(AuthClient::new(authority, client_id, self.cache()))
    }

    /// Tokens for Graph calls: `access_token` if given, else the account
    /// `client_id` signed in (`account`, or the only one), served silently
    /// with `scopes` (none: any token cached for the account).
    pub async fn tokens(
        &self,
        resolved: &Resolved,
        access_token: Option<&str>,
        client_id: &str,
        account: Option<&str>,
        scopes: &[String],
    ) -> anyhow::Result<Arc<dyn TokenProvider>> {
        if let Some(token) = access_token {
            return Ok(Arc::new(StaticToken(Secret::new(token))));
        }
        let client = self.auth_client(resolved, client_id)?;
        let accounts = client.signed_in_accounts().await?;
        if accounts.is_empty() {
            bail!(
                "no account is signed in at {} ({}): run `graphlab login`, or pass --access-token",
                resolved.target.authority,
                resolved.source
            );
        }
        let account = graphlab_lab::choose_account(accounts, account)?;
        Ok(Arc::new(SilentTokenProvider { client, account, scopes: scopes.to_vec() }))
    }

    /// Prints the resolved endpoints (`graphlab endpoints`).
    pub fn print_endpoints(&self) -> anyhow::Result<()> {
        let resolved = self.resolve(None)?;
        let kind = if resolved.is_emulated() {
            "emulated or custom"
        } else {
            "real Microsoft cloud"
        };
        outln!("target:    {kind}");
        outln!("authority: {}", resolved.target.authority);
        outln!("graph:     {}", resolved.target.graph);
        outln!("tenant:    {}", resolved.target.tenant);
        outln!("source:    {}", resolved.source);
        outln!("lab dir:   {}", self.lab_dir.display());
        Ok(())
    }
}

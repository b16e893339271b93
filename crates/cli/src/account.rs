//! `graphlab login | logout | whoami | token`: glue over `graphlab-auth`.

use std::{process::ExitCode, time::SystemTime};

use anyhow::{Context, bail};
use clap::Args;
use graphlab_auth::{Account, AuthClient, Authority, Interactive, TokenCache};
use graphlab_tenant::seed::GRAPH_CLI_APP_ID;

use crate::options::Global;

/// Where the token cache lives in the lab directory.
pub const CACHE_FILE: &str = "token-cache.json";

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Use the device code flow instead of a browser.
    #[arg(long)]
    device_code: bool,
    /// Tenant: organizations, common, a tenant id or a domain.
    #[arg(long, default_value = "organizations")]
    tenant: String,
    /// Client (application) id; default: Microsoft Graph Command Line Tools.
    #[arg(long, default_value = GRAPH_CLI_APP_ID)]
    client_id: String,
    /// Delegated scopes to ask for.
    #[arg(long, num_args = 1.., default_values_t = ["User.Read".to_owned()])]
    scopes: Vec<String>,
    /// Identity-platform instance URL (overrides --authority-url / --tenant-url).
    #[arg(long, value_name = "URL")]
    authority: Option<String>,
    /// Pre-fill the account.
    #[arg(long)]
    login_hint: Option<String>,
    /// Loopback port for the redirect (that of the app's registered
    /// `http://localhost:PORT` redirect URI); default: any free port.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The account to remove (default: the only one).
    #[arg(long)]
    account: Option<String>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Scopes the token must carry.
    #[arg(long, num_args = 1.., default_values_t = ["User.Read".to_owned()])]
    scopes: Vec<String>,
    /// The account (default: the only one).
    #[arg(long)]
    account: Option<String>,
    /// Client id the token was obtained with.
    #[arg(long, default_value = GRAPH_CLI_APP_ID)]
    client_id: String,
}

fn cache(global: &Global) -> TokenCache {
    TokenCache::file(global.lab_dir.join(CACHE_FILE))
}

fn client(
    global: &Global,
    instance: Option<&str>,
    tenant: &str,
    client_id: &str,
) -> anyhow::Result<AuthClient> {
    let instance = instance.map(str::to_owned).unwrap_or_else(|| global.authority());
    let authority = Authority::new(&instance, tenant)?;
    Ok(AuthClient::new(authority, client_id, cache(global)))
}

pub async fn login(global: &Global, args: LoginArgs) -> anyhow::Result<ExitCode> {
    let client =
        client(global, args.authority.as_deref(), &args.tenant, &args.client_id)?;
    let scopes: Vec<&str> = args.scopes.iter().map(String::as_str).collect();
    let result = if args.device_code {
        client
            .acquire_token_device_code(&scopes, |prompt| eprintln!("{}", prompt.message))
            .await?
    } else {
        let mut options = Interactive::with_system_browser();
        options.login_hint = args.login_hint.clone();
        options.port = args.port;
        client.acquire_token_interactive(&scopes, &options).await?
    };
    let who = result.account.as_ref().map_or("(app)", |a| a.username.as_str());
    println!("signed in as {who}; scopes: {}", result.scopes.join(" "));
    Ok(ExitCode::SUCCESS)
}

fn pick<'a>(
    accounts: &'a [Account],
    wanted: Option<&str>,
) -> anyhow::Result<&'a Account> {
    match wanted {
        Some(name) => {
            accounts.iter().find(|a| a.username.eq_ignore_ascii_case(name)).with_context(
                || format!("no cached account '{name}' (see `graphlab whoami`)"),
            )
        }
        None => match accounts {
            [only] => Ok(only),
            [] => bail!("no account is signed in: run `graphlab login`"),
            _ => bail!(
                "several accounts are signed in: choose one with --account (see `graphlab whoami`)"
            ),
        },
    }
}

pub async fn logout(global: &Global, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let client = client(global, None, "organizations", GRAPH_CLI_APP_ID)?;
    let accounts = client.accounts().await?;
    let account = pick(&accounts, args.account.as_deref())?;
    client.remove_account(account).await?;
    println!("signed out {}", account.username);
    Ok(ExitCode::SUCCESS)
}

pub async fn whoami(global: &Global) -> anyhow::Result<ExitCode> {
    let data = cache(global).read().await?;
    if data.accounts.is_empty() {
        println!(
            "no account is signed in (cache: {})",
            global.lab_dir.join(CACHE_FILE).display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for account in data.accounts.values() {
        println!("{} ({})", account.username, account.name);
        println!("  tenant:      {}", account.realm);
        println!("  environment: {}", account.environment);
        for at in data
            .access_tokens
            .values()
            .filter(|c| c.home_account_id == account.home_account_id)
        {
            let left = at.expires_at().saturating_sub(now);
            println!("  client {}: scopes {}", at.client_id, at.target);
            println!("    access token expires in {} min", left / 60);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token(global: &Global, args: TokenArgs) -> anyhow::Result<ExitCode> {
    let client = client(global, None, "organizations", &args.client_id)?;
    let accounts = client.accounts().await?;
    let account = pick(&accounts, args.account.as_deref())?;
    let scopes: Vec<&str> = args.scopes.iter().map(String::as_str).collect();
    let result = client.acquire_token_silent(account, &scopes, false).await?;
    println!("{}", result.access_token.expose());
    Ok(ExitCode::SUCCESS)
}

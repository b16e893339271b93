//! `graphlab login | logout | whoami | token`: glue over `graphlab-auth`.

use std::{process::ExitCode, time::SystemTime};

use anyhow::bail;
use clap::Args;
use graphlab_auth::{Interactive, microsoft::GRAPH_CLI_CLIENT_ID};

use crate::options::Global;
use crate::output::outln;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Use the device code flow instead of a browser.
    #[arg(long)]
    device_code: bool,
    /// Tenant: organizations, common, a tenant id or a domain (default: the
    /// lab's, else organizations).
    #[arg(long)]
    tenant: Option<String>,
    /// Client (application) id; default: Microsoft Graph Command Line Tools.
    #[arg(long, default_value = GRAPH_CLI_CLIENT_ID)]
    client_id: String,
    /// Delegated scopes to ask for.
    #[arg(long, num_args = 1.., default_values_t = ["User.Read".to_owned()])]
    scopes: Vec<String>,
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
    /// The account to sign out (default: the only one).
    #[arg(long)]
    account: Option<String>,
    /// The client whose tokens are removed (default: the one `graphlab
    /// login` uses); other apps' tokens, such as step 4's connection, stay.
    #[arg(long, default_value = GRAPH_CLI_CLIENT_ID)]
    client_id: String,
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
    #[arg(long, default_value = GRAPH_CLI_CLIENT_ID)]
    client_id: String,
}

pub async fn login(global: &Global, args: LoginArgs) -> anyhow::Result<ExitCode> {
    let resolved = global.announce(args.tenant.as_deref())?;
    let client = global.auth_client(&resolved, &args.client_id)?;
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
    outln!("signed in as {who}; scopes: {}", result.scopes.join(" "));
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(global: &Global, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let resolved = global.announce(None)?;
    let client = global.auth_client(&resolved, &args.client_id)?;
    let accounts = client.signed_in_accounts().await?;
    if accounts.is_empty() {
        bail!(
            "no account is signed in with client {} at {}: nothing to sign out",
            args.client_id,
            resolved.target.authority
        );
    }
    let account = graphlab_lab::choose_account(accounts, args.account.as_deref())?;
    client.sign_out(&account).await?;
    outln!("signed out {} (client {})", account.username, args.client_id);
    Ok(ExitCode::SUCCESS)
}

pub async fn whoami(global: &Global) -> anyhow::Result<ExitCode> {
    global.announce(None)?;
    let data = global.cache().read().await?;
    if data.accounts.is_empty() {
        outln!(
            "no account is signed in (cache: {})",
            global.lab().token_cache().display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for account in data.accounts.values() {
        outln!("{} ({})", account.username, account.name);
        outln!("  tenant:      {}", account.realm);
        outln!("  environment: {}", account.environment);
        for at in data
            .access_tokens
            .values()
            .filter(|c| c.home_account_id == account.home_account_id)
        {
            let left = at.expires_at().saturating_sub(now);
            outln!("  client {}: scopes {}", at.client_id, at.target);
            outln!("    access token expires in {} min", left / 60);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token(global: &Global, args: TokenArgs) -> anyhow::Result<ExitCode> {
    let resolved = global.announce(None)?;
    let client = global.auth_client(&resolved, &args.client_id)?;
    let accounts = client.signed_in_accounts().await?;
    if accounts.is_empty() {
        bail!(
            "no account is signed in with client {} at {} ({}): run `graphlab login`",
            args.client_id,
            resolved.target.authority,
            resolved.source
        );
    }
    let account = graphlab_lab::choose_account(accounts, args.account.as_deref())?;
    let scopes: Vec<&str> = args.scopes.iter().map(String::as_str).collect();
    let result = client.acquire_token_silent(&account, &scopes, false).await?;
    crate::output::line(result.access_token.expose());
    Ok(ExitCode::SUCCESS)
}

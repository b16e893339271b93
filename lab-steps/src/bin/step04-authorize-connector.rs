//! Step 4 — authorize the connector: the cached connection.
//!
//! In Power Automate, the admin creates a connection to the custom connector,
//! signs in and ticks "Consent on behalf of your organization". The platform
//! then keeps the user's tokens, which is what the HTTP connector cannot do.
//! Here the lab's app signs the admin in with the authorization code flow
//! (PKCE, the client secret, the loopback redirect URI registered by step 3),
//! asking for the organisation's consent; the tokens land in the lab's token
//! cache — the cached connection. A second run is silent: it only reads the
//! cache, refreshing the token if it has expired.
//!
//! ```console
//! cargo run -p lab-steps --bin step04-authorize-connector
//! ```

use clap::Parser;
use lab_steps::{CONNECTOR_SCOPES, Lab, LabArgs};
use serde_json::json;

/// Sign in with the lab's app and cache the connection.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
}

fn main() -> std::process::ExitCode {
    lab_steps::run(step(Args::parse()))
}

async fn step(args: Args) -> anyhow::Result<()> {
    let lab = Lab::open(&args.lab)?;
    let port = lab.app()?.redirect_port;

    // ANCHOR: signin
    let connector = lab.connector_client()?;
    let (result, created) = match lab.cached_token(&connector, CONNECTOR_SCOPES).await? {
        Some(cached) => (cached, false),
        None => {
            let prompt = Some("admin_consent");
            let signed_in = lab
                .sign_in_with_browser(&connector, CONNECTOR_SCOPES, port, prompt)
                .await?;
            (signed_in, true)
        }
    };
    // ANCHOR_END: signin

    // ANCHOR: show
    let account = result.account.as_ref().map_or("?", |a| a.username.as_str());
    // The cache keeps scopes in lower case; show the permissions' own names.
    let mut scopes: Vec<String> = result
        .scopes
        .iter()
        .map(|s| match CONNECTOR_SCOPES.iter().find(|c| c.eq_ignore_ascii_case(s)) {
            Some(name) => (*name).to_owned(),
            None => s.clone(),
        })
        .collect();
    scopes.sort();
    if created {
        lab.say("Created the connection (consented for the organisation)");
    } else {
        lab.say("Reused the cached connection (no sign-in needed)");
    }
    lab.say(format!("  account: {account}"));
    lab.say(format!("  app:     {}", lab.app()?.name));
    lab.say(format!("  scopes:  {}", scopes.join(" ")));
    lab.say(format!("  cache:   {}", lab_steps::shown(&lab.files().token_cache())));
    // ANCHOR_END: show

    lab.report(&json!({
        "step": "step04-authorize-connector",
        "changed": created,
        "account": account,
        "scopes": scopes,
    }));
    Ok(())
}

//! Step 2 — register the lab's application in Entra ID.
//!
//! The tenant's admin signs in (device code flow, with Microsoft Graph
//! Command Line Tools, a public client every tenant has) and registers
//! `MS Graph Batch App`: multi-tenant, with the delegated permission
//! `Group.ReadWrite.All` on Microsoft Graph, and a client secret described
//! `forever`. The client id goes to `.lab/lab.toml`; the secret, shown only
//! once by Graph, to `.lab/app-secret` (mode 0600). A second run finds the app
//! instead of registering another one.
//!
//! ```console
//! cargo run -p lab-steps --bin step02-register-app
//! ```

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use graphlab_auth::{Secret, StaticToken};
use graphlab_batch::{BatchItem, Version};
use lab_steps::{
    APP_NAME, AppConfig, CONNECTOR_SCOPES, GRAPH_APP_ID, Lab, LabArgs, call, field,
    filter_eq, shown,
};
use serde_json::{Value, json};

/// Register the lab's app, with its permission and a client secret.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
    /// Adopt this existing registration (client id) instead of finding or
    /// creating one by name.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
}

fn main() -> std::process::ExitCode {
    lab_steps::run(step(Args::parse()))
}

async fn step(args: Args) -> anyhow::Result<()> {
    let mut lab = Lab::open(&args.lab)?;
    let mut changed = false;

    // ANCHOR: signin
    let admin = lab.admin_client()?;
    let signed_in =
        lab.sign_in_with_device_code(&admin, &["Application.ReadWrite.All"]).await?;
    let who = signed_in.account.as_ref().map_or("?", |a| a.username.as_str());
    lab.say(format!("Signed in as {who}"));
    let graph = lab.graph(Arc::new(StaticToken(signed_in.access_token)), Version::V1);
    // ANCHOR_END: signin

    // ANCHOR: register
    let filter = match &args.client_id {
        Some(id) => filter_eq("appId", id),
        None => filter_eq("displayName", APP_NAME),
    };
    let found = call(&graph, BatchItem::get("find", format!("/applications?{filter}")))
        .await?
        .json::<Value>()?;
    let app = match found["value"].as_array().and_then(|apps| apps.first()) {
        Some(app) => {
            lab.say(format!(
                "Found the app registration '{}'",
                field(app, "displayName")?
            ));
            app.clone()
        }
        None => {
            // The permission's id, as Microsoft Graph publishes it in the tenant.
            let graph_sp = call(
                &graph,
                BatchItem::get(
                    "graph",
                    format!("/servicePrincipals?{}", filter_eq("appId", GRAPH_APP_ID)),
                ),
            )
            .await?
            .json::<Value>()?;
            let scopes = &graph_sp["value"][0]["oauth2PermissionScopes"];
            let access: Vec<Value> = CONNECTOR_SCOPES
                .iter()
                .map(|name| {
                    let scope = scopes
                        .as_array()
                        .and_then(|all| all.iter().find(|s| s["value"] == *name))
                        .with_context(|| {
                            format!("Microsoft Graph publishes no {name}")
                        })?;
                    Ok(json!({ "id": scope["id"], "type": "Scope" }))
                })
                .collect::<anyhow::Result<_>>()?;
            let registration = json!({
                "displayName": APP_NAME,
                "signInAudience": "AzureADMultipleOrgs",
                "requiredResourceAccess": [
                    { "resourceAppId": GRAPH_APP_ID, "resourceAccess": access }
                ],
            });
            let created =
                call(&graph, BatchItem::post("register", "/applications", registration))
                    .await?
                    .json::<Value>()?;
            lab.say(format!("Registered '{APP_NAME}' (multi-tenant)"));
            changed = true;
            created
        }
    };
    let client_id = field(&app, "appId")?.to_owned();
    let object_id = field(&app, "id")?.to_owned();
    lab.say(format!("  client id:   {client_id}"));
    lab.say(format!("  permissions: {} (delegated)", CONNECTOR_SCOPES.join(", ")));
    // ANCHOR_END: register

    // ANCHOR: secret
    let same_app = lab.config.app.as_ref().is_some_and(|a| a.client_id == client_id);
    if same_app && lab.secret()?.is_some() {
        lab.say(format!("Client secret already stored in {}", shown(&lab.secret_path())));
    } else {
        let added = call(
            &graph,
            BatchItem::post(
                "secret",
                format!("/applications/{object_id}/addPassword"),
                json!({ "passwordCredential": { "displayName": "forever" } }),
            ),
        )
        .await?
        .json::<Value>()?;
        lab.store_secret(&Secret::new(field(&added, "secretText")?))?;
        lab.say(format!(
            "Added client secret 'forever'; stored in {} (Graph shows it only once)",
            shown(&lab.secret_path())
        ));
        changed = true;
    }
    // ANCHOR_END: secret

    // ANCHOR: store
    let redirect_port = lab
        .config
        .app
        .as_ref()
        .map_or(lab_steps::default_redirect_port(), |a| a.redirect_port);
    let app_config =
        AppConfig { name: APP_NAME.to_owned(), client_id, object_id, redirect_port };
    if lab.config.app.as_ref() != Some(&app_config)
        || lab.config.target.as_ref() != Some(&lab.target)
    {
        lab.config.app = Some(app_config.clone());
        lab.save()?;
        lab.say(format!("Saved {}", shown(&lab.files().config())));
        changed = true;
    }
    // ANCHOR_END: store

    lab.report(&json!({
        "step": "step02-register-app",
        "changed": changed,
        "signedInAs": who,
        "app": { "name": APP_NAME, "clientId": app_config.client_id, "objectId": app_config.object_id },
        "permissions": CONNECTOR_SCOPES,
        "secretFile": lab.secret_path(),
    }));
    Ok(())
}

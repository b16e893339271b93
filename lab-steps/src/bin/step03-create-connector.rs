//! Step 3 — create the custom connector.
//!
//! In the portal, the connector is made from blank or by importing the lab's
//! OpenAPI file. Here, both packages are exported in paconn's layout (ready
//! for `paconn create` or an import): the `lab` profile, which is the lab's
//! `MSGraph-Delegate-Batch.swagger.json`, and the `typed` profile, whose
//! request and response fields show up in the flow designer. Both are
//! validated offline. Then, as at the end of the lab's step 3, the
//! connector's redirect URL is added to the app's web redirect URIs, with the
//! loopback URI these programs use when they play the connector's part, and
//! `graphlab studio`'s address to its single-page application ones.
//!
//! ```console
//! cargo run -p lab-steps --bin step03-create-connector
//! ```

use std::{fs, sync::Arc};

use clap::Parser;
use graphlab_auth::StaticToken;
use graphlab_batch::{BatchItem, Method, Version};
use graphlab_connector::{
    ExportOptions, Profile, REDIRECT_URL, export, redirect_url_for, validate_path,
};
use lab_steps::{Lab, LabArgs, call, shown};
use serde_json::{Value, json};

/// Export and validate the connector packages; register the redirect URIs.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
    /// Loopback port of the `http://localhost:PORT` redirect URI used by
    /// step 4 (default: the one in lab.toml, else 5581).
    #[arg(long)]
    redirect_port: Option<u16>,
    /// The id Power Platform gave the connector once created: its own
    /// redirect URL (`.../redirect/ID`) is registered too.
    #[arg(long, value_name = "ID")]
    connector_id: Option<String>,
}

fn main() -> std::process::ExitCode {
    lab_steps::run(step(Args::parse()))
}

async fn step(args: Args) -> anyhow::Result<()> {
    let mut lab = Lab::open(&args.lab)?;
    let app = lab.app()?.clone();
    let mut changed = false;
    let mut packages = Vec::new();

    // ANCHOR: export
    for (name, profile) in [("lab", Profile::Lab), ("typed", Profile::Typed)] {
        let options = ExportOptions {
            profile,
            client_id: app.client_id.clone(),
            ..ExportOptions::default()
        };
        let package = export(&options);
        let dir = lab.files().connector(name);
        let unchanged = package
            .files()
            .iter()
            .all(|(file, bytes)| fs::read(dir.join(file)).is_ok_and(|old| old == *bytes));
        if unchanged {
            lab.say(format!("Package '{name}' is up to date in {}", shown(&dir)));
        } else {
            package.write_to(&dir)?;
            lab.say(format!("Exported package '{name}' to {}", shown(&dir)));
            changed = true;
        }
        packages.push((name, dir));
    }
    // ANCHOR_END: export

    // ANCHOR: validate
    let mut validation = Vec::new();
    for (name, dir) in &packages {
        let report = validate_path(dir, false)?;
        lab.say(format!(
            "Validated '{name}': {} error(s), {} warning(s)",
            report.errors(),
            report.warnings()
        ));
        for finding in &report.findings {
            lab.say(format!("  {finding}"));
        }
        anyhow::ensure!(report.is_ok(), "package '{name}' is not valid:\n{report}");
        validation.push(json!({ "package": name, "dir": dir, "report": report }));
    }
    // ANCHOR_END: validate

    // ANCHOR: redirect
    let port = args.redirect_port.unwrap_or(app.redirect_port);
    let mut web = vec![REDIRECT_URL.to_owned(), format!("http://localhost:{port}")];
    if let Some(id) = &args.connector_id {
        web.push(redirect_url_for(id));
    }
    // graphlab studio signs in from its page as a single-page application.
    let spa = vec![graphlab_lab::studio_redirect_uri(graphlab_lab::STUDIO_PORT)];
    let admin = lab.admin_client()?;
    let token =
        lab.sign_in_with_device_code(&admin, &["Application.ReadWrite.All"]).await?;
    let graph = lab.graph(Arc::new(StaticToken(token.access_token)), Version::V1);
    let url = format!("/applications/{}", app.object_id);
    let current = call(&graph, BatchItem::get("app", format!("{url}?$select=web,spa")))
        .await?
        .json::<Value>()?;
    let mut patch = serde_json::Map::new();
    for (platform, wanted, page) in
        [("web", &web, "Web"), ("spa", &spa, "Single-page application")]
    {
        let mut uris: Vec<String> = current[platform]["redirectUris"]
            .as_array()
            .map(|a| a.iter().filter_map(|u| u.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let missing: Vec<&String> = wanted.iter().filter(|w| !uris.contains(w)).collect();
        if missing.is_empty() {
            lab.say(format!(
                "Redirect URIs already registered (Authentication, {page}):"
            ));
        } else {
            uris.extend(missing.into_iter().cloned());
            patch.insert(platform.to_owned(), json!({ "redirectUris": uris }));
            lab.say(format!("Adding redirect URIs (Authentication, {page}):"));
        }
        for uri in wanted {
            lab.say(format!("  {uri}"));
        }
    }
    if !patch.is_empty() {
        let item =
            BatchItem::new("redirect", Method::Patch, &url).json(Value::Object(patch));
        call(&graph, item).await?;
        changed = true;
    }
    // ANCHOR_END: redirect

    if app.redirect_port != port {
        if let Some(saved) = lab.config.app.as_mut() {
            saved.redirect_port = port;
        }
        lab.save()?;
        changed = true;
    }
    lab.report(&json!({
        "step": "step03-create-connector",
        "changed": changed,
        "packages": validation,
        "redirectUris": web,
        "spaRedirectUris": spa,
    }));
    Ok(())
}

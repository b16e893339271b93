//! `graphlab studio`: the lab in a browser (graphlab-studio), on 127.0.0.1
//! only. First stdout line: `graphlab studio listening on
//! http://127.0.0.1:PORT/`, as `graphlab tenant serve` prints; then the
//! system browser opens it unless `--no-open`.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::Args;
use graphlab_auth::{Secret, microsoft};
use graphlab_lab::LabConfig;
use graphlab_studio::StudioConfig;

use crate::options::Global;

#[derive(Debug, Args)]
pub struct StudioArgs {
    /// The port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = graphlab_lab::STUDIO_PORT, value_name = "P")]
    port: u16,
    /// Do not open the system browser.
    #[arg(long)]
    no_open: bool,
    /// The single-page application the page signs in as (default: on the
    /// emulated tenant, its seeded Graph Lab Studio client; on a real
    /// tenant, the lab's app of step 2 from lab.toml, else the Graph CLI's
    /// client id). On a real tenant, that app needs the SPA redirect URI
    /// http://127.0.0.1:PORT/ (step 3 registers the default port's).
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// The tenant to sign in to (default: the lab's, else organizations).
    #[arg(long, value_name = "TENANT")]
    tenant: Option<String>,
    /// The directory of the lab's flow definitions.
    #[arg(long, default_value = "lab-steps/flows", value_name = "DIR")]
    flows: PathBuf,
}

pub async fn run(global: &Global, args: StudioArgs) -> anyhow::Result<ExitCode> {
    let resolved = global.announce(args.tenant.as_deref())?;
    let lab = LabConfig::load(&global.lab_dir)?;
    let client_id = args.client_id.clone().unwrap_or_else(|| {
        default_client_id(
            resolved.is_emulated(),
            lab.app.as_ref().map(|a| a.client_id.as_str()),
        )
    });
    let mut config = StudioConfig::for_target(
        &resolved,
        &client_id,
        global.lab_dir.clone(),
        args.flows.clone(),
    );
    if config.emulated {
        // The admin secret of the lab's emulator (graphlab tenant serve's
        // state directory), for the Faults page; it stays in this process.
        config.admin_secret =
            graphlab_tenant::read_admin_secret(&global.lab_dir.join("tenant"))
                .ok()
                .filter(|s| !s.is_empty())
                .map(Secret::new);
    }
    let running = graphlab_studio::serve(config, args.port)
        .await
        .context("cannot start the studio")?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "graphlab studio listening on {}", running.base_url());
        let _ = out.flush();
    }
    if !args.no_open {
        open_browser(running.base_url());
    }
    tokio::select! {
        result = running.wait() => result.context("the studio stopped")?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// The client id the page signs in with when `--client-id` is not given:
/// the emulator's seeded SPA client (registered with the studio's loopback
/// redirect URIs), else the lab's app, else the Graph CLI's.
fn default_client_id(emulated: bool, lab_app: Option<&str>) -> String {
    if emulated {
        graphlab_lab::STUDIO_CLIENT_ID.to_owned()
    } else {
        lab_app.unwrap_or(microsoft::GRAPH_CLI_CLIENT_ID).to_owned()
    }
}

/// Opens `url` in the system browser; a failure is only reported (the
/// address is on stdout).
fn open_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(_) => {}
        Err(e) => {
            eprintln!("graphlab: could not open a browser ({program}: {e}); open {url}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::default_client_id;

    #[test]
    fn the_emulator_gets_the_seeded_studio_client_and_a_real_tenant_the_labs_app() {
        assert_eq!(
            default_client_id(true, Some("lab-app")),
            graphlab_lab::STUDIO_CLIENT_ID
        );
        assert_eq!(default_client_id(false, Some("lab-app")), "lab-app");
        assert_eq!(
            default_client_id(false, None),
            graphlab_auth::microsoft::GRAPH_CLI_CLIENT_ID
        );
    }
}

//! `graphlab connector export|validate`: the lab's custom connector as a
//! paconn package, and offline checks of any package or swagger file, over
//! `graphlab-connector`.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use graphlab_connector::{ExportOptions, Profile};

use crate::output::outln;

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Write the connector package (apiDefinition.swagger.json,
    /// apiProperties.json, settings.json, icon.png) into a directory.
    Export(ExportArgs),
    /// Check a package directory or a swagger file, offline: Microsoft's JSON
    /// Schemas, Swagger 2.0 structure, certification rules.
    Validate(ValidateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProfileArg {
    /// The lab's MSGraph-Delegate-Batch.swagger.json, as published.
    Lab,
    /// Typed Batch and BatchBeta operations that pass certification.
    Typed,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The package directory (created if needed; files are replaced).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "typed")]
    profile: ProfileArg,
    /// The connector's title (no "API" or "Connector" for certification).
    #[arg(long)]
    title: Option<String>,
    /// The application (client) id registered in step 2.
    #[arg(long)]
    client_id: Option<String>,
    /// The tenant in the sign-in URLs.
    #[arg(long)]
    tenant: Option<String>,
    /// The identity platform's login URL.
    #[arg(long)]
    login_url: Option<String>,
    /// The resource the connection's token is for.
    #[arg(long)]
    resource_uri: Option<String>,
    /// OAuth scopes (none by default, as in the lab).
    #[arg(long, num_args = 1..)]
    scopes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A package directory or a single JSON file.
    path: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Treat the certification rules as errors.
    #[arg(long)]
    certification: bool,
}

pub fn run(cmd: ConnectorCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConnectorCommand::Export(args) => export(args),
        ConnectorCommand::Validate(args) => validate(args),
    }
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let defaults = ExportOptions::default();
    let options = ExportOptions {
        profile: match args.profile {
            ProfileArg::Lab => Profile::Lab,
            ProfileArg::Typed => Profile::Typed,
        },
        title: args.title,
        client_id: args.client_id.unwrap_or(defaults.client_id),
        tenant: args.tenant.unwrap_or(defaults.tenant),
        login_url: args.login_url.unwrap_or(defaults.login_url),
        scopes: args.scopes,
        resource_uri: args.resource_uri.unwrap_or(defaults.resource_uri),
        host: defaults.host,
    };
    let package = graphlab_connector::export(&options);
    let written = package
        .write_to(&args.out)
        .with_context(|| format!("cannot write the package to {}", args.out.display()))?;
    for path in written {
        outln!("{}", path.display());
    }
    if options.client_id == graphlab_connector::DEFAULT_CLIENT_ID {
        eprintln!(
            "note: apiProperties.json has a placeholder client id; pass --client-id with \
             the Application (client) ID from step 2"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let report = graphlab_connector::validate_path(&args.path, args.certification)
        .with_context(|| format!("cannot validate {}", args.path.display()))?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for finding in &report.findings {
            outln!("{finding}");
        }
        outln!(
            "{}: {} error(s), {} warning(s)",
            args.path.display(),
            report.errors(),
            report.warnings()
        );
    }
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

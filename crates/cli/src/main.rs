//! `graphlab`: the lab's command-line tool, thin glue over the libraries.
//!
//! ```text
//! graphlab tenant serve                 # the emulated tenant on 127.0.0.1:5580
//! graphlab tenant token --scopes User.Read
//! graphlab graph GET /me                # any Graph request, printed as JSON
//! ```

mod account;
mod batch;
mod connector;
mod flow;
mod graph;
mod options;
mod output;
mod studio;
mod tenant;
mod trust;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use options::Global;

/// The Microsoft Graph JSON-batch lab, on an emulated tenant or a real one.
#[derive(Debug, Parser)]
#[command(name = "graphlab", version, about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(flatten)]
    trust: trust::TrustArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run or query the embedded emulated tenant.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Run JSON-batch jobs.
    #[command(subcommand)]
    Batch(batch::BatchCommand),
    /// Export the lab's custom connector package or validate one, offline.
    #[command(subcommand)]
    Connector(connector::ConnectorCommand),
    /// Run the lab's flows locally: run, runs, show, eval.
    #[command(subcommand)]
    Flow(flow::FlowCommand),
    /// Send one request to Microsoft Graph and print the answer.
    Graph(graph::GraphArgs),
    /// The lab in a browser on 127.0.0.1: a batch explorer, the tenant's
    /// contents, the flows drawn with their runs, the emulator's faults.
    Studio(studio::StudioArgs),
    /// Show which identity platform and Graph the commands will use.
    Endpoints,
    /// Sign in (browser with PKCE, or --device-code) and cache the tokens.
    Login(account::LoginArgs),
    /// Remove an account and its tokens from the cache.
    Logout(account::LogoutArgs),
    /// Show the cached accounts: tenant, granted scopes, expiry.
    Whoami,
    /// Print an access token (silently, from the cache or by refreshing).
    Token(account::TokenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GRAPHLAB_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(err) = trust::install(&cli.global, &cli.trust) {
        eprintln!("graphlab: {err:#}");
        return ExitCode::FAILURE;
    }
    // The emulator serves on every core; the client commands are I/O-bound
    // and cheaper on one thread (no cross-thread wake-ups: `cargo xtask bench
    // batch` measured 13 µs of CPU per batched item on two workers, 8 on one).
    let runtime = if matches!(cli.command, Command::Tenant(_)) {
        tokio::runtime::Runtime::new()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("graphlab: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Tenant(cmd) => tenant::run(&cli.global, cmd).await,
            Command::Graph(args) => graph::run(&cli.global, args).await,
            Command::Batch(cmd) => batch::run(&cli.global, cmd).await,
            Command::Connector(cmd) => connector::run(cmd),
            Command::Flow(cmd) => flow::run(&cli.global, cmd).await,
            Command::Studio(args) => studio::run(&cli.global, args).await,
            Command::Login(args) => account::login(&cli.global, args).await,
            Command::Logout(args) => account::logout(&cli.global, args).await,
            Command::Whoami => account::whoami(&cli.global).await,
            Command::Token(args) => account::token(&cli.global, args).await,
            Command::Endpoints => {
                cli.global.print_endpoints().map(|()| ExitCode::SUCCESS)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("graphlab: {}", graphlab_lab::cause_line(&*err));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::CommandFactory;

    use super::Cli;

    /// Walks the command tree: leaf commands as `graphlab a b`, long options.
    fn walk(
        cmd: &clap::Command,
        path: &str,
        leaves: &mut Vec<String>,
        longs: &mut Vec<(String, String)>,
    ) {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                longs.push((path.to_owned(), long.to_owned()));
            }
        }
        let mut subs = cmd.get_subcommands().peekable();
        if subs.peek().is_none() {
            leaves.push(path.to_owned());
        }
        for sub in subs {
            walk(sub, &format!("{path} {}", sub.get_name()), leaves, longs);
        }
    }

    /// The book's CLI reference is written for readers, by hand; this keeps it
    /// true: every command and every long option of `graphlab` is on the
    /// page, and every option the page names exists.
    #[test]
    fn the_cli_reference_names_every_command_and_option_and_no_other() {
        let page = include_str!("../../../docs/src/cli-reference.md");
        let (mut leaves, mut longs) = (Vec::new(), Vec::new());
        walk(&Cli::command(), "graphlab", &mut leaves, &mut longs);
        // `--out` as a word: not the start of `--output`.
        let mentions = |option: &str| {
            page.match_indices(option).any(|(at, _)| {
                !page[at + option.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
            })
        };
        let mut missing: Vec<String> = leaves
            .iter()
            .filter(|leaf| !page.contains(&format!("`{leaf}")))
            .cloned()
            .collect();
        missing.extend(
            longs
                .iter()
                .filter(|(_, long)| !mentions(&format!("--{long}")))
                .map(|(path, long)| format!("{path} --{long}")),
        );
        assert!(
            missing.is_empty(),
            "docs/src/cli-reference.md does not mention: {missing:#?}"
        );
        let known: BTreeSet<&str> = longs
            .iter()
            .map(|(_, long)| long.as_str())
            .chain(["help", "version"])
            .collect();
        let named: BTreeSet<&str> = page
            .split("--")
            .skip(1)
            .map(|rest| {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .filter(|name| name.starts_with(|c: char| c.is_ascii_lowercase()))
            .collect();
        let unknown: Vec<&&str> = named.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "docs/src/cli-reference.md names options graphlab does not have: {unknown:?}"
        );
    }
}

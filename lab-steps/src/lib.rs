//! What every lab step shares, so that each step's own file reads as the step:
//! where the tenant is, the lab's config (`.lab/lab.toml`) and secret file,
//! signing in, calling Graph through `$batch`, and printing — readable lines
//! by default, one JSON document with `--json`.
//!
//! The steps run against the embedded tenant (`cargo xtask setup-lab` starts
//! it on <http://127.0.0.1:5580>) unless told otherwise: `--real` for
//! Microsoft's cloud, or `--tenant-url` / `GRAPHLAB_TENANT_URL` for another
//! emulator. The choice made by step 2 is kept in `lab.toml` for the others.

pub mod flow;

use std::{
    fs,
    future::Future,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use anyhow::{Context, bail};
use clap::Args;
use graphlab_auth::{
    Account, AuthClient, AuthResult, Authority, Interactive, Secret, SilentTokenProvider,
    TokenCache, TokenProvider, microsoft, write_private,
};
use graphlab_batch::{BatchClient, BatchItem, Config, Outcome, Response, Version};
use graphlab_lab::LabDir;
pub use graphlab_lab::{
    AppConfig, EMULATOR_URL, LabConfig, Resolved, Target, TargetArgs,
    default_redirect_port,
};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// The app registration the lab creates (step 2).
pub const APP_NAME: &str = "MS Graph Batch App";
/// Microsoft Graph's application id, the same in every tenant.
pub const GRAPH_APP_ID: &str = microsoft::GRAPH_APP_ID;
/// "Microsoft Graph Command Line Tools": a public client present in every
/// tenant, which the admin signs in with before the lab's app exists.
pub const ADMIN_CLIENT_ID: &str = microsoft::GRAPH_CLI_CLIENT_ID;
/// The delegated permissions of the lab's app: `Group.ReadWrite.All` from
/// the lab, and `User.Read`, which the portal adds to every new registration.
pub const CONNECTOR_SCOPES: &[&str] = &["User.Read", "Group.ReadWrite.All"];

/// Options every step takes.
#[derive(Debug, Clone, Args)]
pub struct LabArgs {
    /// The lab's directory (config, secret, token cache).
    #[arg(long, env = "GRAPHLAB_LAB_DIR", default_value = ".lab", value_name = "DIR")]
    pub lab_dir: PathBuf,
    /// Where the tenant is (default: as lab.toml says, else the embedded one).
    #[command(flatten)]
    pub target: TargetArgs,
    /// The tenant to sign in to: an id, a domain, or `organizations`.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Print one JSON document instead of readable lines.
    #[arg(long)]
    pub json: bool,
    /// A CA certificate (PEM) to trust besides the system's store,
    /// SSL_CERT_FILE and SSL_CERT_DIR.
    #[arg(long, env = "GRAPHLAB_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// The certificates this run trusts (see `graphlab_auth::trust`), made the
/// process's default for the sign-in and batch clients.
fn trust(args: &LabArgs, emulated: bool) -> anyhow::Result<Arc<graphlab_auth::Trust>> {
    let mut trust = graphlab_auth::Trust::default();
    if let Some(path) = &args.ca_cert {
        trust.add_pem_file(path)?;
    }
    if emulated {
        trust = trust.with_lab_emulator(&args.lab_dir);
    }
    trust.install();
    Ok(graphlab_auth::Trust::installed())
}

/// An opened lab: its directory, config and output mode.
#[derive(Debug)]
pub struct Lab {
    /// The lab directory.
    pub dir: PathBuf,
    /// Its config, as read (and as changed by the step, once saved).
    pub config: LabConfig,
    /// Where the tenant is, for this run.
    pub target: Target,
    /// Where that came from (a flag, a variable, lab.toml, the default).
    pub resolved: Resolved,
    /// `--json`.
    pub json: bool,
    http: reqwest::Client,
}

impl Lab {
    /// Reads `lab.toml` (if any) and resolves the target: flags, then
    /// environment, then the config, then the embedded tenant (one rule,
    /// shared with `graphlab`: [`graphlab_lab::resolve`]).
    pub fn open(args: &LabArgs) -> anyhow::Result<Lab> {
        let config = LabConfig::load(&args.lab_dir)?;
        let resolved = graphlab_lab::resolve(
            &args.target,
            args.tenant.as_deref(),
            &config,
            &LabDir::new(&args.lab_dir).config(),
            &graphlab_lab::process_env,
        );
        // Which tenant, and why, on stderr: stdout is the step's own.
        eprintln!("target: {}", resolved.describe());
        let emulated = resolved.target.authority != microsoft::PUBLIC_AUTHORITY
            || resolved.target.graph != microsoft::GRAPH_URL;
        let http = trust(args, emulated)?
            .client_builder()
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Lab {
            dir: args.lab_dir.clone(),
            config,
            target: resolved.target.clone(),
            resolved,
            json: args.json,
            http,
        })
    }

    /// The lab directory's files.
    pub fn files(&self) -> LabDir {
        LabDir::new(&self.dir)
    }

    /// Whether the target is anything but Microsoft's cloud.
    pub fn is_emulated(&self) -> bool {
        self.target.authority != microsoft::PUBLIC_AUTHORITY
            || self.target.graph != microsoft::GRAPH_URL
    }

    /// Prints a line, unless the output is JSON.
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.json {
            out(line.as_ref());
        }
    }

    /// Prints the step's JSON document, if the output is JSON.
    pub fn report(&self, document: &Value) {
        if self.json {
            out(&format!("{document:#}"));
        }
    }

    /// Writes `lab.toml` (atomically, owner-only) with the current target.
    pub fn save(&mut self) -> anyhow::Result<()> {
        self.config.target = Some(self.target.clone());
        Ok(self.config.save(&self.dir)?)
    }

    /// The app registered by step 2.
    pub fn app(&self) -> anyhow::Result<&AppConfig> {
        self.config.app.as_ref().with_context(|| {
            format!(
                "no app is registered in {}: run step02-register-app first",
                self.files().config().display()
            )
        })
    }

    /// Where the client secret is kept.
    pub fn secret_path(&self) -> PathBuf {
        self.files().secret()
    }

    /// The app's client secret, if step 2 stored one.
    pub fn secret(&self) -> anyhow::Result<Option<Secret>> {
        match fs::read_to_string(self.secret_path()) {
            Ok(text) if !text.trim().is_empty() => Ok(Some(Secret::new(text.trim()))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => {
                Err(e).context(format!("cannot read {}", self.secret_path().display()))
            }
        }
    }

    /// Stores the client secret: mode 0600, written atomically.
    pub fn store_secret(&self, secret: &Secret) -> anyhow::Result<()> {
        graphlab_lab::create_lab_dir(&self.dir)?;
        write_private(&self.secret_path(), secret.expose().as_bytes())
            .with_context(|| format!("cannot write {}", self.secret_path().display()))
    }

    fn auth_client(&self, client_id: &str) -> anyhow::Result<AuthClient> {
        let authority = Authority::new(&self.target.authority, &self.target.tenant)?;
        let cache = TokenCache::file(self.files().token_cache());
        Ok(AuthClient::new(authority, client_id, cache))
    }

    /// The admin's client (Microsoft Graph Command Line Tools, public).
    pub fn admin_client(&self) -> anyhow::Result<AuthClient> {
        self.auth_client(ADMIN_CLIENT_ID)
    }

    /// The lab's app as a confidential client, with its secret.
    pub fn connector_client(&self) -> anyhow::Result<AuthClient> {
        let app = self.app()?;
        let secret = self.secret()?.with_context(|| {
            format!(
                "no client secret in {}: run step02-register-app again",
                self.secret_path().display()
            )
        })?;
        Ok(self.auth_client(&app.client_id)?.with_secret(secret))
    }

    /// A token for `scopes`: from the cache when it can (refreshing it
    /// silently), else by the device code flow, whose instructions go to
    /// stderr. On the embedded tenant in unattended mode nobody has to act.
    pub async fn sign_in_with_device_code(
        &self,
        client: &AuthClient,
        scopes: &[&str],
    ) -> anyhow::Result<AuthResult> {
        if let Some(result) = silent(client, scopes).await? {
            return Ok(result);
        }
        client
            .acquire_token_device_code(scopes, |prompt| eprintln!("{}", prompt.message))
            .await
            .context("device code sign-in failed")
    }

    /// A token for `scopes` from the cache (refreshed silently if needed), if
    /// the client has one cached account.
    pub async fn cached_token(
        &self,
        client: &AuthClient,
        scopes: &[&str],
    ) -> anyhow::Result<Option<AuthResult>> {
        silent(client, scopes).await
    }

    /// A token for `scopes` by the authorization code flow on the loopback
    /// redirect `http://localhost:PORT`, asking `prompt`. On the emulator the
    /// authorization URL is opened by this program (the unattended tenant
    /// answers it); on a real tenant, by the system browser.
    pub async fn sign_in_with_browser(
        &self,
        client: &AuthClient,
        scopes: &[&str],
        port: u16,
        prompt: Option<&str>,
    ) -> anyhow::Result<AuthResult> {
        let mut options = Interactive::with_system_browser();
        options.port = port;
        options.prompt = prompt.map(str::to_owned);
        // An emulator started unattended answers the authorization URL with
        // the redirect at once: this program opens it. One started attended
        // shows its sign-in and consent pages: a person opens them, as on a
        // real tenant.
        let unattended = self.tenant_is_unattended().await;
        options.timeout = Duration::from_secs(if unattended { 30 } else { 300 });
        if unattended {
            let http = self.http.clone();
            options.open = Arc::new(move |url: String| {
                eprintln!("Signing in through the emulator's authorization page...");
                let http = http.clone();
                tokio::spawn(async move {
                    let _ = http.get(url).send().await;
                });
            });
        }
        client.acquire_token_interactive(scopes, &options).await.context("sign-in failed")
    }

    /// Whether the target is an emulator that signs its user in with no page
    /// (started `--unattended`), as its health route says; `false` for
    /// Microsoft's cloud, or when the emulator does not answer or say.
    pub async fn tenant_is_unattended(&self) -> bool {
        if !self.is_emulated() {
            return false;
        }
        let health = format!("{}/_graphlab/health", self.target.authority);
        let answer = self.http.get(health).timeout(Duration::from_secs(5)).send().await;
        match answer {
            Ok(response) => response
                .json::<Value>()
                .await
                .is_ok_and(|body| body["unattended"].is_string()),
            Err(_) => false,
        }
    }

    /// Tokens of the lab's app for the signed-in user, silently (step 4 must
    /// have created the cached connection).
    pub async fn connection(&self) -> anyhow::Result<Arc<dyn TokenProvider>> {
        let client = self.connector_client()?;
        let account = only_account(&client)
            .await?
            .context("no cached connection: run step04-authorize-connector first")?;
        Ok(Arc::new(SilentTokenProvider {
            client,
            account,
            scopes: CONNECTOR_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        }))
    }

    /// A batch client of the target's Graph, on `version`.
    pub fn graph(&self, tokens: Arc<dyn TokenProvider>, version: Version) -> BatchClient {
        let config = Config { version, ..Config::default() };
        BatchClient::new(&self.target.graph, tokens, config)
    }
}

/// The account this client signed in, if exactly one is (the rule
/// `graphlab` follows too: [`graphlab_lab::choose_account`]).
async fn only_account(client: &AuthClient) -> anyhow::Result<Option<Account>> {
    let accounts = client.signed_in_accounts().await?;
    if accounts.is_empty() {
        return Ok(None);
    }
    if let [one] = accounts.as_slice() {
        return Ok(Some(one.clone()));
    }
    let names: Vec<&str> = accounts.iter().map(|a| a.username.as_str()).collect();
    bail!(
        "{} accounts are signed in with client {} ({}): a step acts as one; sign the \
         others out with `graphlab logout --client-id {} --account NAME`",
        names.len(),
        client.client_id(),
        names.join(", "),
        client.client_id()
    )
}

async fn silent(
    client: &AuthClient,
    scopes: &[&str],
) -> anyhow::Result<Option<AuthResult>> {
    let Some(account) = only_account(client).await? else {
        return Ok(None);
    };
    Ok(client.acquire_token_silent(&account, scopes, false).await.ok())
}

/// Sends one request as a one-item `$batch` and returns its response when it
/// succeeded; any other outcome is an error naming the item.
pub async fn call(graph: &BatchClient, item: BatchItem) -> anyhow::Result<Response> {
    let what = format!("{} {}", item.method.as_str(), item.url);
    let report = graph.run(vec![item]).await.with_context(|| format!("{what} failed"))?;
    expect_success(&what, report.outcomes.into_iter().next().map(|(_, o)| o))
}

/// The id of the group whose mail nickname is `name`, if there is one.
pub async fn find_group(
    graph: &BatchClient,
    name: &str,
) -> anyhow::Result<Option<String>> {
    let query = filter_eq("mailNickname", name);
    let found = call(graph, BatchItem::get("find", format!("/groups?{query}")))
        .await?
        .json::<Value>()?;
    Ok(found["value"][0]["id"].as_str().map(str::to_owned))
}

/// The response of a successful outcome, else an error saying what happened.
pub fn expect_success(what: &str, outcome: Option<Outcome>) -> anyhow::Result<Response> {
    match outcome {
        Some(Outcome::Success(response)) => Ok(response),
        Some(other) => bail!("{what}: {}", other.describe()),
        None => bail!("{what}: no outcome"),
    }
}

/// The first failed item of a report, as `id ID: what happened` (for an
/// error message), if any item failed.
pub fn first_failure(report: &graphlab_batch::Report) -> Option<String> {
    report
        .outcomes
        .iter()
        .find(|(_, o)| !o.is_success())
        .map(|(id, o)| format!("id {id}: {}", o.describe()))
}

/// What a query value keeps as it is: letters, digits, `- . _ ~` (RFC
/// 3986's unreserved characters) and `'`, OData's string quote; everything
/// else is percent-encoded (`&` and `#` would end the value, `+` would read
/// as a space, and spaces are not allowed in a `$batch` item's URL).
const QUERY_VALUE: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'\'');

/// `$filter=<expression>` for a URL, the expression percent-encoded.
pub fn filter_query(expression: &str) -> String {
    format!("$filter={}", utf8_percent_encode(expression, QUERY_VALUE))
}

/// `value` as an OData string literal: in single quotes, a quote inside
/// doubled (`O'Neil` is `'O''Neil'`, OData ABNF's `SQUOTE-in-string`).
pub fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `$filter=<property> eq '<value>'` for a URL, whatever `value` holds.
pub fn filter_eq(property: &str, value: &str) -> String {
    filter_query(&format!("{property} eq {}", odata_string(value)))
}

/// Checks a group name given on the command line: the lab uses it as the
/// display name and the mail nickname, which allows no spaces and none of
/// `@ ( ) \ [ ] " ; : < > ,`, and at most 64 ASCII characters.
pub fn check_group_name(name: &str) -> anyhow::Result<&str> {
    const FORBIDDEN: &str = "@()\\[]\";:<>,";
    if name.is_empty() {
        bail!("--name is empty: give the group a name, such as LabTeam");
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace()) {
        bail!(
            "--name '{name}' contains a space ({c:?}): the mail nickname cannot; try '{}'",
            name.split_whitespace().collect::<String>()
        );
    }
    if let Some(c) = name.chars().find(|c| !c.is_ascii() || FORBIDDEN.contains(*c)) {
        bail!("--name '{name}' contains {c:?}, which a mail nickname cannot");
    }
    if name.len() > 64 {
        bail!("--name is {} characters long; a mail nickname has at most 64", name.len());
    }
    Ok(name)
}

/// A string field of a JSON body, or an error naming it.
pub fn field<'a>(body: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    body[name].as_str().with_context(|| format!("the answer has no '{name}'"))
}

/// Writes a line to stdout; when the reader has gone (`| head -3`), the step
/// ends at once and quietly, with status 0, as ripgrep does.
fn out(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// Runs a step: a tokio runtime, and on failure `error: ` and the cause chain
/// on one line (each cause once, with a hint when the tenant is not
/// running), with exit status 1.
pub fn run<F: Future<Output = anyhow::Result<()>>>(step: F) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(step) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", graphlab_lab::cause_line(&*e));
            ExitCode::FAILURE
        }
    }
}

/// A path for display: relative to the current directory when it is inside it.
pub fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_checked_like_mail_nicknames() {
        assert_eq!(check_group_name("LabTeam").unwrap(), "LabTeam");
        assert_eq!(check_group_name("lab-team_2").unwrap(), "lab-team_2");
        let spaced = check_group_name("Lab Team").unwrap_err().to_string();
        assert!(spaced.contains("try 'LabTeam'"), "{spaced}");
        assert!(check_group_name("").is_err());
        assert!(check_group_name("lab@team").is_err());
        assert!(check_group_name("équipe").is_err());
        assert!(check_group_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn filters_are_percent_encoded_for_batch_urls() {
        assert_eq!(
            filter_query("displayName eq 'MS Graph Batch App'"),
            "$filter=displayName%20eq%20'MS%20Graph%20Batch%20App'"
        );
        assert_eq!(filter_query("a eq '100%'"), "$filter=a%20eq%20'100%25'");
    }

    #[test]
    fn filter_values_that_a_group_name_may_hold_stay_in_the_filter() {
        for (name, query) in [
            ("R&D", "$filter=mailNickname%20eq%20'R%26D'"),
            ("a#b", "$filter=mailNickname%20eq%20'a%23b'"),
            ("a+b", "$filter=mailNickname%20eq%20'a%2Bb'"),
            ("O'Neil", "$filter=mailNickname%20eq%20'O''Neil'"),
        ] {
            assert!(check_group_name(name).is_ok(), "{name} is a group name");
            assert_eq!(filter_eq("mailNickname", name), query);
        }
    }
}

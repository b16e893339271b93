//! The trainee's path (issue 13), one test per point: the real `graphlab`
//! in a temporary directory, against the emulator served in-process on
//! 127.0.0.1:0, with no `GRAPHLAB_*` variable unless a test sets one.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, SystemTime},
};

use graphlab_lab::{LabConfig, Target};
use graphlab_tenant::{Now, RunningTenant, Tenant, TenantConfig, seed};

/// The binary in `dir` (its default lab directory is `dir/.lab`), with none
/// of the caller's `GRAPHLAB_*` variables.
fn graphlab(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graphlab"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("GRAPHLAB_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs `graphlab args` in `dir` off the async runtime; `stdin` is fed to it.
async fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = graphlab(dir);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let input = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = input {
            // A child refusing its arguments exits before it reads its input.
            let written = child.stdin.take().unwrap().write_all(text.as_bytes());
            if let Err(e) = written {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn start(config: TenantConfig) -> (Tenant, RunningTenant, String) {
    let (tenant, running) =
        graphlab_tenant::serve_loopback(&config.reuse_key()).await.unwrap();
    let url = running.base_url().to_owned();
    (tenant, running, url)
}

/// The admin signs in with no page, and a device-code poll interval of 0:
/// `graphlab login --device-code` polls at once, as the server says, and
/// its first poll succeeds. The client's wait and `slow_down` are the
/// server's to pace: `crates/tenant/tests/it/clock.rs`
/// (`device_codes_pace_and_expire_on_the_tenant_clock`) moves a clock past
/// the interval; the pending polls are `crates/auth`'s device-code tests'.
fn unattended() -> TenantConfig {
    TenantConfig::in_memory().unattended(seed::ADMIN_UPN).device_poll_interval(0)
}

/// How long a new group replicates on the emulator's clock in the
/// replication test: far longer than the test takes in real time, so only
/// [`Replication`] moves a group past it.
const REPLICATION: Duration = Duration::from_secs(600);

/// The emulator's clock for the replication test, which runs `graphlab` as
/// a child process whose waits no test can shorten: the system time, moved
/// [`REPLICATION`] forward once the emulator has taken a given number of
/// `$batch` calls. So the group's team is refused (404) exactly until the
/// client sends it again, however fast or slow the machine is.
#[derive(Clone, Default)]
struct Replication {
    tenant: Arc<OnceLock<Tenant>>,
    /// Counts of `$batch` calls at which the clock moves.
    at: Arc<Mutex<Vec<u64>>>,
}

impl Replication {
    fn now(&self) -> Now {
        let this = self.clone();
        Now::from_fn(move || {
            let calls = this.tenant.get().map_or(0, |t| t.stats().batch_calls);
            let at = this.at.lock().unwrap();
            let passed = at.iter().filter(|&&n| calls >= n).count() as u32;
            SystemTime::now() + REPLICATION * passed
        })
    }

    /// Replicates what exists once the emulator takes its `calls`-th
    /// `$batch` call from now.
    fn after(&self, calls: u64) {
        let taken = self.tenant.get().unwrap().stats().batch_calls;
        self.at.lock().unwrap().push(taken + calls);
    }
}

/// A lab directory whose lab.toml names the emulator at `url`, as step 2
/// leaves it after `cargo xtask setup-lab`.
fn lab_at(url: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let lab = temp.path().join(".lab");
    let config = LabConfig {
        target: Some(Target {
            authority: url.to_owned(),
            graph: url.to_owned(),
            tenant: "organizations".to_owned(),
        }),
        app: None,
    };
    config.save(&lab).unwrap();
    (temp, lab)
}

fn login(extra: &[&str]) -> Vec<String> {
    let mut args = vec!["login", "--device-code", "--scopes", "User.Read", "Mail.Read"];
    args.extend(extra);
    args.into_iter().map(str::to_owned).collect()
}

async fn login_ok(dir: &Path, extra: &[&str]) {
    let args = login(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir, &args, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point2_a_new_shell_uses_the_lab_toml_target_with_no_variable() {
    let (_tenant, running, url) = start(unattended()).await;
    let (temp, _lab) = lab_at(&url);
    let dir = temp.path();

    let out = run(dir, &["endpoints"], None).await;
    let shown = text(&out.stdout);
    assert!(shown.contains(&format!("graph:     {url}")), "{shown}");
    assert!(shown.contains("lab.toml"), "the source is named: {shown}");

    let args = login(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir, &args, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains(&format!("target: emulated tenant at {url} (from .lab/lab.toml)")),
        "{said}"
    );

    let token = run(dir, &["token", "--scopes", "Mail.Read"], None).await;
    assert!(token.status.success(), "{}", text(&token.stderr));
    assert!(text(&token.stdout).trim().len() > 100, "a JWT");

    // No --access-token and no version: the login's account, on v1.0.
    let me = run(dir, &["graph", "GET", "me"], None).await;
    assert!(me.status.success(), "{}", text(&me.stderr));
    assert!(text(&me.stdout).contains(seed::ADMIN_UPN));

    let mail =
        run(dir, &["graph", "GET", "/v1.0/me/messages", "--scopes", "Mail.Read"], None)
            .await;
    assert!(mail.status.success(), "{}", text(&mail.stderr));

    let batch = r#"{"requests":[{"id":"1","method":"GET","url":"/me"},{"id":"2","method":"GET","url":"/me/messages"}]}"#;
    let args = ["batch", "run", "-", "--scopes", "User.Read", "Mail.Read"];
    let out = run(dir, &args, Some(batch)).await;
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point4_batch_run_rewrites_with_a_warning_or_refuses_and_waits_out_a_404() {
    let replication = Replication::default();
    let config = unattended().replication_delay(REPLICATION).clock(replication.now());
    let (tenant, running, url) = start(config).await;
    // The clock reads the tenant's counters (the cycle lives as long as the test).
    replication.tenant.set(tenant).ok();
    let (temp, _lab) = lab_at(&url);
    let dir = temp.path();
    login_ok(dir, &["Group.ReadWrite.All"]).await;

    let file = dir.join("urls.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"requests":[
              {{"id":"abs","method":"GET","url":"{url}/v1.0/me"}},
              {{"id":"ver","method":"GET","url":"/v1.0/me"}},
              {{"id":"ok","method":"GET","url":"/me"}}]}}"#
        ),
    )
    .unwrap();
    let out = run(dir, &["batch", "run", "urls.json"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let warnings: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.contains("warning"))
        .map(str::to_owned)
        .collect();
    assert_eq!(warnings.len(), 2, "one per rewritten item: {warnings:?}");
    assert!(warnings[0].contains("requests[0] (id 'abs')"), "{warnings:?}");
    assert!(warnings[1].contains("'/v1.0/me'"), "{warnings:?}");

    let out = run(dir, &["batch", "run", "urls.json", "--strict"], None).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("requests[0] (id 'abs')") && err.contains("Graph answers 400"),
        "{err}"
    );

    // A group, then its team: 404 until the group has replicated. The
    // client sends the group (a `$batch` call), then the team (a second,
    // refused), then the team again: the clock moves at the third.
    let group = |name: &str| {
        format!(
            r#"{{"id":"g","method":"POST","url":"/groups","headers":{{"Content-Type":"application/json"}},"body":{{"displayName":"{name}","mailNickname":"{name}","groupTypes":["Unified"],"mailEnabled":true,"securityEnabled":false}}}}"#
        )
    };
    let team = r#"{"id":"t","method":"PUT","url":"/groups/{{g.body.id}}/team","headers":{"Content-Type":"application/json"},"body":{}"#;
    let own =
        format!("{}\n{team},\"retryWhile\":[404],\"retryFor\":30}}\n", group("own"));
    replication.after(3);
    let out = run(dir, &["batch", "run", "-", "--json"], Some(&own)).await;
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let team_line = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["id"] == "t")
        .unwrap();
    assert_eq!(team_line["status"], 201, "{team_line}");
    assert_eq!(team_line["attempts"], 2, "refused once, then sent again: {team_line}");

    let option = format!("{}\n{team}}}\n", group("opt"));
    let args = ["batch", "run", "-", "--retry-status", "404", "--retry-for", "30"];
    replication.after(3);
    let out = run(dir, &args, Some(&option)).await;
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));

    let none = format!("{}\n{team}}}\n", group("none"));
    let out = run(dir, &["batch", "run", "-"], Some(&none)).await;
    assert_eq!(out.status.code(), Some(1), "without retries the team's PUT is a 404");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point6_logout_signs_out_its_own_client_only() {
    let (tenant, running, url) = start(unattended()).await;
    let (temp, _lab) = lab_at(&url);
    let dir = temp.path();
    // Another public client, as step 4's app is another client.
    let admin =
        tenant.issue_token(seed::ADMIN_UPN, &["Application.ReadWrite.All"]).unwrap();
    let body = r#"{"displayName":"Other app","isFallbackPublicClient":true,"signInAudience":"AzureADMultipleOrgs"}"#;
    let out = run(
        dir,
        &[
            "graph",
            "POST",
            "/v1.0/applications",
            "--body",
            body,
            "--access-token",
            &admin,
        ],
        None,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let app: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let other = app["appId"].as_str().unwrap().to_owned();

    login_ok(dir, &[]).await;
    login_ok(dir, &["--client-id", &other]).await;
    let out = run(dir, &["logout"], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let theirs = run(dir, &["token", "--client-id", &other], None).await;
    assert!(
        theirs.status.success(),
        "the other app's tokens stay: {}",
        text(&theirs.stderr)
    );
    let ours = run(dir, &["token"], None).await;
    assert!(!ours.status.success());
    assert!(text(&ours.stderr).contains("graphlab login"), "{}", text(&ours.stderr));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point7_two_accounts_are_an_error_until_account_chooses() {
    let state = tempfile::tempdir().unwrap();
    let persistent = |user: &str| {
        TenantConfig::persistent(state.path()).unattended(user).device_poll_interval(0)
    };
    let (first, running, url) = start(persistent(seed::ADMIN_UPN)).await;
    let addr = running.local_addr();
    let (temp, _lab) = lab_at(&url);
    let dir = temp.path();
    login_ok(dir, &[]).await;
    running.shutdown().await;
    drop(first);
    // The same tenant, where another user signs in with no page.
    let tenant = Tenant::open(&persistent("adelev@contoso.onmicrosoft.com")).unwrap();
    let running = graphlab_tenant::serve(tenant, addr).await.unwrap();
    login_ok(dir, &[]).await;

    let batch = r#"{"requests":[{"id":"1","method":"GET","url":"/me"}]}"#;
    let out = run(dir, &["batch", "run", "-"], Some(batch)).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("2 accounts are signed in") && err.contains("--account"),
        "{err}"
    );
    assert!(
        err.contains("adelev@contoso.onmicrosoft.com") && err.contains(seed::ADMIN_UPN)
    );

    let args =
        ["batch", "run", "-", "--json", "--account", "AdeleV@contoso.onmicrosoft.com"];
    let out = run(dir, &args, Some(batch)).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("adelev@contoso.onmicrosoft.com"),
        "{}",
        text(&out.stdout)
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point8_errors_name_the_cause_once_with_its_place_and_a_hint() {
    let (_tenant, running, url) = start(unattended()).await;
    let (temp, _lab) = lab_at(&url);
    let dir = temp.path();
    login_ok(dir, &[]).await;

    let wrong = r#"{"request": [{"id":"1","method":"GET","url":"/me"}]}"#;
    let out = run(dir, &["batch", "run", "-"], Some(wrong)).await;
    let err = text(&out.stderr);
    assert!(err.contains("the required property 'requests' is missing"), "{err}");
    assert!(!err.contains("'id'"), "{err}");

    std::fs::write(dir.join("bad.jsonl"), "{\"id\":\"a\",\"method\":\"GET\",\"url\":\"/me\"}\n{\"id\": \"b\" \"method\": \"GET\"}\n").unwrap();
    let out = run(dir, &["batch", "run", "bad.jsonl"], None).await;
    let err = text(&out.stderr);
    assert!(err.contains("bad.jsonl:2:"), "{err}");
    assert!(!err.contains(" line ") && !err.contains("column"), "one place: {err}");

    let out = run(dir, &["batch", "run", "nowhere.jsonl"], None).await;
    let err = text(&out.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");

    running.shutdown().await;
    let batch = r#"{"requests":[{"id":"1","method":"GET","url":"/me"}]}"#;
    let out = run(dir, &["batch", "run", "-", "--max-attempts", "1"], Some(batch)).await;
    let all = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(all.contains(&format!("cannot reach {url}/v1.0/$batch")), "{all}");
    assert!(all.to_ascii_lowercase().contains("connection refused"), "{all}");
    let status = run(dir, &["tenant", "status"], None).await;
    let err = text(&status.stderr);
    assert!(err.contains(&url) && err.contains("cargo xtask tenant start"), "{err}");
    assert!(!err.contains("[("), "no Debug list: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point9_a_closed_pipe_ends_batch_run_quietly() {
    let (_tenant, running, url) = start(unattended()).await;
    let (temp, _lab) = lab_at(&url);
    let dir = temp.path().to_owned();
    login_ok(&dir, &[]).await;
    let lines: String = (0..50)
        .map(|i| format!("{{\"id\":\"{i}\",\"method\":\"GET\",\"url\":\"/me\"}}\n"))
        .collect();
    std::fs::write(dir.join("big.jsonl"), lines).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = graphlab(&dir)
            .args(["batch", "run", "big.jsonl"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes before the first line is written, as `| head -0`
        // would; `| head -1` is the same a line later.
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point10_sizes_empty_input_the_table_and_serve_port() {
    let (_tenant, running, url) = start(unattended()).await;
    let (temp, _lab) = lab_at(&url);
    let dir = temp.path();
    login_ok(dir, &[]).await;
    let batch = r#"{"requests":[{"id":"1","method":"GET","url":"/me"}]}"#;
    for size in ["25", "0"] {
        let out =
            run(dir, &["batch", "run", "-", "--batch-size", size], Some(batch)).await;
        assert_eq!(out.status.code(), Some(2), "--batch-size {size} is refused");
        assert!(text(&out.stderr).contains("1..=20"), "{}", text(&out.stderr));
    }
    let out = run(dir, &["batch", "run", "-"], Some("\n")).await;
    assert_eq!(out.status.code(), Some(1), "empty input is an error");
    assert!(text(&out.stderr).contains("empty"), "{}", text(&out.stderr));

    let out = run(dir, &["batch", "run", "-"], Some(batch)).await;
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("STATUS"), "{table}");
    assert_eq!(lines[1].matches("200").count(), 1, "the status once: {table}");

    // `tenant serve --port`, as `cargo xtask tenant start --port` says it.
    let mut serve = graphlab(dir)
        .args(["tenant", "serve", "--in-memory", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(serve.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(
        first.starts_with("graphlab tenant listening on http://127.0.0.1:"),
        "{first}"
    );
    serve.kill().unwrap();
    serve.wait().unwrap();
    running.shutdown().await;
}

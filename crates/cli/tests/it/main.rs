//! CLI tests: the real `graphlab` binary in temporary directories.

mod export;
mod exposure;
mod storm;
mod trainee;
mod trust;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

fn graphlab() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graphlab"));
    cmd.env_remove("GRAPHLAB_TENANT_URL").env_remove("GRAPHLAB_ACCESS_TOKEN");
    cmd
}

/// Starts `graphlab tenant serve` and returns the child and its announced URL.
fn serve(state: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = graphlab()
        .args([
            "tenant",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--replication-delay",
            "0",
            "--state",
        ])
        .arg(state)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("graphlab starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("graphlab tenant listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    (child, url)
}

fn token(state: &Path, scopes: &[&str]) -> String {
    let out = graphlab()
        .args(["tenant", "token", "--state"])
        .arg(state)
        .arg("--scopes")
        .args(scopes)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn graph(url: &str, token: &str, args: &[&str]) -> std::process::Output {
    graphlab()
        .args(["--tenant-url", url, "graph"])
        .args(args)
        .env("GRAPHLAB_ACCESS_TOKEN", token)
        .output()
        .unwrap()
}

#[test]
fn serve_announces_its_url_and_state_survives_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tenant");
    let (mut child, url) = serve(&state, &[]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let status =
        graphlab().args(["--tenant-url", &url, "tenant", "status"]).output().unwrap();
    assert!(status.status.success());
    assert!(String::from_utf8_lossy(&status.stdout).contains("ok"));

    let token = token(&state, &["Group.ReadWrite.All"]);
    let body = r#"{"displayName":"Survivor","mailNickname":"survivor","groupTypes":["Unified"],"mailEnabled":true,"securityEnabled":false}"#;
    let created = graph(&url, &token, &["POST", "/v1.0/groups", "--body", body]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let group: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = group["id"].as_str().unwrap().to_owned();

    child.kill().unwrap(); // SIGKILL: no clean shutdown
    child.wait().unwrap();

    let (mut child, url) = serve(&state, &[]);
    let fetched = graph(&url, &token, &["GET", &format!("/v1.0/groups/{id}")]);
    assert!(fetched.status.success(), "{}", String::from_utf8_lossy(&fetched.stderr));
    let again: serde_json::Value = serde_json::from_slice(&fetched.stdout).unwrap();
    assert_eq!(again["displayName"], "Survivor");

    let denied = graph(&url, &token, &["GET", "/v1.0/me/messages"]);
    assert!(!denied.status.success(), "a 403 is a failure exit");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _url) = serve(&dir.path().join("t"), &[]);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // Wait for the exit on a thread; give up after a deadline (no polling).
    let (tx, rx) = std::sync::mpsc::channel();
    let mut child = child;
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = rx.recv_timeout(Duration::from_secs(10)).expect("did not stop").unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn a_bad_chaos_file_is_refused_with_its_name_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let chaos = dir.path().join("chaos.json");
    std::fs::write(&chaos, "{\n  \"rules\": [\n    {\"rates\": {\"429\": 2}}\n  ]\n}\n")
        .unwrap();
    let out = graphlab()
        .args(["tenant", "serve", "--addr", "127.0.0.1:0", "--in-memory", "--chaos"])
        .arg(&chaos)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chaos.json"), "{err}");
    assert!(err.contains("rules[0].rates.429"), "{err}");
    assert!(out.stdout.is_empty(), "nothing announced");

    std::fs::write(&chaos, "{\n  \"rules\": [,]\n}\n").unwrap();
    let out = graphlab()
        .args(["tenant", "serve", "--in-memory", "--chaos"])
        .arg(&chaos)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn token_without_state_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = graphlab()
        .args(["--lab-dir"])
        .arg(dir.path())
        .args(["tenant", "token"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("graphlab tenant serve"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn login_device_code_whoami_token_logout() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) =
        serve(&dir.path().join("t"), &["--unattended", "--device-poll-interval", "0"]);
    let lab = dir.path().join("lab");
    let run = |args: &[&str]| {
        graphlab()
            .args(["--tenant-url", &url, "--lab-dir"])
            .arg(&lab)
            .args(args)
            .output()
            .unwrap()
    };
    let login = run(&["login", "--device-code", "--scopes", "User.Read", "Mail.Read"]);
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    assert!(
        String::from_utf8_lossy(&login.stderr).contains("/devicelogin"),
        "the platform's message is shown"
    );
    assert!(
        String::from_utf8_lossy(&login.stdout).contains("admin@contoso.onmicrosoft.com")
    );

    let whoami = run(&["whoami"]);
    let text = String::from_utf8_lossy(&whoami.stdout);
    assert!(
        text.contains("admin@contoso.onmicrosoft.com") && text.contains("mail.read"),
        "{text}"
    );

    let token = run(&["token", "--scopes", "Mail.Read"]);
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let messages = graph(&url, &token, &["GET", "/v1.0/me/messages"]);
    assert!(messages.status.success());

    let logout = run(&["logout"]);
    assert!(logout.status.success());
    let again = run(&["token"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("graphlab login"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn batch_run_lab_format_and_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("t");
    let (mut child, url) = serve(&state, &[]);
    let token = token(
        &state,
        &["User.Read", "Mail.Read", "Calendars.Read", "Group.ReadWrite.All"],
    );
    let lab = dir.path().join("step5.json");
    std::fs::write(
        &lab,
        r#"{"requests":[
            {"id":"1","method":"GET","url":"/me?$select=displayName,jobTitle,userPrincipalName"},
            {"id":"2","method":"GET","url":"/me/messages?$filter=importance eq 'high'&$select=from,subject,receivedDateTime,bodyPreview"},
            {"id":"3","method":"GET","url":"/me/events"}]}"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        graphlab()
            .args(["--tenant-url", &url, "batch", "run"])
            .args(args)
            .env("GRAPHLAB_ACCESS_TOKEN", &token)
            .output()
            .unwrap()
    };
    let out = run(&[lab.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.iter().map(|l| l["id"].as_str().unwrap()).collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    assert!(lines.iter().all(|l| l["status"] == 200));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 items in 1 $batch calls"));

    let jsonl = dir.path().join("many.jsonl");
    let mut text = String::new();
    for i in 0..45 {
        text.push_str(&format!(
            "{{\"id\":\"g{i}\",\"method\":\"GET\",\"url\":\"/me?n={i}\"}}\n"
        ));
    }
    text.push_str("{\"id\":\"bad\",\"method\":\"GET\",\"url\":\"/nowhere\"}\n");
    std::fs::write(&jsonl, text).unwrap();
    let out = run(&[jsonl.to_str().unwrap()]);
    assert!(!out.status.success(), "one item failed: non-zero exit");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("46 items in 3 $batch calls")
            && err.contains("200: 45")
            && err.contains("400: 1"),
        "{err}"
    );

    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, "{\"id\":\"a\",\"method\":\"GET\",\"url\":\"/me\"}\n{\"id\": \"b\", \"method\": \"GET\"}\n").unwrap();
    let out = run(&[broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.jsonl:2") && err.contains("'url' is missing"), "{err}");

    // Regression: one JSON line, no newline at its end, after a blank line:
    // JSON lines for the CLI as for `graphlab_batch::parse_items`.
    let one = dir.path().join("one.jsonl");
    let text = "\n{\"id\":\"only\",\"method\":\"GET\",\"url\":\"/me?$select=id\"}";
    std::fs::write(&one, text).unwrap();
    assert_eq!(graphlab_batch::parse_items(text, "one.jsonl").unwrap().len(), 1);
    let out = run(&[one.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(
        (&line["id"], &line["status"], &line["ok"]),
        (&"only".into(), &200.into(), &true.into())
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

fn connector(args: &[&str]) -> std::process::Output {
    graphlab().arg("connector").args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn connector_export_then_validate_both_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let typed = dir.path().join("typed");
    let lab = dir.path().join("lab");
    let typed_s = typed.to_str().unwrap();
    let lab_s = lab.to_str().unwrap();

    let out = connector(&[
        "export",
        "--out",
        typed_s,
        "--client-id",
        "11111111-2222-3333-4444-555555555555",
        "--tenant",
        "contoso.onmicrosoft.com",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 4, "{}", text(&out.stdout));
    let props: serde_json::Value =
        serde_json::from_slice(&std::fs::read(typed.join("apiProperties.json")).unwrap())
            .unwrap();
    let oauth = &props["properties"]["connectionParameters"]["token"]["oAuthSettings"];
    assert_eq!(oauth["clientId"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(oauth["customParameters"]["tenantId"]["value"], "contoso.onmicrosoft.com");

    let out = connector(&["validate", typed_s, "--certification"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).ends_with("0 error(s), 0 warning(s)\n"),
        "{}",
        text(&out.stdout)
    );

    let out = connector(&["export", "--out", lab_s, "--profile", "lab"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("placeholder client id"));
    let out = connector(&["validate", lab_s]);
    assert!(out.status.success(), "warnings only: {}", text(&out.stdout));
    assert!(text(&out.stdout).contains("warning[swagger.oauth-token-url]"));
    let out = connector(&["validate", lab_s, "--certification"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("error[cert.title-words]"),
        "{}",
        text(&out.stdout)
    );

    let out = connector(&["validate", lab_s, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"swagger.oauth-token-url"), "{rules:?}");
    assert!(report["findings"][0]["path"].as_str().unwrap().starts_with('$'));
}

#[test]
fn connector_validate_reports_malformed_json_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.swagger.json");
    std::fs::write(&file, "{\n  \"swagger\": \"2.0\",\n  \"info\": {\"title\": \"x\" \"version\": \"1\"}\n}\n")
        .unwrap();
    let out = connector(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("error[json.malformed]"), "{stdout}");
    assert!(stdout.contains("broken.swagger.json:3:25"), "{stdout}");
    assert!(!text(&out.stderr).contains("panicked"));
}

#[test]
fn connector_validate_of_a_missing_path_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let out = connector(&["validate", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("graphlab: cannot validate"), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn flow_check(args: &[&str]) -> std::process::Output {
    graphlab().args(["flow", "check"]).args(args).output().unwrap()
}

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn flow_check_passes_the_labs_flows_and_fails_broken_ones() {
    for flow in
        ["create-team.json", "create-team-channels.json", "create-team-checked.json"]
    {
        let out = flow_check(&[&repo(&format!("lab-steps/flows/{flow}"))]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{flow}: {stdout}{}", text(&out.stderr));
        assert!(stdout.contains("Power Automate flow (definition.json)"), "{stdout}");
        assert!(stdout.contains("0 error(s), 0 warning(s)"), "{stdout}");
    }
    // The lab's own mistake: the designer's name, with a space.
    let broken =
        repo("crates/flow/tests/fixtures/broken/reference.undefined-action--spaces.json");
    let out = flow_check(&[&broken]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("reference.undefined-action"), "{stdout}");
    assert!(
        stdout.contains("$.properties.definition.actions['Batch_PUT-team'].inputs"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "The action(s) 'Batch POST-groups' referenced by 'inputs' in action \
             'Batch_PUT-team' are not defined in the template."
        ),
        "{stdout}"
    );
    // A warning alone does not fail.
    let warning = repo("crates/flow/tests/fixtures/broken/variable.order.json");
    let out = flow_check(&[&warning]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("0 error(s), 1 warning(s)"));
}

#[test]
fn flow_check_with_a_connector_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("lab");
    let out =
        connector(&["export", "--profile", "lab", "--out", package.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let package = package.to_str().unwrap();
    let good = repo("crates/flow/tests/fixtures/create-team-channels.logicapp.json");
    let out = flow_check(&[&good, "--connector", package]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let bad = repo("crates/flow/tests/fixtures/broken/connector.operation.json");
    let out = flow_check(&[&bad, "--connector", package, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["rule"], "connector.operation");
    assert_eq!(report["findings"][0]["severity"], "error");
    assert_eq!(
        report["findings"][0]["path"],
        "$.properties.definition.actions['Batch_GET-me'].inputs.host.operationId"
    );
    // Without the connector, the operation cannot be looked up: no finding.
    assert!(flow_check(&[&bad]).status.success());
    // Malformed JSON names the file, line and column.
    let file = dir.path().join("broken.json");
    std::fs::write(
        &file,
        "{\n  \"actions\": {\n    \"A\": {\"type\": \"Compose\",}\n  }\n}\n",
    )
    .unwrap();
    let out = flow_check(&[file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("json.malformed"), "{stdout}");
    assert!(stdout.contains("broken.json:3:"), "{stdout}");
}

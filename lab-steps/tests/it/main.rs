//! The lab, steps 2 to 8 in order, each the real binary, against an emulator
//! served in-process on 127.0.0.1:0; the lab's outcomes are checked in the
//! emulator's state as well as in what the steps print.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use graphlab_tenant::{RunningTenant, Tenant, TenantConfig, seed};
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "step failed: {}", self.stderr);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs a step binary in `dir` against `url`, off the async runtime.
async fn step(name: &str, url: &str, dir: &Path, args: &[&str]) -> Run {
    let exe = match name {
        "step02-register-app" => env!("CARGO_BIN_EXE_step02-register-app"),
        "step03-create-connector" => env!("CARGO_BIN_EXE_step03-create-connector"),
        "step04-authorize-connector" => env!("CARGO_BIN_EXE_step04-authorize-connector"),
        "step05-explore-batch" => env!("CARGO_BIN_EXE_step05-explore-batch"),
        "step06-create-flow" => env!("CARGO_BIN_EXE_step06-create-flow"),
        "step07-use-batch" => env!("CARGO_BIN_EXE_step07-use-batch"),
        "step08-export" => env!("CARGO_BIN_EXE_step08-export"),
        other => panic!("no step {other}"),
    };
    let mut command = Command::new(exe);
    command
        .current_dir(dir)
        .args(args)
        .env("GRAPHLAB_TENANT_URL", url)
        .env("GRAPHLAB_LAB_DIR", dir.join(".lab"))
        .env_remove("GRAPHLAB_AUTHORITY_URL")
        .env_remove("GRAPHLAB_GRAPH_URL");
    let output =
        tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs a step whose reader has gone before it writes anything.
async fn step_with_stdout_closed(name: &str, url: &str, dir: &Path) -> Run {
    assert_eq!(name, "step05-explore-batch");
    let mut command = Command::new(env!("CARGO_BIN_EXE_step05-explore-batch"));
    command
        .current_dir(dir)
        .env("GRAPHLAB_TENANT_URL", url)
        .env("GRAPHLAB_LAB_DIR", dir.join(".lab"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An emulator where the admin signs in unattended, served in-process, and
/// its URL. The steps are child processes, whose waits are real: the
/// emulator asks for none. Its device-code interval is 0, so a step's
/// sign-in polls once, at once (the interval's pacing is tested on a moved
/// clock in `crates/tenant/tests/it/clock.rs`). A new group replicates in no
/// time, so no step waits for a team: the 404 while a group replicates and
/// the client sending the team again are tested on a moved clock in
/// `crates/batch/tests/it/main.rs` (`retry_while`), `crates/flow`'s engine
/// tests and `crates/tenant/tests/it/`, and through a child process, the
/// `graphlab` binary, in `crates/cli/tests/it/trainee.rs` (point 4). Step
/// 7's own `retry_while` meets the real 3-second delay in `cargo xtask lab
/// outputs --check` (`.ci/run`): its output, `docs/src/outputs/step07.txt`,
/// says the team was sent again.
async fn unattended_tenant() -> (Tenant, RunningTenant, String) {
    let config = TenantConfig::in_memory()
        .unattended(seed::ADMIN_UPN)
        .device_poll_interval(0)
        .replication_delay(Duration::ZERO)
        .reuse_key();
    let (tenant, running) = graphlab_tenant::serve_loopback(&config).await.unwrap();
    let url = running.base_url().to_owned();
    (tenant, running, url)
}

/// How much faster than real time the flows' waits run in these tests (the
/// flows' one-minute Delay takes a millisecond): nothing needs them, as
/// groups replicate at once.
const TIME_SCALE: &str = "60000";

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn lab_dir(dir: &Path) -> PathBuf {
    dir.join(".lab")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_from_registration_to_channels() {
    let (tenant, running, url) = unattended_tenant().await;
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let mut printed = String::new();

    // Step 2: the app, its permission and its secret; a second run finds it.
    let run = step("step02-register-app", &url, dir, &["--json"]).await;
    printed += &run.stdout;
    printed += &run.stderr;
    let registered = run.json();
    assert_eq!(registered["changed"], true);
    let apps = tenant.objects("applications");
    assert_eq!(apps.len(), 1);
    let app = &apps[0];
    assert_eq!(app["displayName"], "MS Graph Batch App");
    assert_eq!(app["signInAudience"], "AzureADMultipleOrgs");
    assert_eq!(app["appId"], registered["app"]["clientId"]);
    let graph_sp = tenant
        .objects("servicePrincipals")
        .into_iter()
        .find(|sp| sp["appId"] == lab_steps::GRAPH_APP_ID)
        .unwrap();
    let group_rw = graph_sp["oauth2PermissionScopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["value"] == "Group.ReadWrite.All")
        .unwrap()["id"]
        .clone();
    let access = &app["requiredResourceAccess"][0];
    assert_eq!(access["resourceAppId"], lab_steps::GRAPH_APP_ID);
    assert!(
        access["resourceAccess"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == group_rw && a["type"] == "Scope"),
        "Group.ReadWrite.All (delegated) is configured: {access}"
    );
    assert_eq!(app["passwordCredentials"][0]["displayName"], "forever");
    let secret_file = lab_dir(dir).join("app-secret");
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    assert!(secret.len() >= 30, "a real secret is stored");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(lab_dir(dir)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the lab directory a step makes is owner-only");
    }
    let again = step("step02-register-app", &url, dir, &["--json"]).await.json();
    assert_eq!(again["changed"], false, "the second run changes nothing");
    assert_eq!(tenant.objects("applications").len(), 1, "no second app");
    assert_eq!(
        tenant.objects("applications")[0]["passwordCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "no second secret"
    );

    // Step 3: both packages valid; the redirect URIs on the app.
    let port = free_port().to_string();
    let run =
        step("step03-create-connector", &url, dir, &["--json", "--redirect-port", &port])
            .await;
    printed += &run.stdout;
    let exported = run.json();
    for package in exported["packages"].as_array().unwrap() {
        assert_eq!(
            package["report"]["findings"]
                .as_array()
                .map(|f| { f.iter().filter(|f| f["severity"] == "error").count() }),
            Some(0),
            "{package}"
        );
    }
    let typed = &exported["packages"][1];
    assert_eq!(typed["package"], "typed");
    assert_eq!(typed["report"]["findings"], serde_json::json!([]));
    for file in
        ["apiDefinition.swagger.json", "apiProperties.json", "settings.json", "icon.png"]
    {
        assert!(lab_dir(dir).join("connector/typed").join(file).is_file(), "{file}");
    }
    let uris = tenant.objects("applications")[0]["web"]["redirectUris"].clone();
    assert!(
        uris.as_array().unwrap().iter().any(|u| u == graphlab_connector::REDIRECT_URL),
        "{uris}"
    );
    let spa = tenant.objects("applications")[0]["spa"]["redirectUris"].clone();
    assert_eq!(
        spa,
        serde_json::json!(["http://127.0.0.1:5590/"]),
        "graphlab studio's page"
    );
    let again = step("step03-create-connector", &url, dir, &["--json"]).await.json();
    assert_eq!(again["changed"], false);
    // Each finding explained, as `graphlab connector validate` does.
    let readable = step("step03-create-connector", &url, dir, &[]).await;
    assert!(
        readable.stdout.contains(
            "warning[cert.title-words] apiDefinition.swagger.json $.info.title: the title"
        ),
        "{}",
        readable.stdout
    );
    let own = step(
        "step03-create-connector",
        &url,
        dir,
        &["--json", "--connector-id", "shared-5f0c"],
    )
    .await
    .json();
    assert_eq!(own["changed"], true, "the per-connector redirect URL is added");
    let uris = tenant.objects("applications")[0]["web"]["redirectUris"].clone();
    assert!(
        uris.as_array()
            .unwrap()
            .iter()
            .any(|u| u == &graphlab_connector::redirect_url_for("shared-5f0c")),
        "{uris}"
    );

    // Step 4: the cached connection; the second run makes no token request.
    let run = step("step04-authorize-connector", &url, dir, &["--json"]).await;
    printed += &run.stdout;
    let authorized = run.json();
    assert_eq!(authorized["changed"], true);
    assert_eq!(authorized["account"], seed::ADMIN_UPN);
    assert!(
        authorized["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "Group.ReadWrite.All")
    );
    let before = tenant.stats().token_requests;
    let again = step("step04-authorize-connector", &url, dir, &["--json"]).await.json();
    assert_eq!(again["changed"], false);
    assert_eq!(again["scopes"], authorized["scopes"], "the scopes' own case on a rerun");
    assert_eq!(tenant.stats().token_requests, before, "silent: served from the cache");

    // Step 5: three 200s, more properties on beta, OneNote's 403 / 40004.
    let run = step("step05-explore-batch", &url, dir, &["--json"]).await;
    printed += &run.stdout;
    let explored = run.json();
    for item in explored["parallel"].as_array().unwrap() {
        assert_eq!(item["status"], 200, "{item}");
    }
    assert!(!explored["betaOnly"].as_array().unwrap().is_empty());
    assert_eq!(explored["onenote"]["status"], 403);
    assert_eq!(explored["onenote"]["code"], "40004");

    // Step 6: the group, then its team (201) once replicated.
    let run = step(
        "step06-create-flow",
        &url,
        dir,
        &["--json", "--name", "LabTeam", "--time-scale", TIME_SCALE],
    )
    .await;
    printed += &run.stdout;
    let flow = run.json();
    assert_eq!(flow["teamStatus"], 201);
    assert!(lab_dir(dir).join("flow-runs.db").exists(), "the run is in the history");
    let group_id = flow["groupId"].as_str().unwrap().to_owned();
    let group =
        tenant.objects("groups").into_iter().find(|g| g["id"] == group_id).unwrap();
    assert_eq!(group["mailNickname"], "LabTeam");
    assert_eq!(group["groupTypes"][0], "Unified");
    assert!(tenant.objects("teams").iter().any(|t| t["id"] == group_id));

    // A reader that goes at once (`| head -0`) ends step 5 quietly.
    let closed = step_with_stdout_closed("step05-explore-batch", &url, dir).await;
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert!(!closed.stderr.contains("panicked"), "{}", closed.stderr);

    // Step 7: the extended flow, with a new name: a group, its team and the
    // three channels; then team and channels in one batch (the group has
    // replicated at once here: see `unattended_tenant`).
    let run = step(
        "step07-use-batch",
        &url,
        dir,
        &["--name", "LabTeam", "--time-scale", TIME_SCALE],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    printed += &run.stdout;
    assert!(
        run.stdout.contains(
            "Batch_POST-channels  Succeeded  $batch 200; item 1: 201, 2: 201, 3: 201"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Sent 4 item(s) in 1 $batch call(s):"),
        "team and channels in one call: {}",
        run.stdout
    );
    let batch = step("step07-use-batch", &url, dir, &["--json", "--name", "LabTeam"])
        .await
        .json();
    let flow_team = batch["teamId"].as_str().unwrap().to_owned();
    assert_ne!(flow_team, group_id, "step 7's flow runs with a new name");
    let flows = tenant.objects("groups");
    assert!(
        flows
            .iter()
            .any(|g| g["id"] == flow_team && g["mailNickname"] == "LabTeamChannels")
    );
    let channels = tenant.objects("channels");
    for name in ["Marketing Collateral", "Vendor Contracts", "General Client Agreements"]
    {
        for team in [flow_team.as_str(), batch["variant"]["groupId"].as_str().unwrap()] {
            assert!(
                channels.iter().any(|c| c["displayName"] == name && c["_teamId"] == team),
                "channel {name} in team {team}"
            );
        }
    }
    assert_eq!(batch["changed"], false);

    // Step 8: every flow exported both ways, checked; the same bytes the
    // second time, and never the client secret.
    let export = step("step08-export", &url, dir, &["--json"]).await.json();
    assert_eq!(export["changed"], true);
    let exports = export["exports"].as_array().unwrap();
    assert_eq!(exports.len(), 6, "three flows, two targets: {export}");
    assert!(exports.iter().all(|e| e["errors"] == 0), "{export}");
    let out = lab_dir(dir).join("export");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "create-team-channels.json",
            "create-team-channels.parameters.json",
            "create-team-channels.zip",
            "create-team-checked.json",
            "create-team-checked.parameters.json",
            "create-team-checked.zip",
            "create-team.json",
            "create-team.parameters.json",
            "create-team.zip",
        ],
        "nothing else, no temporary file left"
    );
    let mut scanned = 0;
    for name in &names {
        let bytes = std::fs::read(out.join(name)).unwrap();
        assert!(!contains(&bytes, secret.trim().as_bytes()), "the secret is in {name}");
        if name.ends_with(".zip") {
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            for i in 0..zip.len() {
                let mut entry = zip.by_index(i).unwrap();
                let mut content = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
                assert!(
                    !contains(&content, secret.trim().as_bytes()),
                    "the secret is in {name}!{}",
                    entry.name().unwrap()
                );
                scanned += 1;
            }
        } else {
            let doc: Value = serde_json::from_slice(&bytes).unwrap();
            if !name.ends_with(".parameters.json") {
                // The template asks for the secret at deployment.
                assert_eq!(doc["parameters"]["clientSecret"]["type"], "securestring");
            }
        }
        scanned += 1;
    }
    assert!(scanned > names.len(), "the packages' entries were read too");
    let modified =
        std::fs::metadata(out.join("create-team.zip")).unwrap().modified().unwrap();
    let again = step("step08-export", &url, dir, &["--json"]).await.json();
    assert_eq!(again["changed"], false, "exports are reproducible: {again}");
    let readable = step("step08-export", &url, dir, &[]).await;
    assert_eq!(readable.code, 0, "{}", readable.stderr);
    assert!(
        readable.stdout.contains("Up to date: 6 export(s) of 3 flow(s)"),
        "{}",
        readable.stdout
    );
    assert!(
        readable.stdout.contains("  create-team.zip: Power Automate package"),
        "{}",
        readable.stdout
    );
    printed += &readable.stdout;
    assert_eq!(
        std::fs::metadata(out.join("create-team.zip")).unwrap().modified().unwrap(),
        modified,
        "an unchanged export is not rewritten"
    );

    assert!(!printed.contains(secret.trim()), "the client secret is never printed");
    running.shutdown().await;

    // The tenant stopped: the address, the cause and what to do, once.
    let stopped = step("step05-explore-batch", &url, dir, &[]).await;
    assert_eq!(stopped.code, 1);
    assert!(
        stopped.stderr.contains(&format!("cannot reach {url}/v1.0/$batch")),
        "{}",
        stopped.stderr
    );
    assert!(stopped.stderr.contains("cargo xtask tenant start"), "{}", stopped.stderr);
    assert!(!stopped.stderr.contains("[("), "no Debug list: {}", stopped.stderr);
    assert_eq!(
        stopped.stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.starts_with(&format!(
            "target: emulated tenant at {url} (from GRAPHLAB_TENANT_URL)"
        )),
        "the step says which tenant: {}",
        stopped.stderr
    );
}

#[tokio::test]
async fn bad_input_and_missing_steps_give_one_line_causes() {
    let tenant = Tenant::open(&TenantConfig::in_memory().reuse_key()).unwrap();
    let running =
        graphlab_tenant::serve(tenant, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let temp = tempfile::tempdir().unwrap();
    let url = running.base_url().to_owned();

    let spaced =
        step("step06-create-flow", &url, temp.path(), &["--name", "Lab Team"]).await;
    assert_eq!(spaced.code, 1);
    assert_eq!(spaced.stderr.lines().count(), 1, "{}", spaced.stderr);
    assert!(spaced.stderr.starts_with("error: --name 'Lab Team' contains a space"));

    let no_connector = step("step08-export", &url, temp.path(), &[]).await;
    assert_eq!(no_connector.code, 1);
    assert!(
        no_connector.stderr.contains("run step03-create-connector first"),
        "{}",
        no_connector.stderr
    );
    assert!(!temp.path().join(".lab/export").exists(), "nothing written");

    let early = step("step04-authorize-connector", &url, temp.path(), &[]).await;
    assert_eq!(early.code, 1);
    assert!(early.stderr.contains("run step02-register-app first"), "{}", early.stderr);

    std::fs::create_dir_all(lab_dir(temp.path())).unwrap();
    std::fs::write(lab_dir(temp.path()).join("lab.toml"), "[app\nname = 1\n").unwrap();
    let broken = step("step03-create-connector", &url, temp.path(), &[]).await;
    assert_eq!(broken.code, 1);
    assert!(
        broken.stderr.contains("lab.toml is not a valid lab config"),
        "{}",
        broken.stderr
    );
    assert!(broken.stderr.contains("line 1"), "{}", broken.stderr);
    running.shutdown().await;
}

/// Regression: `filter_query` escaped only spaces and `%`, so a group named
/// `R&D` (the `&` ended the `$filter`) or `O'Neil` (the quote was not doubled,
/// as OData requires) was not found by steps 6 and 7, which then tried to
/// create it again. Both names are mail nicknames `check_group_name` accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_named_r_and_d_or_o_neil_are_created_once_and_found_the_second_time() {
    let (tenant, running, url) = unattended_tenant().await;
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let port = free_port().to_string();
    for (name, args) in [
        ("step02-register-app", vec!["--json"]),
        ("step03-create-connector", vec!["--json", "--redirect-port", &port]),
        ("step04-authorize-connector", vec!["--json"]),
    ] {
        step(name, &url, dir, &args).await.json();
    }
    for name in ["R&D", "O'Neil"] {
        for program in ["step06-create-flow", "step07-use-batch"] {
            let args = ["--json", "--name", name, "--time-scale", TIME_SCALE];
            let first = step(program, &url, dir, &args).await.json();
            assert_eq!(first["changed"], true, "{program} --name {name}: {first}");
            let again = step(program, &url, dir, &args).await.json();
            assert_eq!(again["changed"], false, "{program} --name {name}: {again}");
        }
        let groups = tenant.objects("groups");
        for nickname in
            [name.to_owned(), format!("{name}Channels"), format!("{name}AllInOne")]
        {
            let count =
                groups.iter().filter(|g| g["mailNickname"] == nickname.as_str()).count();
            assert_eq!(count, 1, "one group {nickname}");
        }
    }
    running.shutdown().await;
}

//! graphlab-studio's integration tests: the studio served on 127.0.0.1:0
//! and asked over real HTTP — its page and assets, `/api/config`, the
//! lab's flows drawn, the run history (a real run of a flow), the fault
//! settings proxied to an in-process emulator with its admin secret (which
//! never comes back), and the `Host` check.

mod browser;

use std::path::PathBuf;

use graphlab_auth::Secret;
use graphlab_flow::{Engine, RunOptions, history::History};
use graphlab_studio::{StudioConfig, serve};
use graphlab_tenant::{Tenant, TenantConfig};
use serde_json::{Value, json};

fn flows_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../lab-steps/flows")
}

fn config(lab_dir: PathBuf, flows_dir: PathBuf) -> StudioConfig {
    StudioConfig {
        graph_url: "http://127.0.0.1:9".to_owned(),
        authority_url: "http://127.0.0.1:9".to_owned(),
        tenant: "organizations".to_owned(),
        client_id: "c1d2e3f4-0000-4000-8000-000000000001".to_owned(),
        emulated: true,
        lab_dir,
        flows_dir,
        admin_secret: None,
    }
}

async fn get(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_a_strict_content_security_policy() {
    let lab = tempfile::tempdir().unwrap();
    let studio = serve(config(lab.path().into(), flows_dir()), 0).await.unwrap();
    let base = studio.base_url();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with('/'));
    let page = reqwest::get(base).await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("connect-src 'self' http://127.0.0.1:9")
    );
    let html = page.text().await.unwrap();
    for name in [
        "Sign in",
        "Run query",
        "Version",
        "Request body",
        "Sample queries",
        "Response preview",
        "Response headers",
        "Access token",
        "Modify permissions",
        ">Code<",
    ] {
        assert!(html.contains(name), "the page names {name}");
    }
    for asset in [
        "main.js",
        "auth.js",
        "explorer.js",
        "samples.js",
        "tenant.js",
        "flows.js",
        "faults.js",
        "ui.js",
        "studio.css",
    ] {
        let response = reqwest::get(format!("{base}assets/{asset}")).await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(
            !response.text().await.unwrap().contains("https://cdn"),
            "no CDN in {asset}"
        );
    }
    let (status, body) = get(&format!("{base}assets/nothing.js")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NotFound");
}

#[tokio::test]
async fn requests_for_another_host_name_are_refused() {
    let lab = tempfile::tempdir().unwrap();
    let studio = serve(config(lab.path().into(), flows_dir()), 0).await.unwrap();
    let url = format!("{}api/config", studio.base_url());
    let refused = reqwest::Client::new()
        .get(&url)
        .header("Host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 421);
    let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
    let by_name = reqwest::Client::new()
        .get(&url)
        .header("Host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.status(), 200);
}

#[tokio::test]
async fn the_config_says_where_to_sign_in_and_the_flows_come_drawn() {
    let lab = tempfile::tempdir().unwrap();
    let studio = serve(config(lab.path().into(), flows_dir()), 0).await.unwrap();
    let (status, body) = get(&format!("{}api/config", studio.base_url())).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"graphUrl": "http://127.0.0.1:9", "authorityUrl": "http://127.0.0.1:9",
               "tenant": "organizations", "clientId": "c1d2e3f4-0000-4000-8000-000000000001",
               "targetKind": "emulator", "faults": false})
    );
    let (status, body) = get(&format!("{}api/flows", studio.base_url())).await;
    assert_eq!(status, 200);
    let files: Vec<&str> = body["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["create-team-channels.json", "create-team-checked.json", "create-team.json"]
    );
    for flow in body["flows"].as_array().unwrap() {
        let svg = flow["svg"].as_str().unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Batch_POST-groups"));
    }
    // No run history yet: an empty list, and none is created.
    let (status, body) = get(&format!("{}api/runs", studio.base_url())).await;
    assert_eq!((status, body), (200, json!({"runs": []})));
    assert!(!lab.path().join(graphlab_flow::history::FILE).exists());
    let (status, body) = get(&format!("{}api/runs/latest", studio.base_url())).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = get(&format!("{}api/runs/..%2F..", studio.base_url())).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_run_from_the_history_comes_with_its_picture() {
    let lab = tempfile::tempdir().unwrap();
    let flows = tempfile::tempdir().unwrap();
    let definition = json!({
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {}}},
        "actions": {
            "Greet": {"type": "Compose", "inputs": "hello", "runAfter": {}},
            "Stop": {"type": "Terminate", "runAfter": {"Greet": ["Succeeded"]},
                     "inputs": {"runStatus": "Failed",
                                "runError": {"code": "Stopped", "message": "on purpose"}}},
            "After": {"type": "Compose", "inputs": 1, "runAfter": {"Stop": ["Succeeded"]}}
        }
    });
    std::fs::write(flows.path().join("greet.json"), definition.to_string()).unwrap();
    let workflow = graphlab_flow::load(&definition.to_string(), "greet.json").unwrap();
    let run = Engine::new("http://127.0.0.1:9")
        .run(&workflow, RunOptions::default())
        .await
        .unwrap();
    History::open(lab.path()).unwrap().save(&run).unwrap();

    let studio = serve(config(lab.path().into(), flows.path().into()), 0).await.unwrap();
    let (status, body) = get(&format!("{}api/runs", studio.base_url())).await;
    assert_eq!(status, 200);
    assert_eq!(body["runs"][0]["id"], run.id.as_str());
    assert_eq!(body["runs"][0]["workflow"], "greet");
    let (status, body) = get(&format!("{}api/runs/latest", studio.base_url())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["file"], "greet.json");
    assert_eq!(body["run"]["actions"]["Greet"]["status"], "Succeeded");
    let svg = body["svg"].as_str().unwrap();
    assert!(svg.contains("Greet (Compose): ✓ Succeeded"), "{svg}");
    for (name, record) in &run.actions {
        assert!(
            svg.contains(&format!("{name} (")) && svg.contains(record.status.as_str()),
            "{name} is drawn with its status {}",
            record.status
        );
    }
    assert_eq!(run.status, graphlab_flow::Status::Failed, "the Terminate failed the run");
    assert!(svg.contains(&format!("run {}: Failed</title>", run.id)), "{svg}");
}

async fn emulator() -> (Tenant, graphlab_tenant::RunningTenant) {
    let tenant = Tenant::open(&TenantConfig::in_memory().reuse_key()).unwrap();
    let running = graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (tenant, running)
}

#[tokio::test]
async fn faults_are_read_and_set_on_the_emulator_with_a_secret_the_browser_never_sees() {
    let (tenant, running) = emulator().await;
    let lab = tempfile::tempdir().unwrap();
    let mut c = config(lab.path().into(), flows_dir());
    c.graph_url = running.base_url().trim_end_matches('/').to_owned();
    c.admin_secret = Some(Secret::new(tenant.admin_secret()));
    assert!(!format!("{c:?}").contains(tenant.admin_secret()), "Debug hides the secret");
    let studio = serve(c, 0).await.unwrap();
    let url = format!("{}api/faults", studio.base_url());
    let client = reqwest::Client::new();

    let (status, body) = get(&url).await;
    assert_eq!(status, 200, "{body}");
    let rule = json!({"seed": 3, "rules": [{"method": "POST", "path": "/teams/*/channels",
                      "scope": "batchItem", "rates": {"429": 1.0}}]});
    let put = client.put(&url).json(&rule).send().await.unwrap();
    assert_eq!(put.status(), 200);
    let text = put.text().await.unwrap();
    assert!(!text.contains(tenant.admin_secret()));
    let chaos = serde_json::to_value(tenant.chaos()).unwrap();
    assert_eq!(chaos["rules"][0]["path"], "/teams/*/channels");

    // Not JSON: said where, and nothing reaches the emulator.
    let bad = client
        .put(&url)
        .header("Content-Type", "application/json")
        .body("{\"rules\": [\n  oops]}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let message = bad.json::<Value>().await.unwrap()["error"]["message"].clone();
    assert!(message.as_str().unwrap().contains("line 2, column 3"), "{message}");
    // A rule the emulator refuses: its reason, as a 400.
    let refused = client
        .put(&url)
        .json(&json!({"rules": [{"rates": {"429": 7}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "{}", refused.text().await.unwrap());
    // A form post from another page (no JSON content type) is refused.
    let form = client.put(&url).body("rules=[]").send().await.unwrap();
    assert_eq!(form.status(), 415);
    assert_eq!(serde_json::to_value(tenant.chaos()).unwrap(), chaos, "unchanged");
}

#[tokio::test]
async fn faults_without_the_secret_or_on_microsofts_cloud_say_why() {
    let lab = tempfile::tempdir().unwrap();
    let studio = serve(config(lab.path().into(), flows_dir()), 0).await.unwrap();
    let (status, body) = get(&format!("{}api/faults", studio.base_url())).await;
    assert_eq!(status, 503);
    assert!(body["error"]["message"].as_str().unwrap().contains("admin-secret"));
    let mut real = config(lab.path().into(), flows_dir());
    real.emulated = false;
    real.admin_secret = Some(Secret::new("x".repeat(40)));
    let studio = serve(real, 0).await.unwrap();
    let (status, body) = get(&format!("{}api/faults", studio.base_url())).await;
    assert_eq!(status, 404);
    assert!(body["error"]["message"].as_str().unwrap().contains("only on the emulated"));
}

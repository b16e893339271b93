//! The studio in a real browser (issue 16, "Done when"): Debian's chromium
//! through chromedriver (WebDriver, with `fantoccini`), the studio against
//! an in-process emulator holding a group, its team and three channels.
//! The page is driven as a user would, finding controls by their
//! accessible names: sign in, "Perform parallel GETs", v1.0 and beta, the
//! OneNote item's 403 / 40004 inside a 200 batch, the token's claims,
//! the code, incremental consent (then the same item answers 201), the
//! history exported as HAR, the Tenant and Flows pages, a run's picture,
//! the Faults page saving a rule the emulator then enforces, and no
//! console errors. Screenshots go to
//! `$GRAPHLAB_STUDIO_SCREENSHOTS` if set (`cargo xtask lab screenshots`
//! sets it, and copies them into the book), else
//! `$CARGO_TARGET_DIR/studio-screenshots/` (else `target/`).

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, key::Key};
use graphlab_auth::{Secret, StaticToken};
use graphlab_connector::{ExportOptions, Profile};
use graphlab_flow::{
    Engine, RunOptions,
    connector::{Connector, Connectors},
    engine::VirtualClock,
    history::History,
    run::Run,
};
use graphlab_studio::{StudioConfig, serve};
use graphlab_tenant::{Tenant, TenantConfig, seed};
use serde_json::{Value, json};

/// How long any one thing may take to appear on the page.
const DEADLINE: Duration = Duration::from_secs(30);

/// chromedriver on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let program =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {program} ({e}): the studio's browser test needs Debian's \
                     chromium and chromium-driver (apt-get install chromium chromium-driver), \
                     or CHROMEDRIVER=/path/to/chromedriver"
                )
            });
        Driver { child, url: format!("http://127.0.0.1:{port}") }
    }

    /// A headless chromium session, once chromedriver listens (polled
    /// until the deadline).
    async fn session(&mut self) -> Client {
        let mut caps = serde_json::Map::new();
        let mut chrome = json!({"args": ["--headless=new", "--no-sandbox",
                                         "--disable-dev-shm-usage", "--window-size=1400,1000"]});
        if let Ok(binary) = std::env::var("CHROMIUM") {
            chrome["binary"] = json!(binary);
        }
        caps.insert("goog:chromeOptions".into(), chrome);
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let start = std::time::Instant::now();
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&self.url)
                .await
            {
                Ok(client) => return client,
                Err(e) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!("chromedriver exited ({status}) before it listened");
                    }
                    if start.elapsed() > DEADLINE {
                        panic!(
                            "no WebDriver session from chromedriver at {} within {DEADLINE:?}: {e} \
                             (is chromium installed? apt-get install chromium chromium-driver)",
                            self.url
                        );
                    }
                    // chromedriver is still starting: yield, then ask again.
                    tokio::task::yield_now().await;
                }
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn flows_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../lab-steps/flows")
}

fn screenshots_dir() -> PathBuf {
    let dir = std::env::var_os("GRAPHLAB_STUDIO_SCREENSHOTS").map_or_else(
        || {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
                })
                .join("studio-screenshots")
        },
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
}

/// An XPath string literal for `text` (no quote of both kinds in tests).
fn lit(text: &str) -> String {
    if text.contains('\'') { format!("\"{text}\"") } else { format!("'{text}'") }
}

async fn find(client: &Client, xpath: &str) -> Element {
    client
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("nothing on the page matches {xpath}: {e}"))
}

/// A visible button by its accessible name (its text or aria-label).
async fn button(client: &Client, name: &str) -> Element {
    let n = lit(name);
    find(client, &format!("//button[normalize-space(.)={n} or @aria-label={n}]")).await
}

/// The control a `<label>` names.
async fn labelled(client: &Client, label: &str) -> Element {
    find(client, &format!("//*[@id=//label[normalize-space(.)={}]/@for]", lit(label)))
        .await
}

/// Polls `script` (a JavaScript function body returning a value) until
/// `done` accepts its answer, or panics with `what` and the last answer.
async fn until(
    client: &Client,
    what: &str,
    script: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let start = std::time::Instant::now();
    loop {
        let value = client.execute(script, vec![]).await.unwrap();
        if done(&value) {
            return value;
        }
        if start.elapsed() > DEADLINE {
            let status = client
                .execute(
                    "return [document.getElementById('response-status')?.textContent, \
                     document.getElementById('message')?.textContent];",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            panic!(
                "{what}: still {value} after {DEADLINE:?} (status line, message: {status})"
            );
        }
        tokio::task::yield_now().await;
    }
}

/// The rows of the table captioned "Batch responses": [id, status, code].
const BATCH_ROWS: &str = "const t = [...document.querySelectorAll('table')].find(\
    (t) => t.caption && t.caption.textContent.trim() === 'Batch responses');\
    if (!t) return null;\
    const heads = [...t.tHead.rows[0].cells].map((c) => c.textContent.trim());\
    const id = heads.indexOf('Id'), st = heads.indexOf('Status'), code = heads.indexOf('Error code');\
    return [...t.tBodies[0].rows].filter((r) => !r.classList.contains('detail')).map((r) =>\
      [r.cells[id].textContent.replace(/[▸▾]/g, '').trim(), r.cells[st].textContent.trim(),\
       r.cells[code].textContent.trim()]);";

async fn run_sample(client: &Client, sample: &str) -> Value {
    let list = find(
        client,
        "//ul[@aria-labelledby=//h3[normalize-space(.)='Sample queries']/@id]",
    )
    .await;
    list.find(Locator::XPath(&format!(".//button[normalize-space(.)={}]", lit(sample))))
        .await
        .unwrap_or_else(|e| panic!("no sample named {sample}: {e}"))
        .click()
        .await
        .unwrap();
    clear_batch(client).await;
    button(client, "Run query").await.click().await.unwrap();
    until(client, &format!("the batch table of {sample}"), BATCH_ROWS, |v| {
        v.as_array().is_some_and(|rows| !rows.is_empty())
    })
    .await
}

/// Clears the previous answer's table, so that a poll sees the next one.
async fn clear_batch(client: &Client) {
    client
        .execute(
            "document.getElementById('batch').replaceChildren(); return null;",
            vec![],
        )
        .await
        .unwrap();
}

/// The number of properties of the first batch item's body, as the page's
/// JSON view counts them (its detail row: headers, then body).
async fn me_properties(client: &Client) -> u64 {
    let script = "const d = document.getElementById('batch-item-0'); if (!d) return null;\
        const body = d.querySelectorAll('td > details')[1]; if (!body) return null;\
        return parseInt(body.querySelector('summary .count').textContent, 10);";
    until(client, "the /me item's body", script, |v| v.as_u64().is_some())
        .await
        .as_u64()
        .unwrap()
}

async fn outer_status(client: &Client) -> String {
    find(client, "//p[@id='response-status']").await.text().await.unwrap()
}

/// Runs the lab's flow `create-team-channels.json` (step 7) against the
/// emulator as `graphlab flow run` does (the lab's typed connector, the
/// admin's token, a virtual clock for its Delay) and keeps it in the run
/// history of `lab_dir`.
async fn run_lab_flow(tenant: &Tenant, graph: &str, lab_dir: &std::path::Path) -> Run {
    let token = tenant
        .issue_token(seed::ADMIN_UPN, &["User.Read", "Group.ReadWrite.All"])
        .unwrap();
    let package = graphlab_connector::export(&ExportOptions {
        profile: Profile::Typed,
        ..ExportOptions::default()
    });
    let mut connectors = Connectors::new();
    connectors.add(Connector::from_swagger(&package.api_definition, None).unwrap());
    let mut engine = Engine::new(graph);
    engine.clock = Arc::new(VirtualClock::starting_at(time::OffsetDateTime::now_utc()));
    engine.token = Some(Arc::new(StaticToken(Secret::new(token))));
    engine.connectors = connectors;
    let path = flows_dir().join("create-team-channels.json");
    let workflow = graphlab_flow::load(
        &std::fs::read_to_string(&path).unwrap(),
        &path.display().to_string(),
    )
    .unwrap();
    let options = RunOptions {
        inputs: vec![("Name".to_owned(), "LabChannels".to_owned())],
        ..RunOptions::default()
    };
    let run = engine.run(&workflow, options).await.unwrap();
    History::open(lab_dir).unwrap().save(&run).unwrap();
    run
}

/// A group, its team and three channels, made through Graph as the admin.
async fn lab_state(tenant: &Tenant, graph: &str) -> String {
    let token = tenant
        .issue_token(seed::ADMIN_UPN, &["User.Read", "Group.ReadWrite.All"])
        .unwrap();
    let http = reqwest::Client::new();
    let post =
        |url: String, body: Value| http.post(url).bearer_auth(&token).json(&body).send();
    let group: Value = post(
        format!("{graph}/v1.0/groups"),
        json!({"displayName": "LabTeam", "mailNickname": "LabTeam", "mailEnabled": true,
               "securityEnabled": false, "groupTypes": ["Unified"], "description": "LabTeam"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = group["id"].as_str().expect("the group's id").to_owned();
    let team = http
        .put(format!("{graph}/v1.0/groups/{id}/team"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(team.status(), 201, "{}", team.text().await.unwrap());
    for name in ["Marketing Collateral", "Vendor Contracts", "General Client Agreements"]
    {
        let channel = post(
            format!("{graph}/v1.0/teams/{id}/channels"),
            json!({"displayName": name, "membershipType": "standard"}),
        )
        .await
        .unwrap();
        assert_eq!(channel.status(), 201, "{}", channel.text().await.unwrap());
    }
    id
}

#[tokio::test]
async fn the_studio_signs_in_runs_the_labs_batches_and_shows_the_tenant_and_flows_in_chromium()
 {
    let mut driver = Driver::start();
    let mut config = TenantConfig::in_memory().reuse_key();
    config.replication_delay = Duration::ZERO;
    let tenant = Tenant::open(&config).unwrap();
    let running = graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let graph = running.base_url().trim_end_matches('/').to_owned();
    lab_state(&tenant, &graph).await;
    let lab = tempfile::tempdir().unwrap();
    let run = run_lab_flow(&tenant, &graph, lab.path()).await;
    assert_eq!(run.status, graphlab_flow::Status::Succeeded, "{:#}", run.to_json());
    let studio = serve(
        StudioConfig {
            graph_url: graph.clone(),
            authority_url: graph.clone(),
            tenant: "organizations".to_owned(),
            client_id: graphlab_lab::STUDIO_CLIENT_ID.to_owned(),
            emulated: true,
            lab_dir: lab.path().into(),
            flows_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../lab-steps/flows"),
            admin_secret: Some(Secret::new(tenant.admin_secret().to_owned())),
        },
        0,
    )
    .await
    .unwrap();

    let client = driver.session().await;
    client.goto(studio.base_url()).await.unwrap();
    button(&client, "Sign in").await.click().await.unwrap();
    // The emulator's account picker: the admin, then Accept.
    find(&client, &format!("//label[contains(., {})]/input", lit(seed::ADMIN_UPN)))
        .await
        .click()
        .await
        .unwrap();
    screenshot(&client, "sign-in").await;
    button(&client, "Accept").await.click().await.unwrap();
    find(&client, "//button[normalize-space(.)='Sign out' and not(@hidden)]").await;

    // Step 5: Graph Explorer's "Perform parallel GETs".
    let rows = run_sample(&client, "Perform parallel GETs").await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in rows {
        assert!(row[1].as_str().unwrap().starts_with("200"), "{rows:?}");
    }
    assert!(outer_status(&client).await.contains("200"));
    screenshot(&client, "batch-explorer").await;

    // v1.0, then beta: `/me` in a batch has more properties on beta.
    run_sample(&client, "Step 5: /me in a batch (compare v1.0 and beta)").await;
    let v1 = me_properties(&client).await;
    labelled(&client, "Version").await.select_by_label("beta").await.unwrap();
    clear_batch(&client).await;
    button(&client, "Run query").await.click().await.unwrap();
    let beta = me_properties(&client).await;
    assert!(beta > v1, "beta's /me has more properties than v1.0's: {beta} vs {v1}");
    screenshot(&client, "me-beta").await;

    // The OneNote item: 403 / 40004 inside a batch that answers 200.
    let rows = run_sample(
        &client,
        "Step 5: a OneNote notebook (403 / 40004 without the Notes scopes)",
    )
    .await;
    assert!(rows[0][1].as_str().unwrap().starts_with("403"), "{rows}");
    assert!(rows[0][2].as_str().unwrap().contains("40004"), "{rows}");
    let outer = outer_status(&client).await;
    assert!(outer.contains("Batch answer: 200"), "{outer}");
    screenshot(&client, "onenote-403").await;

    // The token's claims and the code for the request; then incremental
    // consent, after which the same item succeeds; then the history as HAR.
    token_and_code(&client).await;
    consent_to_notes(&client).await;
    let rows = run_sample(
        &client,
        "Step 5: a OneNote notebook (403 / 40004 without the Notes scopes)",
    )
    .await;
    assert!(rows[0][1].as_str().unwrap().starts_with("201"), "{rows}");
    history_as_har(&client).await;

    // The Tenant page: the group, its team and the three channels.
    find(&client, "//nav[@aria-label='Pages']//a[normalize-space(.)='Tenant']")
        .await
        .click()
        .await
        .unwrap();
    let channels = "//ul[@aria-label='Channels of LabTeam']/li";
    find(&client, channels).await;
    let names: Vec<String> = {
        let mut names = Vec::new();
        for li in client.find_all(Locator::XPath(channels)).await.unwrap() {
            names.push(li.text().await.unwrap());
        }
        names
    };
    for name in ["Marketing Collateral", "Vendor Contracts", "General Client Agreements"]
    {
        assert!(names.iter().any(|n| n.starts_with(name)), "{name} in {names:?}");
    }
    find(
        &client,
        "//table[caption[normalize-space(.)='Groups']]//td[normalize-space(.)='LabTeam']",
    )
    .await;
    screenshot(&client, "tenant").await;

    // The Flows page: the lab's flow drawn, and its run with its statuses.
    find(&client, "//nav[@aria-label='Pages']//a[normalize-space(.)='Flows']")
        .await
        .click()
        .await
        .unwrap();
    find(&client, "//figure/figcaption[contains(., 'create-team-channels.json')]").await;
    let row = find(
        &client,
        &format!(
            "//table[caption[normalize-space(.)='Runs']]//tr[contains(., {})]",
            lit(&run.id)
        ),
    )
    .await;
    let text = row.text().await.unwrap();
    assert!(text.contains("Succeeded"), "{text}");
    screenshot(&client, "flows").await;

    // The run's picture: every action of the run marked with its status.
    row.find(Locator::XPath(&format!(".//button[normalize-space(.)={}]", lit(&run.id))))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let heading = format!("Run {}: Succeeded", run.id);
    find(
        &client,
        &format!("//div[@id='run-detail']/h3[normalize-space(.)={}]", lit(&heading)),
    )
    .await;
    for action in run.actions.keys() {
        find(
            &client,
            &format!(
                "//div[@id='run-detail']//*[local-name()='g'][starts-with(@aria-label, {})]\
                 [contains(@aria-label, '✓ Succeeded')]",
                lit(&format!("{action} ("))
            ),
        )
        .await;
    }
    client
        .execute(
            "document.getElementById('run-detail').scrollIntoView(); return null;",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "flow-run").await;

    // The Faults page: the emulator's settings through the studio (which
    // holds the admin secret); a saved rule is what the emulator enforces.
    faults(&client, &tenant, &graph).await;

    // No console errors (SEVERE) in the browser's log.
    let log = client.issue_cmd(BrowserLog).await.unwrap();
    let severe: Vec<&Value> = log
        .as_array()
        .expect("the browser log is a list")
        .iter()
        .filter(|entry| entry["level"] == "SEVERE")
        .collect();
    assert!(severe.is_empty(), "console errors in the studio's page: {severe:#?}");
    client.close().await.unwrap();
}

/// The Access token tab's claims, decoded in the page, and the Code tab's
/// three versions of the request on screen (the OneNote batch).
async fn token_and_code(client: &Client) {
    // The tabs work from the keyboard too: arrow keys move the selection
    // and the focus, and the panel follows.
    let preview = button(client, "Response preview").await;
    preview.click().await.unwrap();
    preview.send_keys(&Key::Right.to_string()).await.unwrap();
    let selected = "const t = document.querySelector('[role=tab][aria-selected=true]');\
        return [t.textContent, document.activeElement === t,\
                document.getElementById(t.getAttribute('aria-controls')).hidden];";
    until(client, "ArrowRight selects Response headers", selected, |v| {
        *v == json!(["Response headers", true, false])
    })
    .await;
    button(client, "Access token").await.click().await.unwrap();
    let script = "const o = {}; document.querySelectorAll('#claims dt').forEach((dt) => \
        { o[dt.textContent] = dt.nextElementSibling ? dt.nextElementSibling.textContent : null; });\
        return o;";
    let claims =
        until(client, "the access token's claims", script, |v| v.get("scp").is_some())
            .await;
    let scp = claims["scp"].as_str().unwrap();
    assert!(scp.split(' ').any(|s| s == "User.Read"), "{claims}");
    assert!(!scp.contains("Notes."), "no Notes scope yet: {claims}");
    assert_eq!(claims["tid"], seed::TENANT_ID, "{claims}");
    assert!(
        ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"]
            .contains(&claims["aud"].as_str().unwrap()),
        "{claims}"
    );
    assert!(
        claims["exp"].as_str().unwrap().contains('T'),
        "exp shown as a date: {claims}"
    );

    button(client, "Code").await.click().await.unwrap();
    let code = client
        .execute(
            "return ['code-curl', 'code-batch', 'code-rust']\
             .map((id) => document.getElementById(id).textContent);",
            vec![],
        )
        .await
        .unwrap();
    let [curl, batch, rust] = [0, 1, 2].map(|i| code[i].as_str().unwrap().to_owned());
    assert!(
        curl.starts_with("curl -X POST '") && curl.contains("/v1.0/$batch'"),
        "{curl}"
    );
    assert!(curl.contains("\"$TOKEN\""), "the token stays a variable: {curl}");
    assert!(batch.contains("graphlab batch run job.json"), "{batch}");
    assert!(batch.contains("/groups/{group-id}/onenote/notebooks"), "{batch}");
    assert!(
        rust.contains(
            "BatchItem::new(\"1\", Method::Post, \"/groups/{group-id}/onenote/notebooks\")"
        ),
        "{rust}"
    );
}

/// Modify permissions: the identity platform's page asks for the one scope
/// not yet granted; once accepted, the token carries it.
async fn consent_to_notes(client: &Client) {
    button(client, "Modify permissions").await.click().await.unwrap();
    let scopes = labelled(client, "Scopes to add").await;
    scopes.clear().await.unwrap();
    scopes.send_keys("Notes.ReadWrite.All").await.unwrap();
    button(client, "Consent").await.click().await.unwrap();
    find(client, "//li/code[normalize-space(.)='Notes.ReadWrite.All']").await;
    find(client, &format!("//label[contains(., {})]/input", lit(seed::ADMIN_UPN)))
        .await
        .click()
        .await
        .unwrap();
    button(client, "Accept").await.click().await.unwrap();
    find(client, "//button[normalize-space(.)='Sign out' and not(@hidden)]").await;
    let granted = "return document.getElementById('granted').textContent;";
    until(client, "Notes.ReadWrite.All granted", granted, |v| {
        v.as_str().is_some_and(|s| s.split(' ').any(|s| s == "Notes.ReadWrite.All"))
    })
    .await;
}

/// "Export history as HAR": the file the page would download, caught as the
/// page makes it: HAR 1.2, one entry per line of the history, and neither
/// an Authorization header nor the access token anywhere in it.
async fn history_as_har(client: &Client) {
    // The blob is read where the page makes it: the page's CSP lets it
    // fetch nothing but its own origin, Graph and the identity platform.
    let script = "const done = arguments[arguments.length - 1];\
        let blob = null;\
        const make = URL.createObjectURL.bind(URL);\
        URL.createObjectURL = (b) => { blob = b; return make(b); };\
        const click = HTMLAnchorElement.prototype.click;\
        HTMLAnchorElement.prototype.click = function () {\
          if (!this.download || !blob) return click.call(this);\
          const name = this.download;\
          blob.text().then((text) => done({ name, text,\
            lines: document.querySelectorAll('#history li').length,\
            token: JSON.parse(sessionStorage.getItem('graphlab-studio-token')).accessToken }),\
            (e) => done({ error: String(e) }));\
        };\
        document.getElementById('export-har').click();";
    let export = client.execute_async(script, vec![]).await.unwrap();
    assert_eq!(export["name"], "graphlab-studio.har", "{export}");
    let text = export["text"].as_str().unwrap();
    let har: Value = serde_json::from_str(text).unwrap();
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len() as u64, export["lines"].as_u64().unwrap());
    assert!(entries.len() >= 5, "every query run so far: {}", entries.len());
    for entry in entries {
        assert!(
            entry["request"]["url"].as_str().unwrap().ends_with("/$batch"),
            "{entry}"
        );
        let headers = entry["request"]["headers"].as_array().unwrap();
        assert!(
            !headers.iter().any(|h| h["name"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("authorization")),
            "{entry}"
        );
    }
    assert!(
        !text.contains(export["token"].as_str().unwrap()),
        "the token is not exported"
    );
}

/// The Faults page loads the emulator's settings, saves a rule of 429s on
/// batch items that the emulator's admin route then returns, and clears it.
async fn faults(client: &Client, tenant: &Tenant, graph: &str) {
    find(client, "//nav[@aria-label='Pages']//a[normalize-space(.)='Faults']")
        .await
        .click()
        .await
        .unwrap();
    let status = "return document.getElementById('faults-status').textContent;";
    until(client, "the fault settings loaded", status, |v| {
        v.as_str().is_some_and(|s| s.starts_with("Current settings loaded"))
    })
    .await;
    let rule = json!({
        "seed": 7,
        "rules": [{"method": "POST", "path": "/teams/*/channels", "scope": "batchItem",
                   "rates": {"429": 0.3}, "retryAfterSecs": 1}]
    });
    let editor = labelled(client, "Fault settings (JSON)").await;
    editor.clear().await.unwrap();
    editor.send_keys(&serde_json::to_string_pretty(&rule).unwrap()).await.unwrap();
    button(client, "Save faults").await.click().await.unwrap();
    until(client, "the fault settings saved", status, |v| v.as_str() == Some("Saved."))
        .await;
    let chaos = || async {
        reqwest::Client::new()
            .get(format!("{graph}/_graphlab/chaos"))
            .bearer_auth(tenant.admin_secret())
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let saved = chaos().await;
    assert_eq!(saved["rules"][0]["path"], "/teams/*/channels", "{saved:#}");
    assert_eq!(saved["rules"][0]["scope"], "batchItem", "{saved:#}");
    screenshot(client, "faults").await;
    client
        .execute(
            "document.getElementById('faults-status').textContent = ''; return null;",
            vec![],
        )
        .await
        .unwrap();
    button(client, "No faults").await.click().await.unwrap();
    until(client, "the faults cleared", status, |v| v.as_str() == Some("Saved.")).await;
    let cleared = chaos().await;
    assert_eq!(cleared["rules"], json!([]), "{cleared:#}");
}

/// chromedriver's `POST /session/{id}/se/log` with `{"type": "browser"}`:
/// the console messages kept since the last call (`goog:loggingPrefs`).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

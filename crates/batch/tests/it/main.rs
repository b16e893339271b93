//! graphlab-batch against the emulator over real HTTP: batching, retries,
//! dependencies, references, and properties over random dependency graphs.
//! The client and the emulator share one virtual clock: backoffs,
//! `Retry-After` penalties and the replication delay pass without waiting.

mod shapes;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use graphlab_auth::{AuthError, BoxFuture, Secret, StaticToken, TokenProvider};
use graphlab_batch::{BatchClient, BatchItem, Config, Outcome, Version, VirtualClock};
use graphlab_tenant::{
    ChaosConfig, Now, RunningTenant, Tenant, TenantConfig, TokenSpec, seed,
};
use serde_json::json;

const SCOPES: &[&str] =
    &["User.Read", "User.ReadBasic.All", "Group.ReadWrite.All", "Mail.Read"];

struct Emulator {
    tenant: Tenant,
    running: RunningTenant,
    clock: VirtualClock,
}

/// An emulator on the clock its clients get.
async fn emulator(config: TenantConfig) -> Emulator {
    let clock = VirtualClock::new();
    let (start, shared) = (SystemTime::now(), clock.clone());
    let config = config.clock(Now::from_fn(move || start + shared.elapsed()));
    let tenant = Tenant::open(&config.reuse_key()).unwrap();
    let running = graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Emulator { tenant, running, clock }
}

fn fast() -> Config {
    Config {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(500),
        ..Config::default()
    }
}

fn client(e: &Emulator, config: Config) -> BatchClient {
    let token = e.tenant.issue_token(seed::ADMIN_UPN, SCOPES).unwrap();
    BatchClient::new(
        e.running.base_url(),
        Arc::new(StaticToken(Secret::new(token))),
        config,
    )
    .with_clock(Arc::new(e.clock.clone()))
}

fn group(id: &str, name: &str) -> BatchItem {
    BatchItem::post(
        id,
        "/groups",
        json!({"displayName": name, "mailNickname": name, "description": name,
               "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false}),
    )
}

#[tokio::test]
async fn a_thousand_independent_gets_take_exactly_fifty_batches() {
    let e = emulator(TenantConfig::in_memory()).await;
    let items: Vec<BatchItem> = (0..1000)
        .map(|i| BatchItem::get(format!("r{i}"), format!("/me?$select=id&n={i}")))
        .collect();
    let report = client(&e, fast()).run(items).await.unwrap();
    assert!(report.all_succeeded(), "{:?}", report.summary());
    assert_eq!(report.outcomes.len(), 1000);
    assert_eq!(report.outcomes[17].0, "r17", "outcomes come back in request order");
    assert_eq!(report.batch_calls, 50);
    assert_eq!(e.tenant.stats().batch_calls, 50, "counted at the emulator");
    assert_eq!(e.tenant.stats().batch_items, 1000);
}

#[tokio::test]
async fn under_429_and_503_every_item_ends_once_and_no_post_is_applied_twice() {
    let chaos = ChaosConfig::from_json(
        r#"{"seed": 3, "rules": [{"path": "*", "scope": "batchItem", "rates": {"429": 0.3, "503": 0.05}, "retryAfterSecs": 1}]}"#,
    )
    .unwrap();
    let e = emulator(TenantConfig::in_memory().chaos(chaos)).await;
    let mut items = Vec::new();
    for i in 0..1000 {
        items.push(BatchItem::get(
            format!("get{i}"),
            format!("/users/AdeleV@contoso.onmicrosoft.com?n={i}"),
        ));
        items.push(group(&format!("post{i}"), &format!("g{i}")));
    }
    let config = Config { max_attempts: 12, concurrency: 8, ..fast() };
    let report = client(&e, config).run(items).await.unwrap();
    assert_eq!(report.outcomes.len(), 2000, "none lost, none duplicated");
    let mut ids: Vec<&str> = report.outcomes.iter().map(|(id, _)| id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2000);
    let created = report
        .outcomes
        .iter()
        .filter(|(id, o)| id.starts_with("post") && o.is_success())
        .count();
    assert!(report.all_succeeded(), "{:?}", report.summary());
    let groups: Vec<_> = e
        .tenant
        .objects("groups")
        .into_iter()
        .filter(|g| g["id"] != graphlab_tenant::seed::SAMPLE_GROUP_ID)
        .collect();
    assert_eq!(groups.len(), created, "every created group exists once");
    let mut nicks: Vec<&str> =
        groups.iter().map(|g| g["mailNickname"].as_str().unwrap()).collect();
    nicks.sort();
    nicks.dedup();
    assert_eq!(nicks.len(), 1000);
    assert!(
        e.tenant.stats().faults > 400,
        "faults were injected: {}",
        e.tenant.stats().faults
    );
    let retried = report
        .outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Success(r) if r.attempts > 1))
        .count();
    assert!(retried > 400, "{retried} items needed more than one attempt");
}

#[tokio::test]
async fn the_lab_sequence_as_one_plan_with_references_and_replication_retries() {
    let e = emulator(
        TenantConfig::in_memory().replication_delay(Duration::from_millis(1500)),
    )
    .await;
    let channel = |id: &str, name: &str, after: &str| {
        BatchItem::post(
            id,
            "/teams/{{team.body.id}}/channels",
            json!({"displayName": name, "description": format!("{name}.")}),
        )
        .depends_on(after)
    };
    let items = vec![
        group("create-group", "LabTeam"),
        BatchItem::put(
            "team",
            "/groups/{{create-group.body.id}}/team",
            json!({"memberSettings": {"allowCreateUpdateChannels": true},
                   "messagingSettings": {"allowUserEditMessages": true, "allowUserDeleteMessages": true},
                   "funSettings": {"allowGiphy": true, "giphyContentRating": "strict"}}),
        )
        .retry_while(&[404], Duration::from_secs(20)),
        channel("c1", "Marketing Collateral", "team"),
        channel("c2", "Vendor Contracts", "c1"),
        channel("c3", "General Client Agreements", "c2"),
    ];
    let report = client(&e, fast()).run(items).await.unwrap();
    for (id, o) in &report.outcomes {
        assert!(o.is_success(), "{id}: {}", o.describe());
    }
    assert_eq!(report.get("team").unwrap().status(), Some(201));
    let Outcome::Success(team) = report.get("team").unwrap() else { unreachable!() };
    assert!(team.attempts > 1, "the 404 of a not-yet-replicated group was retried");
    assert!(e.clock.elapsed() >= Duration::from_millis(1500), "on the shared clock");
    for c in ["c1", "c2", "c3"] {
        assert_eq!(report.get(c).unwrap().status(), Some(201));
    }
    let group_id = team.body_json().unwrap()["id"].as_str().unwrap().to_owned();
    let names: Vec<String> = e
        .tenant
        .objects("channels")
        .iter()
        .filter(|c| c["_teamId"] == group_id.as_str())
        .map(|c| c["displayName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 4, "General and the three: {names:?}");
}

#[tokio::test]
async fn a_failing_first_item_gives_424_to_its_dependents() {
    let e = emulator(TenantConfig::in_memory()).await;
    let team = "00000000-0000-4000-8000-00000000dead";
    let post = |id: &str| {
        BatchItem::post(id, format!("/teams/{team}/channels"), json!({"displayName": id}))
    };
    let items = vec![
        post("1"),
        post("2").depends_on("1"),
        post("3").depends_on("2"),
        BatchItem::get("free", "/me"),
    ];
    let report = client(&e, fast()).run(items).await.unwrap();
    assert_eq!(report.get("1").unwrap().status(), Some(404));
    assert_eq!(report.get("2").unwrap(), &Outcome::FailedDependency { on: "1".into() });
    assert_eq!(report.get("3").unwrap(), &Outcome::FailedDependency { on: "2".into() });
    assert!(report.get("free").unwrap().is_success());
    assert_eq!(report.batch_calls, 2, "the chain in one batch, the free item in another");
}

#[tokio::test]
async fn a_missing_reference_value_is_a_clear_per_item_error() {
    let e = emulator(TenantConfig::in_memory()).await;
    let items = vec![
        BatchItem::get("me", "/me"),
        BatchItem::get("boss", "/users/{{me.body.managerId}}"),
        BatchItem::get("after", "/me").depends_on("boss"),
    ];
    let report = client(&e, fast()).run(items).await.unwrap();
    let Outcome::NotSent { reason } = report.get("boss").unwrap() else {
        panic!("{:?}", report.get("boss"))
    };
    assert!(reason.contains("{{me.body.managerId}}"), "{reason}");
    assert_eq!(
        report.get("after").unwrap(),
        &Outcome::FailedDependency { on: "boss".into() }
    );
}

#[tokio::test]
async fn invalid_jobs_are_refused_before_anything_is_sent() {
    let e = emulator(TenantConfig::in_memory()).await;
    let items = vec![BatchItem::get("a", "/me"), BatchItem::get("A", "/me")];
    let err = client(&e, fast()).run(items).await.unwrap_err();
    assert!(err.to_string().contains("'A'"), "{err}");
    let err = client(&e, fast())
        .run(vec![BatchItem::get("x", "/me").depends_on("nobody")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nobody"), "{err}");
    let items = vec![BatchItem::get("abs", format!("{}/v1.0/me", e.running.base_url()))];
    let report = client(&e, fast()).run(items).await.unwrap();
    assert!(
        report.all_succeeded(),
        "an absolute URL of the same version is made relative"
    );
    assert_eq!(e.tenant.stats().batch_calls, 1);
}

/// Hands out an expired token first, a good one after a forced refresh.
struct Rotating {
    tenant: Tenant,
    refreshed: AtomicUsize,
}

impl TokenProvider for Rotating {
    fn access_token(
        &self,
        force_refresh: bool,
    ) -> BoxFuture<'_, Result<Secret, AuthError>> {
        Box::pin(async move {
            let mut spec = TokenSpec::delegated(seed::ADMIN_UPN, SCOPES);
            if force_refresh {
                self.refreshed.fetch_add(1, Ordering::SeqCst);
            } else {
                spec.expired = Some(Duration::from_secs(600));
            }
            Ok(Secret::new(self.tenant.issue_token_with(&spec).unwrap()))
        })
    }
}

#[tokio::test]
async fn a_401_re_acquires_the_token_once() {
    let e = emulator(TenantConfig::in_memory()).await;
    let tokens =
        Arc::new(Rotating { tenant: e.tenant.clone(), refreshed: AtomicUsize::new(0) });
    let client = BatchClient::new(e.running.base_url(), tokens.clone(), fast())
        .with_clock(Arc::new(e.clock.clone()));
    let report = client.run(vec![BatchItem::get("me", "/me")]).await.unwrap();
    assert!(report.all_succeeded(), "{:?}", report.get("me"));
    assert_eq!(tokens.refreshed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn whole_batch_failures_are_retried_and_beta_is_honoured() {
    let chaos = ChaosConfig::from_json(r#"{"seed": 5, "rules": [{"path": "/$batch", "scope": "direct", "rates": {"503": 0.5, "429": 0.2}}]}"#).unwrap();
    let e = emulator(TenantConfig::in_memory().chaos(chaos)).await;
    let items: Vec<BatchItem> =
        (0..60).map(|i| BatchItem::get(format!("b{i}"), "/me")).collect();
    let config = Config { version: Version::Beta, max_attempts: 15, ..fast() };
    let report = client(&e, config).run(items).await.unwrap();
    assert!(report.all_succeeded(), "{:?}", report.summary());
    let Outcome::Success(r) = report.get("b0").unwrap() else { unreachable!() };
    assert!(
        r.body_json().unwrap()["@odata.context"].as_str().unwrap().contains("/beta/")
    );
    assert!(
        report.batch_calls > 3,
        "some batches were sent again: {}",
        report.batch_calls
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn graph() -> impl Strategy<Value = Vec<Vec<usize>>> {
        (1usize..70).prop_flat_map(|n| {
            proptest::collection::vec(
                proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
                n,
            )
            .prop_map(|raw| {
                raw.iter()
                    .enumerate()
                    .map(|(i, p)| {
                        if i == 0 {
                            return vec![];
                        }
                        let mut d: Vec<usize> = p.iter().map(|x| x.index(i)).collect();
                        d.sort();
                        d.dedup();
                        d
                    })
                    .collect()
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn random_graphs_every_batch_is_accepted_and_every_item_ends_once(deps in graph(), max in 1usize..=20) {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let e = emulator(TenantConfig::in_memory()).await;
                let items: Vec<BatchItem> = deps
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let mut item = BatchItem::get(format!("i{i}"), format!("/me?n={i}"));
                        item.depends_on = d.iter().map(|j| format!("i{j}")).collect();
                        item
                    })
                    .collect();
                let config = Config { max_per_batch: max, ..fast() };
                let report = client(&e, config).run(items).await.unwrap();
                assert_eq!(report.outcomes.len(), deps.len());
                for (id, o) in &report.outcomes {
                    // The emulator refuses, with 400, any batch Graph would refuse.
                    assert!(o.is_success(), "{id}: {}", o.describe());
                }
                assert_eq!(e.tenant.stats().batch_items as usize, deps.len(), "each item sent once");
            });
        }
    }
}

#[tokio::test]
async fn paged_batch_answers_are_followed_to_the_last_page() {
    let paged = ChaosConfig::from_json(r#"{"batchPageSize": 3}"#).unwrap();
    let e = emulator(TenantConfig::in_memory().chaos(paged)).await;
    let items: Vec<BatchItem> =
        (0..50).map(|i| BatchItem::get(format!("me{i}"), "/me?$select=id")).collect();
    let report = client(&e, fast()).run(items).await.unwrap();
    assert_eq!(report.outcomes.len(), 50);
    assert!(report.all_succeeded(), "{:?}", report.summary());
    assert_eq!(report.batch_calls, 3, "20 + 20 + 10 items");
    let stats = e.tenant.stats();
    assert_eq!(stats.batch_calls, 3);
    // Pages of 3: 20 answers are 7 pages (6 next links), 10 are 4 (3 links).
    assert_eq!(stats.requests, 3 + 6 + 6 + 3, "every next link was followed once");
}

#[tokio::test]
async fn a_lost_page_never_sends_a_post_twice() {
    // The pages of the answer cannot be fetched (every GET of $batch fails),
    // so the items on them were run by Graph but their answers are lost.
    let chaos = ChaosConfig::from_json(
        r#"{"batchPageSize": 2, "rules": [{"method": "GET", "path": "/$batch", "scope": "direct", "rates": {"503": 1.0}}]}"#,
    )
    .unwrap();
    let e = emulator(TenantConfig::in_memory().chaos(chaos)).await;
    let mut items: Vec<BatchItem> = (0..3)
        .map(|i| {
            let nick = format!("lost{i}");
            let body = json!({"displayName": nick, "mailNickname": nick,
                "mailEnabled": false, "securityEnabled": true});
            BatchItem::post(format!("post{i}"), "/groups", body)
        })
        .collect();
    items.extend((0..3).map(|i| BatchItem::get(format!("get{i}"), "/me?$select=id")));
    let report = client(&e, fast()).run(items).await.unwrap();
    assert_eq!(report.outcomes.len(), 6);
    let created = e
        .tenant
        .objects("groups")
        .into_iter()
        .filter(|g| g["mailNickname"].as_str().is_some_and(|n| n.starts_with("lost")))
        .count();
    assert_eq!(created, 3, "each POST applied exactly once");
    let gave_up =
        report.outcomes.iter().filter(|(_, o)| matches!(o, Outcome::GaveUp { .. }));
    assert!(gave_up.count() >= 1, "a POST whose answer was lost is reported, not resent");
    let gets = report.outcomes.iter().filter(|(id, _)| id.starts_with("get"));
    assert!(gets.clone().all(|(_, o)| o.is_success()), "GETs are simply sent again");
    for (id, outcome) in &report.outcomes {
        if id.starts_with("post") && !outcome.is_success() {
            assert!(
                matches!(outcome, Outcome::GaveUp { last, .. } if last.contains("not sent again")),
                "{id}: {outcome:?}"
            );
        }
    }
}

/// Regression: `Report::get` compared ids ASCII-only while `plan::check`
/// compares them without regard to case, so `get("ä1")` did not find the
/// item `Ä1` that `check` had accepted (and refused beside `ä1`).
#[tokio::test]
async fn a_non_ascii_id_round_trips_through_report_get() {
    let e = emulator(TenantConfig::in_memory()).await;
    let items = vec![
        BatchItem::get("Ä1", "/me?$select=id"),
        BatchItem::get("Émile", "/me?$select=id,displayName"),
        BatchItem::get("after", "/users/{{ÉMILE.body.id}}").depends_on("ä1"),
    ];
    let report = client(&e, fast()).run(items).await.unwrap();
    assert!(report.all_succeeded(), "{:?}", report.summary());
    for id in ["Ä1", "ä1", "émile", "ÉMILE", "AFTER"] {
        assert!(report.get(id).is_some_and(Outcome::is_success), "{id}");
    }
    assert!(report.get("a1").is_none());
    let twins = vec![BatchItem::get("Ä1", "/me"), BatchItem::get("ä1", "/me")];
    let err = client(&e, fast()).run(twins).await.unwrap_err().to_string();
    assert!(err.contains("without regard to case"), "{err}");
}

//! `$batch`: the lab's batches, dependencies, limits, and completion order.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::{Harness, by_id};
use graphlab_tenant::{ChaosConfig, FaultRule, TenantConfig};

#[tokio::test]
async fn lab_step5_three_parallel_gets() {
    let h = Harness::start().await;
    let answer = h
        .batch(json!({"requests": [
            {"id": "1", "method": "GET", "url": "/me?$select=displayName,jobTitle,userPrincipalName"},
            {"id": "2", "method": "GET", "url": "/me/messages?$filter=importance eq 'high'&$select=from,subject,receivedDateTime,bodyPreview"},
            {"id": "3", "method": "GET", "url": "/me/events"},
        ]}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let responses = by_id(&answer);
    assert_eq!(responses.len(), 3);
    for id in ["1", "2", "3"] {
        assert_eq!(responses[id]["status"], 200, "{id}: {}", responses[id]);
        assert_eq!(
            responses[id]["headers"]["Content-Type"].as_str().unwrap().split(';').next(),
            Some("application/json")
        );
    }
    assert_eq!(responses["1"]["body"]["jobTitle"], "IT Administrator");
    let high = responses["2"]["body"]["value"].as_array().unwrap();
    assert_eq!(high.len(), 3);
    assert!(
        high.iter().all(|m| m.get("importance").is_none() && m["subject"].is_string())
    );
    assert_eq!(responses["3"]["body"]["value"].as_array().unwrap().len(), 3);
    assert_eq!(h.tenant.stats().batch_items, 3);
}

#[tokio::test]
async fn numeric_ids_and_v1_vs_beta() {
    let h = Harness::start().await;
    let payload = r#"{"requests":[{"id":1,"url":"/me","method":"GET"}]}"#;
    let v1 = h.batch_raw("v1.0", payload).await;
    let beta = h.batch_raw("beta", payload).await;
    let (v1, beta) = (&by_id(&v1)["1"], &by_id(&beta)["1"]);
    assert_eq!(v1["status"], 200);
    assert_eq!(beta["status"], 200);
    let count = |v: &serde_json::Value| v["body"].as_object().unwrap().len();
    assert!(count(beta) > count(v1) + 10, "beta {} vs v1 {}", count(beta), count(v1));
}

#[tokio::test]
async fn onenote_item_fails_alone_with_403_40004() {
    let h = Harness::start().await;
    let group = h.create_group("Meetings").await;
    let answer = h
        .batch(json!({"requests": [
            {"id": "1", "method": "GET", "url": "/me"},
            {"id": "2", "method": "POST", "url": format!("/groups/{group}/onenote/notebooks"),
             "headers": {"Content-Type": "application/json"}, "body": {"displayName": "Meeting Notes"}},
        ]}))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let responses = by_id(&answer);
    assert_eq!(responses["1"]["status"], 200);
    let notes = &responses["2"];
    assert_eq!(notes["status"], 403);
    assert_eq!(notes["headers"]["Cache-Control"], "no-cache");
    assert_eq!(notes["body"]["error"]["code"], "40004");
    assert!(notes["body"]["error"]["innerError"]["request-id"].is_string());
    assert!(notes["body"]["error"]["innerError"]["date"].is_string());
}

async fn team(h: &Harness, name: &str) -> String {
    let group = h.create_group(name).await;
    assert_eq!(h.create_team(&group).await.status, StatusCode::CREATED);
    group
}

fn channel(id: &str, team: &str, name: &str, depends: Option<&str>) -> serde_json::Value {
    let mut item = json!({
        "id": id, "method": "POST", "url": format!("/teams/{team}/channels"),
        "headers": {"Content-Type": "application/json"},
        "body": {"displayName": name, "description": format!("{name} documents.")},
    });
    if let Some(d) = depends {
        item["dependsOn"] = json!([d]);
    }
    item
}

#[tokio::test]
async fn lab_step7_three_channels_in_a_serial_chain() {
    let h = Harness::start().await;
    let team = team(&h, "Contracts").await;
    let answer = h
        .batch(json!({"requests": [
            channel("1", &team, "Marketing Collateral", None),
            channel("2", &team, "Vendor Contracts", Some("1")),
            channel("3", &team, "General Client Agreements", Some("2")),
        ]}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let order: Vec<_> = answer.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(
        order,
        vec![json!("1"), json!("2"), json!("3")],
        "a serial chain completes in order"
    );
    for r in answer.body["responses"].as_array().unwrap() {
        assert_eq!(r["status"], 201, "{r}");
    }
    let names: Vec<String> = h
        .tenant
        .objects("channels")
        .iter()
        .filter(|c| c["_teamId"] == team.as_str())
        .map(|c| c["displayName"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "General",
        "Marketing Collateral",
        "Vendor Contracts",
        "General Client Agreements",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
}

#[tokio::test]
async fn a_failing_first_item_gives_424_to_its_dependents() {
    let h = Harness::start().await;
    let missing = "00000000-0000-4000-8000-00000000dead";
    let answer = h
        .batch(json!({"requests": [
            channel("1", missing, "A", None),
            channel("2", missing, "B", Some("1")),
            channel("3", missing, "C", Some("2")),
        ]}))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let responses = by_id(&answer);
    assert_eq!(responses["1"]["status"], 404);
    assert_eq!(responses["2"]["status"], 424);
    assert_eq!(responses["3"]["status"], 424);
    assert_eq!(responses["2"]["body"]["error"]["code"], "FailedDependency");
    assert_eq!(h.tenant.stats().batch_items, 1, "dependents are not run");

    // "Same" shape: both dependents of a failed root get 424.
    let same = h
        .batch(json!({"requests": [
            channel("a", missing, "A", None),
            channel("b", missing, "B", Some("a")),
            channel("c", missing, "C", Some("a")),
        ]}))
        .await;
    let responses = by_id(&same);
    assert_eq!(responses["b"]["status"], 424);
    assert_eq!(responses["c"]["status"], 424);
}

#[tokio::test]
async fn team_and_channels_in_one_batch() {
    let h = Harness::start().await;
    let group = h.create_group("OneShot").await;
    // Probe until replication is done, moving the emulator's clock.
    for attempt in 0.. {
        let answer = h
            .batch(json!({"requests": [
                {"id": "team", "method": "PUT", "url": format!("/groups/{group}/team"),
                 "headers": {"Content-Type": "application/json"},
                 "body": {"memberSettings": {"allowCreateUpdateChannels": true},
                          "messagingSettings": {"allowUserEditMessages": true, "allowUserDeleteMessages": true},
                          "funSettings": {"allowGiphy": true, "giphyContentRating": "strict"}}},
                channel("c1", &group, "Marketing Collateral", Some("team")),
                channel("c2", &group, "Vendor Contracts", Some("c1")),
                channel("c3", &group, "General Client Agreements", Some("c2")),
            ]}))
            .await;
        let responses = by_id(&answer);
        if responses["team"]["status"] == 404 && attempt < 20 {
            assert_eq!(responses["c1"]["status"], 424);
            h.clock.advance(Duration::from_millis(500));
            continue;
        }
        assert_eq!(responses["team"]["status"], 201, "{:?}", answer.body);
        assert_eq!(
            responses["team"]["body"]["funSettings"]["giphyContentRating"],
            "strict"
        );
        for c in ["c1", "c2", "c3"] {
            assert_eq!(responses[c]["status"], 201, "{c}: {}", responses[c]);
        }
        break;
    }
}

#[tokio::test]
async fn independent_items_run_concurrently_and_answer_in_completion_order() {
    let h = Harness::with(TenantConfig::in_memory().chaos(ChaosConfig {
        seed: 1,
        rules: vec![FaultRule {
            method: Some("GET".into()),
            path: "/me/events".into(),
            scope: graphlab_tenant::chaos::Scope::BatchItem,
            rates: Default::default(),
            retry_after_secs: 1,
            latency_ms: 400,
        }],
        ..ChaosConfig::default()
    }))
    .await;
    let mut requests = vec![];
    for i in 0..5 {
        requests.push(
            json!({"id": format!("slow{i}"), "method": "GET", "url": "/me/events"}),
        );
    }
    requests.push(json!({"id": "fast", "method": "GET", "url": "/me"}));
    let answer = h.batch(json!({"requests": requests})).await;
    let order: Vec<_> = answer.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        order[0], "fast",
        "the fast item, listed last, completes first: {order:?}"
    );
}

#[tokio::test]
async fn items_go_through_permissions_and_relative_urls_are_accepted_without_slash() {
    let h = Harness::start().await;
    let answer = h
        .batch(json!({"requests": [
            {"id": "1", "method": "GET", "url": "users?$select=id,displayName&$top=2"},
            {"id": "2", "method": "GET", "url": "/servicePrincipals"},
            {"id": "3", "method": "GET", "url": "/nowhere"},
            {"id": "4", "method": "DELETE", "url": "/me"},
        ]}))
        .await;
    let responses = by_id(&answer);
    assert_eq!(responses["1"]["status"], 200);
    assert!(
        responses["1"]["body"]["@odata.nextLink"]
            .as_str()
            .unwrap()
            .contains("/v1.0/users?")
    );
    assert_eq!(
        responses["2"]["status"], 200,
        "Application.ReadWrite.All reads service principals"
    );
    assert_eq!(responses["3"]["status"], 400);
    assert_eq!(responses["4"]["status"], 405);

    let weak =
        h.tenant.issue_token(graphlab_tenant::seed::ADMIN_UPN, &["User.Read"]).unwrap();
    let response = h
        .http
        .post(h.url("/v1.0/$batch"))
        .bearer_auth(&weak)
        .json(&json!({"requests": [{"id": "1", "method": "GET", "url": "/groups"}]}))
        .send()
        .await
        .unwrap();
    let answer = crate::read(response).await;
    assert_eq!(by_id(&answer)["1"]["status"], 403);

    let anonymous = h
        .http
        .post(h.url("/v1.0/$batch"))
        .json(&json!({"requests": [{"id": "1", "method": "GET", "url": "/me"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn binary_bodies_travel_base64() {
    let h = Harness::start().await;
    // A JSON group body sent as text/plain base64 is decoded before routing.
    use base64::Engine;
    let body = json!({"displayName": "B64", "mailNickname": "b64", "groupTypes": ["Unified"],
        "mailEnabled": true, "securityEnabled": false});
    let encoded = base64::engine::general_purpose::STANDARD.encode(body.to_string());
    let answer = h
        .batch(json!({"requests": [{"id": "1", "method": "POST", "url": "/groups",
            "headers": {"Content-Type": "text/plain"}, "body": encoded}]}))
        .await;
    assert_eq!(by_id(&answer)["1"]["status"], 201, "{:?}", answer.body);
}

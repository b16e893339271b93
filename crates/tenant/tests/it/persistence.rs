//! State on disk: survives a restart; no lost writes under concurrency.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;

use crate::Harness;
use graphlab_tenant::TenantConfig;

#[tokio::test]
async fn state_and_signing_key_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (group, token) = {
        let h = Harness::with(TenantConfig::persistent(&state)).await;
        let group = h.create_group("Durable").await;
        let token = h.token.clone();
        h.running.shutdown().await;
        (group, token)
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            std::fs::metadata(state.join("tenant.db")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the database holds the signing key");
        let mode = std::fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let h = Harness::with(TenantConfig::persistent(&state)).await;
    let answer = h
        .call(reqwest::Method::GET, &format!("/v1.0/groups/{group}"), Some(&token), None)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "a token from before the restart is still valid"
    );
    assert_eq!(answer.body["displayName"], "Durable");
    assert_eq!(h.tenant.objects("users").len(), 6, "seeded once, not twice");
}

#[tokio::test]
async fn concurrent_writes_are_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let h = Arc::new(Harness::with(TenantConfig::persistent(dir.path())).await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"displayName": format!("G{i}"), "mailNickname": format!("g{i}"),
                "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false});
            h.post("/v1.0/groups", body).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    // Racing creates with one nickname: exactly one wins.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"displayName": "Same", "mailNickname": "same",
                "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false});
            h.post("/v1.0/groups", body).await.status
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::CREATED {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let reopened =
        graphlab_tenant::Tenant::open(&TenantConfig::persistent(dir.path())).unwrap();
    assert_eq!(
        reopened.objects("groups").len(),
        41 + 1,
        "every acknowledged write is on disk (and the seeded group)"
    );
}

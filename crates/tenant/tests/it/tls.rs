//! HTTPS: a self-signed certificate for localhost, kept in the state
//! directory, that clients can trust; URLs in bodies become https.

use reqwest::StatusCode;
use serde_json::Value;

use graphlab_tenant::{Tenant, TenantConfig, seed};

#[tokio::test]
async fn serves_https_with_a_certificate_clients_can_trust() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = Tenant::open(&TenantConfig::persistent(dir.path())).unwrap();
    let (running, files) = graphlab_tenant::serve_tls(
        tenant.clone(),
        "127.0.0.1:0".parse().unwrap(),
        dir.path(),
    )
    .await
    .unwrap();
    assert!(running.base_url().starts_with("https://localhost:"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&files.key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let pem = std::fs::read(&files.cert).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let discovery: Value = http
        .get(format!(
            "{}/common/v2.0/.well-known/openid-configuration",
            running.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        discovery["token_endpoint"].as_str().unwrap().starts_with("https://localhost:"),
        "{discovery}"
    );
    let token = tenant.issue_token(seed::ADMIN_UPN, &["User.Read"]).unwrap();
    let me = http
        .get(format!("{}/v1.0/me", running.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let body: Value = me.json().await.unwrap();
    assert!(body["@odata.context"].as_str().unwrap().starts_with("https://"));

    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting.get(format!("{}/v1.0/me", running.base_url())).send().await.is_err()
    );

    // The certificate is kept: a restart serves the same one.
    running.shutdown().await;
    let again = graphlab_tenant::ensure_certificate(dir.path()).unwrap();
    assert_eq!(std::fs::read(&again.cert).unwrap(), pem);
}

/// A classroom server's certificate: valid for the names trainees use
/// (checked over loopback, the name resolved to 127.0.0.1 by the client),
/// kept while the names stay, made anew when they change.
#[tokio::test]
async fn a_classroom_certificate_is_valid_for_the_names_given() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = Tenant::open(&TenantConfig::in_memory().reuse_key()).unwrap();
    let names = vec!["Graphlab.Example".to_owned(), "192.0.2.7".to_owned()];
    let (running, files) = graphlab_tenant::serve_tls_for(
        tenant.clone(),
        "127.0.0.1:0".parse().unwrap(),
        dir.path(),
        &names,
    )
    .await
    .unwrap();
    assert!(
        running.base_url().starts_with("https://graphlab.example:"),
        "{}",
        running.base_url()
    );
    let pem = std::fs::read(&files.cert).unwrap();
    let client = |pem: &[u8]| {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(pem).unwrap())
            .resolve("graphlab.example", running.local_addr())
            .build()
            .unwrap()
    };
    let health = client(&pem)
        .get(format!("{}/_graphlab/health", running.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // The same names keep the certificate; other names make a new one, and
    // a certificate for loopback only does not pass for the classroom name.
    let kept = graphlab_tenant::ensure_certificate_for(dir.path(), &names).unwrap();
    assert_eq!(std::fs::read(&kept.cert).unwrap(), pem);
    let local = graphlab_tenant::ensure_certificate(dir.path()).unwrap();
    let local_pem = std::fs::read(&local.cert).unwrap();
    assert_ne!(local_pem, pem);
    let refused = client(&local_pem)
        .get(format!("{}/_graphlab/health", running.base_url()))
        .send()
        .await;
    // The server still presents the classroom certificate, which the
    // loopback-only one does not vouch for.
    assert!(refused.is_err());
    assert!(
        graphlab_tenant::ensure_certificate_for(dir.path(), &["not a name".into()])
            .is_err()
    );
    running.shutdown().await;
}

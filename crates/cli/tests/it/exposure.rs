//! Exposure: `tenant serve` beyond loopback only when asked, over TLS and
//! without unattended sign-in; the admin routes need the secret the
//! emulator writes into its state directory.

use std::process::Output;

use crate::{graphlab, serve};

fn refused(args: &[&str]) -> String {
    let out: Output = graphlab()
        .args(["tenant", "serve", "--in-memory"])
        .args(args)
        .output()
        .expect("graphlab runs");
    assert!(!out.status.success(), "graphlab tenant serve {args:?} started");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.stdout.is_empty(), "announced a URL: {:?}", out.stdout);
    stderr
}

#[test]
fn a_non_loopback_address_needs_allow_remote() {
    let err = refused(&["--addr", "0.0.0.0:0"]);
    assert!(err.contains("not a loopback address"), "{err}");
    assert!(err.contains("--allow-remote --tls"), "{err}");
}

#[test]
fn allow_remote_needs_tls() {
    let err = refused(&["--addr", "0.0.0.0:0", "--allow-remote"]);
    assert!(err.contains("without --tls"), "{err}");
    assert!(err.contains("clear text"), "{err}");
}

#[test]
fn allow_remote_refuses_unattended() {
    let err = refused(&["--addr", "[::]:0", "--allow-remote", "--tls", "--unattended"]);
    assert!(err.contains("refusing --unattended"), "{err}");
    assert!(err.contains("without a credential"), "{err}");
}

#[test]
fn admin_routes_need_the_secret_from_the_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tenant");
    let (mut child, url) = serve(&state, &[]);
    let file = state.join("admin-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
    let secret = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(secret.len() >= 32);

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let health = http.get(format!("{url}/_graphlab/health")).send().await.unwrap();
        assert_eq!(health.status(), 200, "health stays open");
        for (method, path) in [
            ("GET", "/_graphlab/stats"),
            ("DELETE", "/_graphlab/stats"),
            ("GET", "/_graphlab/chaos"),
            ("PUT", "/_graphlab/chaos"),
            ("DELETE", "/_graphlab/chaos"),
            ("GET", "/_graphlab/keys"),
        ] {
            let method: reqwest::Method = method.parse().unwrap();
            let target = format!("{url}{path}");
            for auth in [None, Some("wrong"), Some(&secret[..secret.len() - 1])] {
                let mut request = http.request(method.clone(), &target).body("{}");
                if let Some(auth) = auth {
                    request = request.bearer_auth(auth);
                }
                let answer = request.send().await.unwrap();
                assert_eq!(answer.status(), 401, "{method} {path} with {auth:?}");
                let body: serde_json::Value = answer.json().await.unwrap();
                assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
                assert!(
                    body["error"]["message"].as_str().unwrap().contains("admin-secret"),
                    "{body}"
                );
            }
            let answer = http
                .request(method.clone(), &target)
                .bearer_auth(&secret)
                .body("{}")
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success(), "{method} {path}: {}", answer.status());
        }
    });

    // A second process opening the same state keeps the secret.
    crate::token(&state, &["User.Read"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), secret);
    child.kill().unwrap();
    child.wait().unwrap();
}

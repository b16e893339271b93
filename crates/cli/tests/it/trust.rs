//! Trust: `graphlab login` and `graphlab batch run` against `graphlab
//! tenant serve --tls`, with the emulator's certificate trusted through
//! `SSL_CERT_FILE`, `--ca-cert`, or automatically from the lab directory;
//! and refused, with a message that says how to trust it, otherwise.

use std::{path::Path, process::Output};

use crate::{graphlab, serve, token};

struct Tls {
    _dir: tempfile::TempDir,
    child: std::process::Child,
    url: String,
    /// The lab directory the emulator was started from.
    lab: std::path::PathBuf,
    cert: std::path::PathBuf,
    token: String,
    items: std::path::PathBuf,
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Tls {
    let dir = tempfile::tempdir().unwrap();
    let lab = dir.path().join("lab");
    let state = lab.join("tenant");
    let (child, url) =
        serve(&state, &["--tls", "--unattended", "--device-poll-interval", "0"]);
    assert!(url.starts_with("https://localhost:"), "{url}");
    let token = token(&state, &["User.Read", "Mail.Read"]);
    let items = dir.path().join("items.json");
    std::fs::write(
        &items,
        r#"{"requests":[{"id":"1","method":"GET","url":"/me"},{"id":"2","method":"GET","url":"/me/messages?$top=1"}]}"#,
    )
    .unwrap();
    let cert = state.join("tls-cert.pem");
    assert!(cert.is_file());
    Tls { _dir: dir, child, url, lab, cert, token, items }
}

/// `graphlab` with only the trust settings the test gives.
fn run(tls: &Tls, lab: &Path, env: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut cmd = graphlab();
    cmd.env_remove("GRAPHLAB_CA_CERT")
        .env_remove("SSL_CERT_DIR")
        .env("SSL_CERT_FILE", "/nonexistent/graphlab-test-no-roots.pem")
        .env("GRAPHLAB_ACCESS_TOKEN", &tls.token)
        .args(["--tenant-url", &tls.url, "--lab-dir"])
        .arg(lab);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn login_and_batch(tls: &Tls, lab: &Path, env: &[(&str, &Path)], extra: &[&str]) {
    let mut login = extra.to_vec();
    login.extend(["login", "--device-code", "--scopes", "User.Read"]);
    ok(&run(tls, lab, env, &login));
    let mut batch = extra.to_vec();
    batch.extend(["batch", "run", tls.items.to_str().unwrap()]);
    let err = ok(&run(tls, lab, env, &batch));
    assert!(err.contains("2 items in 1 $batch calls"), "{err}");
}

#[test]
fn the_lab_emulators_certificate_is_trusted_automatically() {
    let tls = start();
    login_and_batch(&tls, &tls.lab, &[], &[]);
}

#[test]
fn a_certificate_given_with_ca_cert_or_graphlab_ca_cert_is_trusted() {
    let tls = start();
    let elsewhere = tls.lab.parent().unwrap().join("other-lab");
    login_and_batch(&tls, &elsewhere, &[], &["--ca-cert", tls.cert.to_str().unwrap()]);
    let third = tls.lab.parent().unwrap().join("third-lab");
    login_and_batch(&tls, &third, &[("GRAPHLAB_CA_CERT", &tls.cert)], &[]);
}

#[test]
fn a_certificate_in_ssl_cert_file_is_trusted() {
    let tls = start();
    let elsewhere = tls.lab.parent().unwrap().join("other-lab");
    login_and_batch(&tls, &elsewhere, &[("SSL_CERT_FILE", &tls.cert)], &[]);
}

#[test]
fn an_untrusted_certificate_is_refused_with_how_to_trust_it() {
    let tls = start();
    let elsewhere = tls.lab.parent().unwrap().join("other-lab");
    for args in [
        vec!["login", "--device-code", "--scopes", "User.Read"],
        vec!["batch", "run", tls.items.to_str().unwrap()],
        vec!["graph", "GET", "/v1.0/me"],
    ] {
        let out = run(&tls, &elsewhere, &[], &args);
        // `batch run` prints each item's outcome on stdout.
        let err = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{args:?} succeeded: {err}");
        assert!(err.contains("TLS certificate is not trusted"), "{args:?}: {err}");
        assert!(
            err.contains("--ca-cert FILE") && err.contains("GRAPHLAB_CA_CERT"),
            "{err}"
        );
        assert!(err.contains("tls-cert.pem"), "{err}");
    }
    // A refused certificate is not retried with backoff: one attempt.
    let out = run(&tls, &elsewhere, &[], &["batch", "run", tls.items.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("gave up") && table.contains("after 1 attempt:"), "{table}");
    // An unreadable --ca-cert is an error that names the file.
    let missing = tls.lab.join("missing.pem");
    let out =
        run(&tls, &elsewhere, &[], &["--ca-cert", missing.to_str().unwrap(), "whoami"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pem"));
}

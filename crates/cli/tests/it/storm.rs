//! A storm of hostile input against the real `graphlab tenant serve`:
//! mutated payloads, random bytes, deep nesting, forged tokens and raw
//! garbage on the socket. No answer is a 5xx, no request hangs, and the
//! process is alive and answering at the end. Deterministic (a fixed seed)
//! and bounded in count and time.

use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use graphlab_tenant::{Tenant, TenantConfig, TokenSpec, seed};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SEED: u64 = 0x5eed_0014;
/// Mutated payloads per seed payload.
const MUTANTS: usize = 600;
const RANDOM_BODIES: usize = 600;
const RAW_CONNECTIONS: usize = 300;
/// The whole storm must end within this.
const BUDGET: Duration = Duration::from_secs(240);

/// One request of the storm.
#[derive(Debug, Clone)]
struct Case {
    what: &'static str,
    method: reqwest::Method,
    path: String,
    content_type: Option<&'static str>,
    token: Option<String>,
    body: Vec<u8>,
    /// The exact status expected, when there is one (forged tokens: 401).
    expect: Option<u16>,
}

impl Case {
    fn new(what: &'static str, method: &str, path: impl Into<String>) -> Case {
        Case {
            what,
            method: method.parse().unwrap(),
            path: path.into(),
            content_type: None,
            token: None,
            body: Vec::new(),
            expect: None,
        }
    }
}

const SPECIALS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"%",
    b"%zz",
    b"'",
    b"(",
    b")",
    b"1e999999",
    b"-0",
    b"null",
    b"&",
    b"=",
    b"\0",
    b"\xff",
    b"{{a.body.x}}",
    b"$batch",
    b"//",
    b"..",
    b"\r\n",
];

/// Mutates `input` with 1 to 4 random operations.
fn mutate(rng: &mut fastrand::Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.usize(1..=4) {
        let at = rng.usize(0..=out.len());
        match rng.u8(0..6) {
            0 if !out.is_empty() => {
                let i = rng.usize(0..out.len());
                out[i] ^= 1 << rng.u8(0..8);
            }
            1 => {
                let s = SPECIALS[rng.usize(0..SPECIALS.len())];
                out.splice(at..at, s.iter().copied());
            }
            2 if at < out.len() => {
                let end = (at + rng.usize(1..16)).min(out.len());
                out.drain(at..end);
            }
            3 if at < out.len() => {
                let end = (at + rng.usize(1..32)).min(out.len());
                let piece = out[at..end].to_vec();
                out.splice(
                    at..at,
                    piece.iter().copied().cycle().take(piece.len() * rng.usize(1..8)),
                );
            }
            4 => out.truncate(at),
            _ => out.insert(at, rng.u8(..)),
        }
    }
    out
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > 64 { Sha256::digest(key).to_vec() } else { key.to_vec() };
    k.resize(64, 0);
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens an attacker would try; each must get 401.
fn forged_tokens(tenant: &Tenant, good: &str) -> Vec<(&'static str, String)> {
    let parts: Vec<&str> = good.split('.').collect();
    let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let kid = tenant.signing_key().kid().to_owned();
    let jwk = tenant.signing_key().jwk();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let hs256 = |key: &[u8]| {
        let head =
            b64(format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#).as_bytes());
        let body = b64(claims.as_bytes());
        let signature = hmac_sha256(key, format!("{head}.{body}").as_bytes());
        format!("{head}.{body}.{}", b64(&signature))
    };
    let none = |alg: &str| {
        let head =
            b64(format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}"}}"#).as_bytes());
        format!("{head}.{}.", b64(claims.as_bytes()))
    };
    let spec = |f: &dyn Fn(&mut TokenSpec)| {
        let mut spec = TokenSpec::delegated(seed::ADMIN_UPN, &["User.Read"]);
        f(&mut spec);
        tenant.issue_token_with(&spec).unwrap()
    };
    let tampered = {
        let evil = claims.replace("User.Read", "Directory.ReadWrite.All");
        format!("{}.{}.{}", parts[0], b64(evil.as_bytes()), parts[2])
    };
    vec![
        ("alg none", none("none")),
        ("alg None", none("None")),
        ("alg nOnE with signature", format!("{}{}", none("nOnE"), parts[2])),
        ("HS256 with the public key's modulus", hs256(&n)),
        ("HS256 with the JWK text", hs256(jwk.to_string().as_bytes())),
        ("HS256 with the n string", hs256(jwk["n"].as_str().unwrap().as_bytes())),
        ("expired", spec(&|s| s.expired = Some(Duration::from_secs(7200)))),
        ("wrong audience", spec(&|s| s.audience = "https://outlook.office.com".into())),
        ("audience of another app", spec(&|s| s.audience = uuid_like())),
        ("truncated signature", good[..good.len() - 10].to_owned()),
        (
            "signature of another token",
            format!("{}.{}.{}", parts[0], parts[1], &b64(&[7; 256])),
        ),
        ("claims tampered", tampered),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("four segments", format!("{good}.{}", parts[2])),
        ("empty segments", "..".to_owned()),
        ("not base64", "!!!.???.***".to_owned()),
        ("header not JSON", format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2])),
        (
            "header nested deep",
            format!("{}.{}.{}", b64("[".repeat(10_000).as_bytes()), parts[1], parts[2]),
        ),
        (
            "claims nested deep",
            format!(
                "{}.{}.{}",
                parts[0],
                b64("{\"a\":".repeat(10_000).as_bytes()),
                parts[2]
            ),
        ),
        ("huge token", format!("{}.{}.{}", parts[0], "A".repeat(20_000), parts[2])),
        ("kid of nobody", {
            let head = b64(br#"{"alg":"RS256","typ":"JWT","kid":"nobody"}"#);
            format!("{head}.{}.{}", parts[1], parts[2])
        }),
        ("unsigned RS256", none("RS256")),
    ]
}

fn uuid_like() -> String {
    "0f0e0d0c-0b0a-0908-0706-050403020100".to_owned()
}

fn cases(
    rng: &mut fastrand::Rng,
    good: &str,
    forged: &[(&'static str, String)],
) -> Vec<Case> {
    let batch = br#"{"requests":[{"id":"1","method":"GET","url":"/me?$select=id,displayName"},{"id":"2","method":"POST","url":"/groups","headers":{"Content-Type":"application/json"},"body":{"displayName":"Storm","mailNickname":"storm","groupTypes":["Unified"],"mailEnabled":true,"securityEnabled":false},"dependsOn":["1"]},{"id":"3","method":"GET","url":"/users?$filter=startswith(displayName,'A') and accountEnabled eq true&$top=5"}]}"#;
    let group = br#"{"displayName":"Storm","mailNickname":"storm2","description":null,"groupTypes":["Unified"],"mailEnabled":true,"securityEnabled":false,"visibility":"Private"}"#;
    let form = b"grant_type=authorization_code&client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&code=abc&redirect_uri=http%3A%2F%2Flocalhost%3A1234&code_verifier=xyz&scope=User.Read+offline_access";
    let device =
        b"client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&scope=User.Read%20openid";
    let query = b"$filter=(startswith(displayName,'A') or not (mail eq null)) and accountEnabled eq true&$select=id,displayName,mail&$top=5&$count=true";
    let authorize = b"client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&response_type=code&redirect_uri=http%3A%2F%2Flocalhost&scope=User.Read&code_challenge=abc&code_challenge_method=S256&state=s";
    let chaos = br#"{"rules":[{"path":"/me","rates":{"503":1.0}}]}"#;

    let mut out = Vec::new();
    let json = Some("application/json");
    let urlencoded = Some("application/x-www-form-urlencoded");
    for _ in 0..MUTANTS {
        let mut c = Case::new("mutated $batch", "POST", "/v1.0/$batch");
        (c.content_type, c.token, c.body) =
            (json, Some(good.to_owned()), mutate(rng, batch));
        out.push(c);
        let mut c = Case::new("mutated group", "POST", "/v1.0/groups");
        (c.content_type, c.token, c.body) =
            (json, Some(good.to_owned()), mutate(rng, group));
        out.push(c);
        let mut c = Case::new("mutated token form", "POST", "/common/oauth2/v2.0/token");
        (c.content_type, c.body) = (urlencoded, mutate(rng, form));
        out.push(c);
        let mut c = Case::new(
            "mutated device code form",
            "POST",
            "/organizations/oauth2/devicecode",
        );
        (c.content_type, c.body) = (urlencoded, mutate(rng, device));
        out.push(c);
        let q = String::from_utf8_lossy(&mutate(rng, query)).into_owned();
        let mut c = Case::new("mutated OData query", "GET", format!("/v1.0/users?{q}"));
        c.token = Some(good.to_owned());
        out.push(c);
        let q = String::from_utf8_lossy(&mutate(rng, authorize)).into_owned();
        out.push(Case::new(
            "mutated authorize query",
            "GET",
            format!("/common/oauth2/v2.0/authorize?{q}"),
        ));
        // Without the admin secret: always 401, whatever the body.
        let mut c =
            Case::new("mutated chaos without the secret", "PUT", "/_graphlab/chaos");
        (c.content_type, c.token, c.body) =
            (json, Some(good.to_owned()), mutate(rng, chaos));
        c.expect = Some(401);
        out.push(c);
    }
    let routes = [
        "/v1.0/$batch",
        "/beta/$batch",
        "/v1.0/groups",
        "/v1.0/me",
        "/v1.0/users",
        "/v1.0/applications",
        "/v1.0/servicePrincipals",
        "/v1.0/oauth2PermissionGrants",
        "/common/oauth2/v2.0/token",
        "/common/oauth2/token",
        "/common/oauth2/v2.0/devicecode",
        "/devicelogin",
        "/common/oauth2/v2.0/authorize",
        "/_graphlab/chaos",
        "/v2.0/nowhere",
        "/v1.0/teams/x/channels",
        "/v1.0/groups/00000000-0000-0000-0000-000000000000/team",
    ];
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
    let types = [
        None,
        json,
        urlencoded,
        Some("text/plain"),
        Some("application/octet-stream"),
        Some("multipart/form-data; boundary=x"),
    ];
    for _ in 0..RANDOM_BODIES {
        let route = routes[rng.usize(0..routes.len())];
        let method = methods[rng.usize(0..methods.len())];
        let mut c = Case::new("random bytes", method, route);
        c.content_type = types[rng.usize(0..types.len())];
        c.token = rng.bool().then(|| good.to_owned());
        c.body = (0..rng.usize(0..2048)).map(|_| rng.u8(..)).collect();
        out.push(c);
    }
    for depth in [129, 1_000, 10_000, 100_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let deep = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            for path in [
                "/v1.0/$batch",
                "/v1.0/groups",
                "/v1.0/applications",
                "/common/oauth2/v2.0/token",
            ] {
                let mut c = Case::new("deep JSON", "POST", path);
                (c.content_type, c.token, c.body) =
                    (json, Some(good.to_owned()), deep.clone().into_bytes());
                out.push(c);
            }
            let item = format!(
                r#"{{"requests":[{{"id":"1","method":"POST","url":"/groups","headers":{{"Content-Type":"application/json"}},"body":{deep}}}]}}"#
            );
            let mut c = Case::new("deep batch item body", "POST", "/v1.0/$batch");
            (c.content_type, c.token, c.body) =
                (json, Some(good.to_owned()), item.into_bytes());
            out.push(c);
        }
        let filters = [
            format!("{}displayName eq 'x'{}", "(".repeat(depth), ")".repeat(depth)),
            format!("{}displayName eq 'x'", "not ".repeat(depth)),
            vec!["displayName eq 'x'"; depth.min(3_000)].join(" or "),
            "(".repeat(depth),
            ")".repeat(depth),
        ];
        for filter in filters {
            let mut c =
                Case::new("deep $filter", "GET", format!("/v1.0/users?$filter={filter}"));
            c.token = Some(good.to_owned());
            out.push(c);
            let item = serde_json::json!({"requests": [{"id": "1", "method": "GET", "url": format!("/users?$filter={filter}")}]});
            let mut c = Case::new("deep $filter in a batch item", "POST", "/v1.0/$batch");
            (c.content_type, c.token, c.body) =
                (json, Some(good.to_owned()), item.to_string().into_bytes());
            out.push(c);
        }
        let mut c = Case::new(
            "wide $select",
            "GET",
            format!("/v1.0/users?$select={}", vec!["id"; depth.min(20_000)].join(",")),
        );
        c.token = Some(good.to_owned());
        out.push(c);
    }
    for (what, token) in forged {
        for (method, path, body) in [
            ("GET", "/v1.0/me", Vec::new()),
            ("POST", "/v1.0/$batch", batch.to_vec()),
            ("GET", "/beta/users", Vec::new()),
        ] {
            let mut c = Case::new(what, method, path);
            (c.content_type, c.token, c.body) = (json, Some(token.clone()), body);
            // A token too large for the header limit is refused before it is read.
            c.expect = Some(if token.len() > 32 * 1024 { 431 } else { 401 });
            out.push(c);
        }
    }
    rng.shuffle(&mut out);
    out
}

/// Sends one case; `Err` says what went wrong (a 5xx, a wrong status, a hang).
async fn send(http: &reqwest::Client, base: &str, case: &Case) -> Result<(), String> {
    let Ok(url) = reqwest::Url::parse(&format!("{base}{}", case.path)) else {
        return Ok(()); // a URL no client can send
    };
    let mut request = http.request(case.method.clone(), url).body(case.body.clone());
    if let Some(ct) = case.content_type {
        request = request.header("content-type", ct);
    }
    if let Some(token) = &case.token {
        request = request.bearer_auth(token);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) if e.is_builder() => return Ok(()),
        Err(e) => return Err(format!("{}: no answer: {e}", case.what)),
    };
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("{}: body not read: {e}", case.what))?;
    if status >= 500 {
        return Err(format!(
            "{} {} {}: {status} {}",
            case.what,
            case.method,
            case.path.chars().take(120).collect::<String>(),
            String::from_utf8_lossy(&body).chars().take(300).collect::<String>()
        ));
    }
    if let Some(expected) = case.expect
        && status != expected
    {
        return Err(format!("{}: expected {expected}, got {status}", case.what));
    }
    Ok(())
}

/// Raw garbage on a socket: the server answers or closes, never hangs.
async fn raw(addr: std::net::SocketAddr, rng: &mut fastrand::Rng) -> Result<(), String> {
    let mut stream =
        tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let prefixes: [&[u8]; 5] = [
        b"",
        b"GET /v1.0/me HTTP/1.1\r\n",
        b"POST /v1.0/$batch HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ];
    let mut bytes = prefixes[rng.usize(0..prefixes.len())].to_vec();
    bytes.extend((0..rng.usize(0..4096)).map(|_| rng.u8(..)));
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
    let mut sink = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut sink))
        .await
    {
        Err(_) => {
            Err("a raw connection stayed open 10 s after its client finished".into())
        }
        Ok(_) => {
            let head = String::from_utf8_lossy(&sink[..sink.len().min(12)]).into_owned();
            if head.starts_with("HTTP/1.1 5") {
                return Err(format!("raw garbage got {head}"));
            }
            Ok(())
        }
    }
}

#[test]
fn a_storm_of_hostile_requests_gets_no_5xx_and_the_tenant_lives() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tenant");
    let (mut child, url) = crate::serve(&state, &[]);
    let tenant = Tenant::open(&TenantConfig::persistent(&state)).unwrap();
    let good = tenant
        .issue_token(
            seed::ADMIN_UPN,
            &["User.Read", "User.ReadBasic.All", "Group.ReadWrite.All"],
        )
        .unwrap();
    let forged = forged_tokens(&tenant, &good);
    let mut rng = fastrand::Rng::with_seed(SEED);
    let cases = cases(&mut rng, &good, &forged);
    let total = cases.len();
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let failures: Vec<String> = rt.block_on(async {
        // No redirects: the identity platform redirects errors to the
        // (mutated) redirect URI, which is nobody.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(cases));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (http, queue, url) = (http.clone(), queue.clone(), url.clone());
            tasks.spawn(async move {
                let mut failures = Vec::new();
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some(case) = next else { return failures };
                    if started.elapsed() > BUDGET {
                        failures.push("the storm ran out of time".to_owned());
                        return failures;
                    }
                    if let Err(e) = send(&http, &url, &case).await {
                        failures.push(e);
                    }
                }
            });
        }
        let mut raw_rng = fastrand::Rng::with_seed(SEED ^ 0xff);
        let mut failures = Vec::new();
        for _ in 0..RAW_CONNECTIONS {
            if let Err(e) = raw(addr, &mut raw_rng).await {
                failures.push(e);
            }
        }
        while let Some(done) = tasks.join_next().await {
            failures.extend(done.unwrap());
        }
        // Alive, and still right.
        let health = http.get(format!("{url}/_graphlab/health")).send().await;
        if !health.is_ok_and(|r| r.status() == 200) {
            failures.push("no health after the storm".into());
        }
        let me = http.get(format!("{url}/v1.0/me")).bearer_auth(&good).send().await;
        if !me.is_ok_and(|r| r.status() == 200) {
            failures.push("GET /me failed after the storm".into());
        }
        failures
    });
    let alive = child.try_wait().unwrap().is_none();
    child.kill().ok();
    child.wait().ok();
    eprintln!(
        "storm: {total} requests and {RAW_CONNECTIONS} raw connections in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(alive, "graphlab tenant serve died during the storm");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

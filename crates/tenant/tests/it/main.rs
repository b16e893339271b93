//! Integration tests: the emulator served on `127.0.0.1:0`, called over HTTP.

mod batch;
mod chaos;
mod clock;
mod graph;
mod identity;
mod limits;
mod malformed;
mod navigation;
mod persistence;
mod spa;
mod tls;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

use graphlab_tenant::{Now, RunningTenant, Tenant, TenantConfig, seed::ADMIN_UPN};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

/// Scopes the lab's app gets, plus what the exploring steps read.
pub const LAB_SCOPES: &[&str] = &[
    "User.Read",
    "User.ReadBasic.All",
    "Mail.Read",
    "Calendars.Read",
    "Group.ReadWrite.All",
    "Application.ReadWrite.All",
];

/// The emulator's clock in a test: the system time plus an offset the test
/// moves forward, instead of sleeping.
#[derive(Debug, Clone, Default)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    /// The clock, for [`TenantConfig::clock`].
    pub fn now(&self) -> Now {
        let offset = self.0.clone();
        Now::from_fn(move || {
            SystemTime::now() + Duration::from_millis(offset.load(Ordering::SeqCst))
        })
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

/// An emulator on a real socket (on a [`TestClock`]), a client, and the
/// admin's token.
#[derive(Debug)]
pub struct Harness {
    pub clock: TestClock,
    pub tenant: Tenant,
    pub running: RunningTenant,
    pub http: reqwest::Client,
    pub token: String,
}

/// A response: status, headers, JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with(
            TenantConfig::in_memory().replication_delay(Duration::from_millis(300)),
        )
        .await
    }

    pub async fn with(config: TenantConfig) -> Harness {
        let clock = TestClock::default();
        // One signing key for the binary's tenants: RSA key generation is the
        // slowest part of opening one.
        let config = config.clock(clock.now()).reuse_key();
        let tenant = Tenant::open(&config).expect("tenant opens");
        let running =
            graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap())
                .await
                .expect("binds");
        let token = tenant.issue_token(ADMIN_UPN, LAB_SCOPES).expect("token");
        Harness { clock, tenant, running, http: reqwest::Client::new(), token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        read(response).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, Some(&self.token), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(&self.token), Some(body)).await
    }

    /// POSTs a raw payload to `/{version}/$batch`.
    pub async fn batch_raw(&self, version: &str, payload: &str) -> Answer {
        let response = self
            .http
            .post(self.url(&format!("/{version}/$batch")))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(payload.to_owned())
            .send()
            .await
            .expect("batch sent");
        read(response).await
    }

    pub async fn batch(&self, payload: Value) -> Answer {
        self.batch_raw("v1.0", &payload.to_string()).await
    }

    /// Creates a Unified group and returns its id.
    pub async fn create_group(&self, name: &str) -> String {
        let answer = self
            .post(
                "/v1.0/groups",
                json!({
                    "displayName": name, "mailNickname": name, "description": name,
                    "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false,
                }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        answer.body["id"].as_str().unwrap().to_owned()
    }

    /// PUTs a team on a group, moving the clock past the replication 404.
    pub async fn create_team(&self, group: &str) -> Answer {
        for _ in 0..20 {
            let answer = self
                .call(
                    Method::PUT,
                    &format!("/v1.0/groups/{group}/team"),
                    Some(&self.token),
                    Some(json!({})),
                )
                .await;
            if answer.status != StatusCode::NOT_FOUND {
                return answer;
            }
            self.clock.advance(Duration::from_millis(500));
        }
        panic!("the group never replicated, though the clock moved 10 s")
    }
}

pub async fn read(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body read");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, body }
}

/// The responses of a batch answer, by id.
pub fn by_id(answer: &Answer) -> std::collections::HashMap<String, Value> {
    answer.body["responses"]
        .as_array()
        .unwrap_or_else(|| panic!("no responses in {:?}", answer.body))
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

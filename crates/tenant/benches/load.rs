//! Load benchmark of the emulator (`cargo xtask bench tenant`).
//!
//! One process, two phases on loopback at 64 concurrent connections:
//! `GET /v1.0/me` (a trivial authenticated route), then `POST /v1.0/$batch`
//! with 20 `GET /me` items. Prints req/s, sub-requests/s and p50/p99
//! latencies. Client and server share the machine's cores, as they would on a
//! trainee's laptop. `GRAPHLAB_BENCH_SECS` sets each phase's length (default 5).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use graphlab_tenant::{Tenant, TenantConfig, seed::ADMIN_UPN};
use serde_json::json;

const CONNECTIONS: usize = 64;

struct Phase {
    name: &'static str,
    calls: usize,
    per_call: usize,
    secs: f64,
    latencies: Vec<Duration>,
    failures: usize,
}

impl Phase {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }

    fn rate(&self) -> f64 {
        (self.calls * self.per_call) as f64 / self.secs
    }
}

async fn phase(
    name: &'static str,
    duration: Duration,
    per_call: usize,
    send: Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>,
) -> Phase {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            while started.elapsed() < duration {
                let t = Instant::now();
                match send().send().await {
                    Ok(r) if r.status().is_success() => {
                        let body = r.bytes().await.unwrap_or_default();
                        if per_call > 1 {
                            // Every item must have succeeded for the call to count.
                            let ok = serde_json::from_slice::<serde_json::Value>(&body)
                                .ok()
                                .and_then(|v| {
                                    v["responses"]
                                        .as_array()
                                        .map(|a| a.iter().all(|r| r["status"] == 200))
                                })
                                .unwrap_or(false);
                            if !ok {
                                failures += 1;
                                continue;
                            }
                        }
                        latencies.push(t.elapsed());
                    }
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.expect("bench task");
        latencies.extend(l);
        failures += f;
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort();
    Phase { name, calls: latencies.len(), per_call, secs, latencies, failures }
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("GRAPHLAB_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let duration = Duration::from_secs(secs);
    let tenant = Tenant::open(&TenantConfig::in_memory()).expect("tenant");
    let running = graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let token = tenant.issue_token(ADMIN_UPN, &["User.Read"]).expect("token");
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build().unwrap();
    let base = running.base_url().to_owned();

    let (c, b, t) = (client.clone(), base.clone(), token.clone());
    let direct: Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync> =
        Arc::new(move || c.get(format!("{b}/v1.0/me")).bearer_auth(&t));
    let items: Vec<_> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    let payload = json!({ "requests": items }).to_string();
    let (c, b, t) = (client.clone(), base.clone(), token.clone());
    let batched: Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync> =
        Arc::new(move || {
            c.post(format!("{b}/v1.0/$batch"))
                .bearer_auth(&t)
                .header("content-type", "application/json")
                .body(payload.clone())
        });

    // Warm up connections and caches.
    phase("warm-up", Duration::from_millis(500), 1, direct.clone()).await;
    let phases = [
        phase("GET /v1.0/me", duration, 1, direct).await,
        phase("$batch of 20 GET /me", duration, 20, batched).await,
    ];
    println!(
        "graphlab-tenant load benchmark: {CONNECTIONS} connections, {secs} s per phase, loopback, one process"
    );
    println!(
        "{:<24} {:>10} {:>16} {:>10} {:>10} {:>9}",
        "phase", "calls/s", "(sub-)requests/s", "p50", "p99", "failures"
    );
    for p in &phases {
        println!(
            "{:<24} {:>10.0} {:>16.0} {:>8.2}ms {:>8.2}ms {:>9}",
            p.name,
            p.calls as f64 / p.secs,
            p.rate(),
            p.percentile(0.50).as_secs_f64() * 1e3,
            p.percentile(0.99).as_secs_f64() * 1e3,
            p.failures,
        );
    }
    let ratio = phases[1].rate() / phases[0].rate();
    println!(
        "sub-requests/s through $batch = {:.2} x the trivial route's req/s (goal >= 0.5): {}",
        ratio,
        if ratio >= 0.5 { "met" } else { "NOT met" }
    );
    let stats = tenant.stats();
    println!(
        "emulator counters: {} requests, {} batch calls, {} batch items",
        stats.requests, stats.batch_calls, stats.batch_items
    );
    running.shutdown().await;
}

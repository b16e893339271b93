//! Benchmark of the batch client (`cargo xtask bench batch`).
//!
//! The emulator runs as a separate release process (`GRAPHLAB_BIN`), so the
//! CPU time and memory measured here are the client's alone. Three phases on
//! loopback: 10,000 GETs through `$batch`; the same 10,000 sent one by one at
//! the same concurrency; 100,000 items streamed from a JSON-lines file.
//!
//! The first phase runs `GRAPHLAB_BENCH_REPEATS` times (9) and prints the
//! spread. `GRAPHLAB_BENCH_ONLY_BATCHED=1` stops after it, for profiling the
//! client (`perf record --no-inherit`, or `valgrind --tool=callgrind`).

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use graphlab_auth::{Secret, StaticToken};
use graphlab_batch::{BatchClient, BatchItem, Config, parse_line};

/// CPU time of every thread of this process, in seconds, from the
/// scheduler's nanosecond counters (`/proc/self/stat` counts 10 ms ticks,
/// too coarse for a figure per item).
fn cpu_secs() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    let nanos: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}

/// A line of /proc/self/status, in MiB.
fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

const CONCURRENCY: usize = 4;

/// `GET /me?n=i` for i in 0..n, one request at a time on each of
/// `CONCURRENCY` connections; returns how many succeeded.
async fn one_by_one(http: &reqwest::Client, url: &str, token: &str, n: usize) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, next, url, token) =
            (http.clone(), next.clone(), url.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return ok;
                }
                let r = http
                    .get(format!("{url}/v1.0/me?n={i}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let _ = r.bytes().await;
                ok += usize::from(status.is_success());
            }
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap();
    }
    ok
}

/// One run of the client, in a function of its own (and its own
/// `block_on`) so that callgrind counts exactly what runs inside:
/// `--toggle-collect=*run_measured*`.
#[inline(never)]
fn run_measured(
    rt: &tokio::runtime::Runtime,
    client: &BatchClient,
    items: Vec<BatchItem>,
) -> graphlab_batch::Report {
    rt.block_on(client.run(items)).unwrap()
}

fn main() {
    // One thread, as `graphlab batch run` runs the client.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _enter = rt.enter();
    let bin = std::env::var("GRAPHLAB_BIN")
        .expect("GRAPHLAB_BIN: run through `cargo xtask bench batch`");
    let state =
        std::env::temp_dir().join(format!("graphlab-bench-{}", std::process::id()));
    let mut server = Command::new(&bin)
        .args(["tenant", "serve", "--addr", "127.0.0.1:0", "--state"])
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("graphlab starts");
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("graphlab tenant listening on ")
        .expect("announced URL")
        .to_owned();
    let token = Command::new(&bin)
        .args(["tenant", "token", "--scopes", "User.Read", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let tokens = Arc::new(StaticToken(Secret::new(token.clone())));
    let client = BatchClient::new(
        &url,
        tokens,
        Config { concurrency: CONCURRENCY, ..Config::default() },
    );

    // Warm-up (not through `run_measured`: callgrind counts only phase 1).
    let warm_up = (0..200).map(|i| BatchItem::get(format!("w{i}"), "/me")).collect();
    let _ = rt.block_on(client.run(warm_up)).unwrap();

    // 1. 10,000 GETs through $batch, repeated: on two cores shared with the
    // emulator one run's figure swings by half, so the spread is printed.
    let repeats: usize = std::env::var("GRAPHLAB_BENCH_REPEATS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(9)
        .max(1);
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let mut calls = 0;
    for _ in 0..repeats {
        let items: Vec<BatchItem> = (0..10_000)
            .map(|i| BatchItem::get(format!("r{i}"), format!("/me?n={i}")))
            .collect();
        let (cpu, t) = (cpu_secs(), Instant::now());
        let report = run_measured(&rt, &client, items);
        let (wall, cpu_used) = (t.elapsed().as_secs_f64(), cpu_secs() - cpu);
        assert!(report.all_succeeded(), "{:?}", report.summary());
        calls = report.batch_calls;
        runs.push((cpu_used * 1e6 / 10_000.0, wall));
    }
    if std::env::var_os("GRAPHLAB_BENCH_CALLGRIND").is_some() {
        // Timings under valgrind mean nothing; xtask prints the count.
        println!("10,000 GETs via $batch under callgrind: {calls} round trips");
        let _ = server.kill();
        let _ = server.wait();
        let _ = std::fs::remove_dir_all(&state);
        return;
    }
    println!(
        "graphlab-batch benchmark: emulator in a separate process, loopback, {CONCURRENCY} concurrent connections"
    );
    println!(
        "{:<34} {:>9} {:>12} {:>14} {:>14}",
        "phase", "wall s", "round trips", "client CPU/item", "peak RSS MiB"
    );
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = runs[runs.len() / 2];
    println!(
        "{:<34} {:>9.2} {:>12} {:>12.2}µs {:>14.1}",
        "10,000 GETs via $batch (median)",
        median.1,
        calls,
        median.0,
        status_mib("VmHWM")
    );
    println!(
        "  client CPU/item over {repeats} runs: min {:.2}, median {:.2}, max {:.2} µs \
         (wall {:.2}–{:.2} s: the slower the emulator, the more often the client wakes)",
        runs[0].0,
        median.0,
        runs[runs.len() - 1].0,
        runs.iter().map(|r| r.1).fold(f64::INFINITY, f64::min),
        runs.iter().map(|r| r.1).fold(0.0, f64::max),
    );
    let batched_wall = median.1;
    if std::env::var_os("GRAPHLAB_BENCH_ONLY_BATCHED").is_some() {
        // For profiling the client alone (`perf record --no-inherit`).
        let _ = server.kill();
        let _ = server.wait();
        let _ = std::fs::remove_dir_all(&state);
        return;
    }

    rt.block_on(async {
        // 2. The same 10,000 one by one, same concurrency.
        let http =
            reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().unwrap();
        let (cpu, t) = (cpu_secs(), Instant::now());
        let ok = one_by_one(&http, &url, &token, 10_000).await;
        let (wall, cpu_used) = (t.elapsed().as_secs_f64(), cpu_secs() - cpu);
        assert_eq!(ok, 10_000);
        println!(
            "{:<34} {:>9.2} {:>12} {:>12.2}µs {:>14.1}",
            "10,000 GETs one by one",
            wall,
            10_000,
            cpu_used * 1e6 / 10_000.0,
            status_mib("VmHWM")
        );
        println!("  $batch was {:.1}x faster in wall time", wall / batched_wall);

        // 2b. With 20 ms per HTTP round trip (injected by the emulator on direct
        // calls, the `$batch` call included), as over a real network.
        let admin = reqwest::Client::new();
        let secret = std::fs::read_to_string(state.join("admin-secret")).unwrap();
        admin
            .put(format!("{url}/_graphlab/chaos"))
            .bearer_auth(secret.trim())
            .body(r#"{"rules": [{"scope": "direct", "latencyMs": 20}]}"#)
            .send()
            .await
            .unwrap();
        let items: Vec<BatchItem> = (0..2_000)
            .map(|i| BatchItem::get(format!("l{i}"), format!("/me?n={i}")))
            .collect();
        let t = Instant::now();
        let report = client.run(items).await.unwrap();
        assert!(report.all_succeeded());
        let batched = t.elapsed().as_secs_f64();
        let t = Instant::now();
        assert_eq!(one_by_one(&http, &url, &token, 2_000).await, 2_000);
        let single = t.elapsed().as_secs_f64();
        println!(
            "{:<34} {:>9.2} {:>12}\n{:<34} {:>9.2} {:>12}\n  with 20 ms round trips $batch was {:.1}x faster",
            "2,000 GETs via $batch, 20 ms RTT",
            batched,
            report.batch_calls,
            "2,000 GETs one by one, 20 ms RTT",
            single,
            2_000,
            single / batched
        );
        admin
            .delete(format!("{url}/_graphlab/chaos"))
            .bearer_auth(secret.trim())
            .send()
            .await
            .unwrap();

        // 3. 100,000 items streamed from JSON lines.
        let path = state.join("items.jsonl");
        {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            for i in 0..100_000 {
                writeln!(
                    f,
                    "{{\"id\":\"s{i}\",\"method\":\"GET\",\"url\":\"/me?$select=id&n={i}\"}}"
                )
                .unwrap();
            }
        }
        let reader = BufReader::new(std::fs::File::open(&path).unwrap());
        let items = reader
            .lines()
            .enumerate()
            .filter_map(|(n, l)| parse_line(&l.unwrap(), "items.jsonl", n + 1).transpose());
        let mut rss = Vec::new();
        let mut done = 0usize;
        let mut failed = 0usize;
        let (cpu, t) = (cpu_secs(), Instant::now());
        let (total, calls) = client
            .run_stream(items, 2000, |_, o| {
                done += 1;
                failed += usize::from(!o.is_success());
                if done.is_multiple_of(20_000) {
                    rss.push(format!("{}k: {:.1}", done / 1000, status_mib("VmRSS")));
                }
            })
            .await
            .unwrap();
        let (wall, cpu_used) = (t.elapsed().as_secs_f64(), cpu_secs() - cpu);
        assert_eq!((total, failed), (100_000, 0));
        println!(
            "{:<34} {:>9.2} {:>12} {:>12.2}µs {:>14.1}",
            "100,000 streamed from JSON lines",
            wall,
            calls,
            cpu_used * 1e6 / 100_000.0,
            status_mib("VmHWM")
        );
        println!("  RSS (MiB) while streaming, by items done: {}", rss.join(", "));
    });
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&state);
}

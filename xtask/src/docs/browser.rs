//! `cargo xtask docs --browser`: pages opened in headless Chromium, no
//! console message allowed, screenshots kept.

use std::{
    fs,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};

use super::{book_dir, build};

/// The pages the browser check opens: name and path under `target/book`.
const BROWSER_PAGES: [(&str, &str); 6] = [
    ("landing", "index.html"),
    ("en-intro", "en/01-intro.html"),
    ("fr-intro", "fr/01-intro.html"),
    ("en-step05", "en/05-explore-batch.html"),
    ("en-step07", "en/07-use-batch.html"),
    ("fr-step06", "fr/06-create-flow.html"),
];

/// Opens pages in headless Chromium (Debian's `chromium`, or `$CHROMIUM`),
/// fails on any console message (errors, failed loads), and saves a
/// screenshot of each under `target/book-screenshots/`.
pub fn browser(root: &Path) -> anyhow::Result<()> {
    let out = book_dir(root);
    if !out.join("index.html").is_file() {
        build(root)?;
    }
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let shots = root.join("target").join("book-screenshots");
    fs::create_dir_all(&shots)?;
    // First a page that does log an error: proves the console is captured.
    let canary = shots.join("canary.html");
    fs::write(
        &canary,
        "<!DOCTYPE html><title>canary</title><script>console.error('graphlab canary')</script>",
    )?;
    let messages = open_in_chromium(&chromium, &canary, &shots.join("canary.png"))?;
    if !messages.iter().any(|m| m.contains("graphlab canary")) {
        bail!("Chromium's console is not captured: the canary page's error did not show");
    }
    fs::remove_file(&canary)?;
    let _ = fs::remove_file(shots.join("canary.png"));
    let mut problems = Vec::new();
    for (name, page) in BROWSER_PAGES {
        let shot = shots.join(format!("{name}.png"));
        let _ = fs::remove_file(&shot);
        let messages = open_in_chromium(&chromium, &out.join(page), &shot)?;
        problems.extend(messages.into_iter().map(|m| format!("{page}: console: {m}")));
        match fs::metadata(&shot) {
            Ok(meta) if meta.len() > 0 => println!("{page}: ok, {}", shot.display()),
            _ => problems.push(format!("{page}: no screenshot")),
        }
    }
    for p in &problems {
        println!("{p}");
    }
    if !problems.is_empty() {
        bail!("browser check: {} problem(s)", problems.len());
    }
    Ok(())
}

/// Loads `page` in headless Chromium, saves a screenshot, and returns the
/// console messages it logged.
fn open_in_chromium(
    chromium: &Path,
    page: &Path,
    shot: &Path,
) -> anyhow::Result<Vec<String>> {
    let profile = shot.with_extension("profile");
    let _ = fs::remove_dir_all(&profile);
    let url = format!("file://{}", fs::canonicalize(page)?.display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            // Containers often give /dev/shm 64 MB, too little for Chromium.
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("cannot run {} (apt-get install chromium)", chromium.display())
        })?;
    let stderr = child.stderr.take().context("no stderr")?;
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>()
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("Chromium did not finish with {url} within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines = reader.join().map_err(|_| anyhow!("stderr reader panicked"))?;
    let _ = fs::remove_dir_all(&profile);
    if !status.success() {
        bail!("Chromium failed on {url} ({status}):\n{}", lines.join("\n"));
    }
    // `[pid:tid:date:INFO:CONSOLE(12)] "message", source: url (12)`, or
    // `...:INFO:CONSOLE:12] ...` in newer versions.
    Ok(lines.into_iter().filter(|l| l.contains(":CONSOLE")).collect())
}

//! The book's pictures. Flow pictures: the lab's flow definitions drawn by
//! `graphlab flow draw`, and the runs that steps 6 and 7 make during `lab
//! outputs`, drawn over their flows (`docs/src/images/flows/`). Studio
//! screenshots: taken by the studio's browser test in Chromium and copied
//! into the book by `lab screenshots` (`docs/src/images/studio/`).
//!
//! A flow picture is checked like the steps' outputs, byte for byte, except
//! for its durations, which depend on the machine (a `$batch` call takes
//! milliseconds, scaled 12 times by the step's clock). A screenshot cannot be
//! made twice the same (fonts, timings, made-up ids), so `lab screenshots
//! --check` checks what can be: every screenshot the book shows is a PNG of
//! the browser's size, and the digest recorded when they were taken is the
//! digest of the files that make the pages now (the studio's assets and
//! code, the drawing code, the lab's flows and the test that drives the
//! browser). A change to any of them makes the screenshots stale.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::{cargo_command, files_under, root, run_command};

/// The lab's flow definitions (in `lab-steps/flows/`) the book draws.
pub const FLOWS: [&str; 3] =
    ["create-team", "create-team-channels", "create-team-checked"];

/// The book's flow pictures.
pub fn flows_dir() -> PathBuf {
    images_under(&root()).join("flows")
}

/// The book's studio screenshots in the workspace at `root`.
fn studio_dir_under(root: &Path) -> PathBuf {
    images_under(root).join("studio")
}

fn images_under(root: &Path) -> PathBuf {
    root.join("docs").join("src").join("images")
}

/// Draws `lab-steps/flows/{flow}.json` with `graphlab flow draw`, with the
/// latest run of the history in `lab_dir` laid over it when `run` is true,
/// and returns the SVG with the run's id replaced by a fixed one.
pub fn draw(
    graphlab: &Path,
    work: &Path,
    flow: &str,
    run: bool,
) -> anyhow::Result<String> {
    let out = work.join(format!("{flow}{}.svg", if run { ".run" } else { "" }));
    let mut command = Command::new(graphlab);
    command
        .current_dir(work)
        .args(["--lab-dir", ".lab", "flow", "draw"])
        .arg(root().join("lab-steps").join("flows").join(format!("{flow}.json")))
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if run {
        command.args(["--run", "latest"]);
    }
    let output = command.output().context("cannot run graphlab flow draw")?;
    if !output.status.success() {
        bail!(
            "graphlab flow draw {flow}.json failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let svg = fs::read_to_string(&out)
        .with_context(|| format!("cannot read {}", out.display()))?;
    Ok(match run_id(&svg) {
        Some(id) => svg.replace(id, "08585000000000000000000000001"),
        None => svg,
    })
}

/// The run's id in a picture's title (`Flow NAME, run ID: STATUS`): Logic
/// Apps' 29 characters, digits and upper-case letters.
fn run_id(svg: &str) -> Option<&str> {
    let at = svg.find(", run 08585")? + ", run ".len();
    let id = svg.get(at..at + 29)?;
    id.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()).then_some(id)
}

/// `text` with each duration a run picture shows (`· 350 ms`, `· 1.2 s`,
/// `· 1 min 5 s`) replaced by `· (time)`: what may differ between two
/// drawings of the same flow's runs.
pub fn without_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("· ") {
        out.push_str(&rest[..at + "· ".len()]);
        rest = &rest[at + "· ".len()..];
        let len = duration_len(rest);
        if len > 0 {
            out.push_str("(time)");
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    out
}

/// The length of the duration `text` starts with, or 0.
fn duration_len(text: &str) -> usize {
    let number = |s: &str| {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return 0;
        }
        match s[digits..].strip_prefix('.') {
            Some(fraction) => {
                let more = fraction.bytes().take_while(u8::is_ascii_digit).count();
                if more == 0 { digits } else { digits + 1 + more }
            }
            None => digits,
        }
    };
    let n = number(text);
    if n == 0 {
        return 0;
    }
    let after = &text[n..];
    if after.starts_with(" ms") {
        return n + 3;
    }
    if let Some(minutes) = after.strip_prefix(" min ") {
        let s = number(minutes);
        if s > 0 && minutes[s..].starts_with(" s") {
            return n + " min ".len() + s + 2;
        }
        return 0;
    }
    if after.starts_with(" s") { n + 2 } else { 0 }
}

/// The screenshots of the studio the book shows, as the browser test
/// names them.
pub const SHOTS: [&str; 7] =
    ["batch-explorer", "me-beta", "onenote-403", "tenant", "flows", "flow-run", "faults"];

/// The smallest screenshot that shows a page (the test's window is
/// 1400×1000; headless Chromium's viewport is a little shorter).
const SHOT_MIN: (u32, u32) = (1024, 600);

/// What the screenshots show is made of these files (and directories).
const SHOT_INPUTS: [&str; 5] = [
    "crates/studio/assets",
    "crates/studio/src",
    "crates/studio/tests/it/browser.rs",
    "crates/flow/src/draw",
    "lab-steps/flows",
];

/// The record of a set of screenshots, beside them in the book.
const SOURCE: &str = "SOURCE.md";

/// SHA-256 over the screenshots' inputs: each file's path (relative, with
/// `/`) and contents, in path order.
fn inputs_digest(root: &Path) -> String {
    let mut files = Vec::new();
    for input in SHOT_INPUTS {
        let path = root.join(input);
        if path.is_dir() { files.extend(files_under(&path)) } else { files.push(path) }
    }
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        let name =
            file.strip_prefix(root).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(fs::read(&file).unwrap_or_default());
        hash.update([0]);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn source_text(digest: &str) -> String {
    format!(
        "<!-- generated by `cargo xtask lab screenshots`: do not edit -->\n\
         # Where these screenshots come from\n\n\
         The studio's browser test (`crates/studio/tests/it/browser.rs`) took \
         them in headless Chromium, against an in-process emulator, and `cargo \
         xtask lab screenshots` copied them here. `cargo xtask lab screenshots \
         --check` fails when the files that make these pages have changed since:\n\n\
         inputs-sha256: {digest}\n"
    )
}

/// `cargo xtask lab screenshots [--check]`.
pub fn screenshots(check: bool) -> anyhow::Result<()> {
    if check {
        let problems = screenshot_problems(&root());
        if !problems.is_empty() {
            bail!(
                "the book's studio screenshots are stale or missing:\n  {}\n\
                 run `cargo xtask lab screenshots` (needs chromium and chromium-driver) \
                 and commit docs/src/images/studio/",
                problems.join("\n  ")
            );
        }
        println!("{} studio screenshots are fresh", SHOTS.len());
        return Ok(());
    }
    let shots = crate::cargo_target_dir().join("book-studio-screenshots");
    let _ = fs::remove_dir_all(&shots);
    fs::create_dir_all(&shots)?;
    let digest = inputs_digest(&root());
    // The packages CI's `cargo test` selects, so that its build is reused
    // (cargo unifies features over the packages a command selects); only
    // the studio's `it` has tests named `browser::`.
    run_command(
        cargo_command()
            .args(["test", "--quiet", "--workspace", "--exclude", "graphlab-fuzz"])
            .args(["--test", "it", "--", "browser::"])
            .env("GRAPHLAB_STUDIO_SCREENSHOTS", &shots),
    )?;
    let dir = studio_dir_under(&root());
    fs::create_dir_all(&dir)?;
    for shot in SHOTS {
        let from = shots.join(format!("{shot}.png"));
        let bytes = fs::read(&from)
            .with_context(|| format!("the browser test made no {}", from.display()))?;
        graphlab_fs::write_atomically(
            &dir.join(format!("{shot}.png")),
            &bytes,
            graphlab_fs::Access::Shared,
        )?;
    }
    graphlab_fs::write_atomically(
        &dir.join(SOURCE),
        source_text(&digest).as_bytes(),
        graphlab_fs::Access::Shared,
    )?;
    println!("wrote {} screenshots into {}", SHOTS.len(), dir.display());
    Ok(())
}

/// What is wrong with the book's screenshots under `root`: each missing or
/// unreadable PNG, one of another size, and a digest that is not the inputs'.
pub fn screenshot_problems(root: &Path) -> Vec<String> {
    let dir = studio_dir_under(root);
    let mut problems = Vec::new();
    let mut sizes = Vec::new();
    for shot in SHOTS {
        let path = dir.join(format!("{shot}.png"));
        let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        let size = fs::File::open(&path).map_err(|e| e.to_string()).and_then(|file| {
            let reader = png::Decoder::new(std::io::BufReader::new(file))
                .read_info()
                .map_err(|e| format!("not a PNG: {e}"))?;
            let info = reader.info();
            Ok((info.width, info.height))
        });
        match size {
            Ok((w, h)) if w < SHOT_MIN.0 || h < SHOT_MIN.1 => problems.push(format!(
                "{shown}: {w}×{h} pixels, smaller than a browser window ({}×{})",
                SHOT_MIN.0, SHOT_MIN.1
            )),
            Ok(size) => sizes.push((shown, size)),
            Err(e) => problems.push(format!("{shown}: {e}")),
        }
    }
    if let Some((first, size)) = sizes.first()
        && let Some((other, other_size)) = sizes.iter().find(|(_, s)| s != size)
    {
        problems.push(format!(
            "{other} is {}×{} pixels but {first} is {}×{}: not taken in one window",
            other_size.0, other_size.1, size.0, size.1
        ));
    }
    let source = dir.join(SOURCE);
    let recorded = fs::read_to_string(&source).ok().and_then(|text| {
        text.lines().find_map(|l| l.strip_prefix("inputs-sha256: ").map(str::to_owned))
    });
    let digest = inputs_digest(root);
    match recorded {
        None => problems.push(format!(
            "{}: no inputs-sha256 line",
            source.strip_prefix(root).unwrap_or(&source).display()
        )),
        Some(recorded) if recorded != digest => problems.push(format!(
            "taken from other files than today's {} (recorded digest {recorded}, now {digest})",
            SHOT_INPUTS.join(", ")
        )),
        Some(_) => {}
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_masked_and_nothing_else() {
        let svg = "✓ Succeeded · 47 ms (OK). Delay: ✓ Succeeded · 1 min 0 s · 2 retries \
                   · 1.25 s · 3 iterations · 12 s</text>";
        assert_eq!(
            without_durations(svg),
            "✓ Succeeded · (time) (OK). Delay: ✓ Succeeded · (time) · 2 retries \
             · (time) · 3 iterations · (time)</text>"
        );
        assert_eq!(
            without_durations("· 3 minutes · 2 retries"),
            "· 3 minutes · 2 retries"
        );
        assert_eq!(without_durations("a · b ·"), "a · b ·");
    }

    #[test]
    fn a_run_id_is_found_in_the_title_only_when_it_has_its_shape() {
        let svg = "<title id=\"flow-title\">Flow Create Team, run \
                   08585ABCDEFGHIJKLMNOPQRST1234: Succeeded</title>";
        assert_eq!(run_id(svg), Some("08585ABCDEFGHIJKLMNOPQRST1234"));
        assert_eq!(run_id("Flow X, run 08585abc: Failed"), None);
    }

    /// The book's screenshots were taken from today's studio: a change to
    /// its pages without new screenshots fails here (and in CI's
    /// `cargo xtask lab screenshots --check`).
    #[test]
    fn the_books_studio_screenshots_are_fresh() {
        let problems = screenshot_problems(&root());
        assert!(
            problems.is_empty(),
            "{}\nrun `cargo xtask lab screenshots` and commit docs/src/images/studio/",
            problems.join("\n")
        );
    }
}

//! Fuzzing on stable Rust: every parser of untrusted input in the workspace
//! is a target (`tests/fuzz.rs`), fed by proptest strategies — random
//! bytes, seeds mutated byte by byte, grammar-shaped input, deep nesting —
//! from a fixed seed, so that a run is the same every time.
//!
//! - `cargo test -p graphlab-fuzz` (and CI) runs each target for its fixed
//!   number of cases.
//! - `cargo xtask fuzz [--secs N]` runs each for N seconds (in release
//!   mode), round after round with new seeds.
//! - A failing input is shrunk by proptest and saved under
//!   `tests/regressions/<target>/`; every saved input is replayed first, by
//!   every later run: a regression test.
//!
//! A target's check returns `Err` (or panics) for a property broken; a stack
//! overflow ends the process, which is why every recursion is bounded (see
//! ARCHITECTURE.md, "Limits and recursion bounds").
#![deny(missing_docs)]

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use proptest::{
    prelude::*,
    sample::{Index, select},
    test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner},
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The seed every run starts from.
pub const SEED: u64 = 0x6772_6170_686c_6162;

/// How long to fuzz, from `GRAPHLAB_FUZZ_SECS` (set by `cargo xtask fuzz`).
fn time_budget() -> Option<Duration> {
    std::env::var("GRAPHLAB_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn regressions(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("regressions")
        .join(target)
}

/// Runs `check` on every saved regression of `target`, then on `cases`
/// inputs from `strategy` (or, under `cargo xtask fuzz --secs N`, on rounds
/// of `cases` inputs with new seeds for N seconds). Panics on the first
/// failure, after saving its shrunk input as a new regression.
pub fn fuzz<S>(
    target: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(&[u8]) -> Result<(), String>,
) where
    S: Strategy<Value = Vec<u8>>,
{
    fuzz_in(&regressions(target), target, cases, strategy, check);
}

/// [`fuzz`] with the regressions in `dir`.
fn fuzz_in<S>(
    dir: &std::path::Path,
    target: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(&[u8]) -> Result<(), String>,
) where
    S: Strategy<Value = Vec<u8>>,
{
    let started = Instant::now();
    let mut replayed = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut files: Vec<PathBuf> =
            entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files {
            let input = std::fs::read(&file).unwrap_or_default();
            if let Err(why) = check(&input) {
                panic!(
                    "fuzz {target}: the regression {} fails again: {why}",
                    file.display()
                );
            }
            replayed += 1;
        }
    }
    let budget = time_budget();
    let mut total = 0u64;
    for round in 0u64.. {
        let seed: [u8; 32] = Sha256::digest(format!("{SEED}/{target}/{round}")).into();
        let config = Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 4096,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(
            config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let result =
            runner.run(&strategy, |input| check(&input).map_err(TestCaseError::fail));
        total += u64::from(cases);
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, input)) => {
                let path = save(dir, &input);
                panic!(
                    "fuzz {target}: {why}\nthe input ({} bytes) is saved as {}: it is now a \
                     regression test, replayed by every run",
                    input.len(),
                    path.display()
                );
            }
            Err(e) => panic!("fuzz {target}: {e}"),
        }
        match budget {
            Some(budget) if started.elapsed() < budget => {}
            _ => break,
        }
    }
    eprintln!(
        "fuzz {target}: {total} cases and {replayed} regressions in {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

fn save(dir: &std::path::Path, input: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let name = Sha256::digest(input)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let path = dir.join(format!("{name}.bin"));
    let _ = std::fs::write(&path, input);
    path
}

/// Random bytes, up to `max` of them.
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Bytes that break JSON, URLs, forms and templates in interesting ways.
const SPECIALS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\\",
    "\\u0000",
    "\\ud800",
    "%",
    "%zz",
    "%00",
    "'",
    "(",
    ")",
    "1e999999",
    "-0",
    "null",
    "&",
    "=",
    "+",
    "\0",
    "\u{ff}",
    "{{",
    "}}",
    "$batch",
    "//",
    "..",
    "\r\n",
    "eq",
    " and ",
    " or ",
    "not ",
    "$filter=",
    "$select=",
    "$top=",
    "\u{10ffff}",
    "é",
    "18446744073709551616",
    "-9223372036854775809",
    ".",
];

/// One mutation: what, where, with what.
type Op = (u8, Index, u8, usize);

fn apply(seed: &[u8], ops: &[Op]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for &(kind, at, byte, len) in ops {
        let at = at.index(out.len() + 1);
        match kind % 6 {
            0 if at < out.len() => out[at] ^= 1 << (byte % 8),
            1 => {
                let s = SPECIALS[usize::from(byte) % SPECIALS.len()].as_bytes();
                out.splice(at..at, s.iter().copied());
            }
            2 if at < out.len() => {
                let end = (at + len).min(out.len());
                out.drain(at..end);
            }
            3 if at < out.len() => {
                let end = (at + len).min(out.len());
                let piece = out[at..end].to_vec();
                let copies = usize::from(byte % 8) + 1;
                out.splice(
                    at..at,
                    piece.iter().copied().cycle().take(piece.len() * copies),
                );
            }
            4 => out.truncate(at),
            _ => out.insert(at, byte),
        }
    }
    out
}

/// One of `seeds`, mutated by one to five operations (bit flips, inserted
/// special sequences, deletions, duplications, truncation).
pub fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let op = (any::<u8>(), any::<Index>(), any::<u8>(), 1usize..48);
    (select(seeds), proptest::collection::vec(op, 1..6))
        .prop_map(|(seed, ops)| apply(&seed, &ops))
}

/// Brackets or parentheses nested up to `max` deep around `inner`, or left
/// open.
pub fn deep(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let kinds: &[(&str, &str)] =
        &[("[", "]"), ("{\"a\":", "}"), ("(", ")"), ("not ", "")];
    (
        1..max,
        select(kinds.to_vec()),
        any::<bool>(),
        select(vec!["1", "x eq 1", "\"s\"", ""]),
    )
        .prop_map(|(n, (open, close), closed, inner)| {
            let mut s = open.repeat(n);
            s.push_str(inner);
            if closed {
                s.push_str(&close.repeat(n));
            }
            s.into_bytes()
        })
}

/// Words from `alphabet`, glued together, up to `max` of them.
pub fn soup(
    alphabet: &'static [&'static str],
    max: usize,
) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(select(alphabet), 0..max)
        .prop_map(|w| w.concat().into_bytes())
}

/// A small JSON string.
pub fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "",
            "1",
            "id",
            "GET",
            "POST",
            "/me",
            "/users?$top=1",
            "{{1.body.id}}",
            "application/json",
            "text/plain",
            "$batch",
            "https://graph.microsoft.com/v1.0/me"
        ])
        .prop_map(str::to_owned),
        proptest::collection::vec(any::<char>(), 0..12)
            .prop_map(|c| c.into_iter().collect()),
    ]
}

/// Any JSON value, a few levels deep.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(
            |f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        ),
        json_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((json_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A JSON object with keys from `keys`, each with a value of any kind.
pub fn object_with(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    proptest::collection::vec((select(keys), json_value()), 0..keys.len() + 2).prop_map(
        |kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness finds a planted bug, shrinks the input, saves it, and
    /// the next run replays it first.
    #[test]
    fn a_failing_input_is_saved_and_replayed() {
        let dir = std::env::temp_dir()
            .join(format!("graphlab-fuzz-self-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let planted = |input: &[u8]| {
            if input.contains(&0xab) { Err("found 0xab".to_owned()) } else { Ok(()) }
        };
        let run = || {
            std::panic::catch_unwind(|| {
                fuzz_in(&dir, "selftest", 2000, bytes(64), planted)
            })
        };
        let first = run().expect_err("the planted bug is found");
        let message = first.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.contains("found 0xab") && message.contains("saved as"),
            "{message}"
        );
        let saved: Vec<PathBuf> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(saved.len(), 1);
        assert_eq!(std::fs::read(&saved[0]).unwrap(), [0xab], "shrunk to the one byte");
        let again = run().expect_err("replayed");
        let message = again.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("regression"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

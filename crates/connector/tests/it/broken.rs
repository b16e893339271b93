//! Broken packages and swagger files, one or more per rule: each file or
//! directory under `tests/fixtures/broken/` is named after the rule it breaks
//! (`RULE.json`, `RULE/`, or `RULE--variant...`), and must produce that rule —
//! and nothing else but the few companions listed here.

use std::collections::BTreeSet;

use graphlab_connector::{Severity, rules, validate_path};

use crate::crate_dir;

/// Rules a fixture may also raise, because the same mistake breaks both.
fn companions(rule: &str) -> &'static [&'static str] {
    match rule {
        // The schemas also require `required: true` on path parameters,
        // responses on operations, and an enumerated x-ms-visibility.
        "swagger.path-param-required"
        | "swagger.responses-missing"
        | "cert.visibility" => &["schema"],
        // A renamed file that is not there is also missing.
        "package.settings-file" => &["package.missing-file"],
        _ => &[],
    }
}

/// Rules that are warnings even with `--certification`: the package works.
const WARNINGS: &[&str] = &["swagger.oauth-token-url", "properties.aad-parameters"];

#[test]
fn every_broken_fixture_produces_its_rule() {
    let dir = crate_dir().join("tests/fixtures/broken");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 25, "only {} broken fixtures", entries.len());
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for path in &entries {
        let name = path.file_name().unwrap().to_str().unwrap();
        let stem = name.strip_suffix(".json").unwrap_or(name);
        let rule = stem.split("--").next().unwrap();
        assert!(rules::is_known(rule), "{name}: {rule} is not a rule id");
        covered.insert(rule.to_owned());
        let report = validate_path(path, true).unwrap();
        let found = report.rules();
        let unexpected: Vec<_> = found
            .iter()
            .filter(|r| **r != rule && !companions(rule).contains(r))
            .collect();
        if !found.contains(&rule) || !unexpected.is_empty() {
            failures.push(format!("{name}: expected {rule}, got:\n{report}"));
        }
        if WARNINGS.contains(&rule) {
            assert!(report.findings.iter().all(|f| f.severity == Severity::Warning));
        } else {
            assert!(
                !report.is_ok(),
                "{name}: a broken fixture must fail with --certification"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let uncovered: Vec<_> = rules::ALL
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !covered.contains(*id))
        .collect();
    assert!(uncovered.is_empty(), "rules without a broken fixture: {uncovered:?}");
}

#[test]
fn certification_rules_are_warnings_without_certification() {
    let path = crate_dir().join("tests/fixtures/broken/cert.summary-punctuation.json");
    let report = validate_path(&path, false).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warnings(), 1);
    assert_eq!(report.findings[0].path, "$.paths['/v1.0/$batch'].post.summary");
}

#[test]
fn secrets_are_errors_in_every_mode_and_never_repeated() {
    for name in ["secret.value.json", "secret.value--token.json"] {
        let path = crate_dir().join("tests/fixtures/broken").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let report = validate_path(&path, false).unwrap();
        assert!(!report.is_ok(), "{name}: {report}");
        let shown = format!("{report}\n{}", serde_json::to_string(&report).unwrap());
        for secret in ["fixture-secret-value-1234", "eyJhbGciOiJub25lIn0"] {
            if text.contains(secret) {
                assert!(!shown.contains(secret), "{name}: the report repeats the secret");
            }
        }
    }
}

//! Validation of the exported packages, Microsoft's fixtures, malformed JSON,
//! the report's forms, packages whose settings rename files, and packages
//! held in memory.

use graphlab_connector::{
    ExportOptions, PackageFiles, Profile, Severity, export, validate, validate_path,
};

use crate::{crate_dir, exported};

#[test]
fn typed_package_has_zero_findings_even_for_certification() {
    let (_dir, package) = exported(&ExportOptions::default());
    for certification in [false, true] {
        let report = validate_path(&package, certification).unwrap();
        assert!(report.findings.is_empty(), "{report}");
    }
}

#[test]
fn typed_package_with_every_option_set_still_passes() {
    let options = ExportOptions {
        title: Some("Graph Batch Lab".into()),
        client_id: "11111111-2222-3333-4444-555555555555".into(),
        tenant: "7d3e1f0a-5b2c-4e8d-9a61-c0ffee5eed01".into(),
        login_url: "https://login.microsoftonline.com".into(),
        scopes: vec!["Group.ReadWrite.All".into(), "offline_access".into()],
        ..Default::default()
    };
    let (_dir, package) = exported(&options);
    let report = validate_path(&package, true).unwrap();
    assert!(report.findings.is_empty(), "{report}");
}

#[test]
fn lab_package_passes_schema_and_structure_and_lists_its_warnings() {
    let (_dir, package) =
        exported(&ExportOptions { profile: Profile::Lab, ..Default::default() });
    let report = validate_path(&package, false).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.errors(), 0);
    assert!(report.findings.iter().all(|f| f.rule != "schema"), "{report}");
    let token =
        report.findings.iter().find(|f| f.rule == "swagger.oauth-token-url").unwrap();
    assert_eq!(token.severity, Severity::Warning);
    assert_eq!(token.path, "$.securityDefinitions.oauth2_auth.tokenUrl");
    insta::assert_json_snapshot!("lab_warnings", report);

    // With --certification the same certification gaps become errors, while
    // the token URL stays a warning.
    let strict = validate_path(&package, true).unwrap();
    assert!(!strict.is_ok());
    for finding in &strict.findings {
        let expected = if finding.rule.starts_with("cert.") {
            Severity::Error
        } else {
            Severity::Warning
        };
        assert_eq!(finding.severity, expected, "{finding}");
    }
}

#[test]
fn microsofts_fixtures_validate() {
    for name in ["multi-auth-oauth.json", "multi-auth-basic-api-key.json"] {
        let path = crate_dir().join("schemas").join(name);
        let report = validate_path(&path, true).unwrap();
        assert!(report.findings.is_empty(), "{name}: {report}");
        // and under the name they would have in a package
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("apiProperties.json");
        std::fs::copy(&path, &copy).unwrap();
        let report = validate_path(&copy, true).unwrap();
        assert!(report.findings.is_empty(), "{name}: {report}");
    }
}

#[test]
fn malformed_json_is_reported_with_file_line_and_column() {
    let path = crate_dir().join("tests/fixtures/broken/json.malformed.json");
    let report = validate_path(&path, false).unwrap();
    assert_eq!(report.findings.len(), 1, "{report}");
    let finding = &report.findings[0];
    assert_eq!((finding.rule, finding.severity), ("json.malformed", Severity::Error));
    assert_eq!((finding.line, finding.column), (Some(5), Some(5)));
    let shown = finding.to_string();
    assert!(shown.contains("json.malformed.json:5:5"), "{shown}");
    assert!(shown.contains("expected `,` or `}`"), "{shown}");
}

#[test]
fn malformed_file_in_a_package_names_the_package_file() {
    let (_dir, package) = exported(&ExportOptions::default());
    std::fs::write(package.join("apiProperties.json"), "{\n  \"properties\": {\n")
        .unwrap();
    let report = validate_path(&package, false).unwrap();
    let finding = report.findings.iter().find(|f| f.rule == "json.malformed").unwrap();
    assert_eq!(finding.file, "apiProperties.json");
    assert_eq!(finding.line, Some(3));
    assert!(!report.is_ok());
}

#[test]
fn report_serializes_for_json_output() {
    let path = crate_dir().join("tests/fixtures/broken/cert.title-words.json");
    let report = validate_path(&path, true).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    let finding = &json["findings"][0];
    assert_eq!(finding["rule"], "cert.title-words");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["path"], "$.info.title");
    assert!(finding["file"].as_str().unwrap().ends_with("cert.title-words.json"));
    assert!(finding.get("line").is_none());
}

#[test]
fn settings_may_rename_the_package_files() {
    let (_dir, package) = exported(&ExportOptions::default());
    std::fs::rename(
        package.join("apiDefinition.swagger.json"),
        package.join("graph.json"),
    )
    .unwrap();
    let settings = serde_json::json!({
        "apiDefinition": "graph.json",
        "apiProperties": "apiProperties.json",
        "icon": "icon.png"
    });
    std::fs::write(package.join("settings.json"), settings.to_string()).unwrap();
    let report = validate_path(&package, true).unwrap();
    assert!(report.findings.is_empty(), "{report}");
}

#[test]
fn a_missing_path_is_an_error_naming_it() {
    let err = validate_path(&crate_dir().join("no-such-package"), false).unwrap_err();
    assert!(err.to_string().contains("no-such-package"), "{err}");
}

#[test]
fn schema_findings_point_at_the_offending_value() {
    let path = crate_dir().join("tests/fixtures/broken/schema.json");
    let report = validate_path(&path, false).unwrap();
    let finding = report.findings.iter().find(|f| f.rule == "schema").unwrap();
    assert_eq!(finding.path, "$.host");
    assert!(finding.message.contains("pattern"), "{}", finding.message);
}

/// The exported package's files, in memory.
fn in_memory(options: &ExportOptions) -> PackageFiles {
    export(options).files().into_iter().map(|(n, b)| (n.to_owned(), b)).collect()
}

#[test]
fn a_package_in_memory_is_validated_as_its_directory_is() {
    let options = ExportOptions { profile: Profile::Lab, ..Default::default() };
    let (_dir, package) = exported(&options);
    for certification in [false, true] {
        let from_disk = validate_path(&package, certification).unwrap();
        let in_memory = validate(&in_memory(&options), certification).unwrap();
        assert!(!in_memory.findings.is_empty(), "the lab profile has warnings");
        assert_eq!(in_memory, from_disk);
    }
    let typed = validate(&in_memory(&ExportOptions::default()), true).unwrap();
    assert!(typed.findings.is_empty(), "{typed}");
}

#[test]
fn a_package_in_memory_reports_missing_renamed_broken_and_non_utf8_files() {
    let mut files = in_memory(&ExportOptions::default());
    let definition = files.remove("apiDefinition.swagger.json").unwrap();
    files.insert("graph.json".into(), definition);
    files.insert("icon.png".into(), b"GIF89a".to_vec());
    let settings =
        serde_json::json!({ "apiDefinition": "graph.json", "icon": "logo.png" });
    files.insert("settings.json".into(), settings.to_string().into_bytes());
    files.insert("apiProperties.json".into(), b"{\n  \"properties\": \n".to_vec());
    let report = validate(&files, true).unwrap();
    let found: Vec<_> =
        report.findings.iter().map(|f| (f.rule, f.file.as_str(), f.line)).collect();
    assert_eq!(
        found,
        [
            ("package.settings-file", "settings.json", None),
            ("json.malformed", "apiProperties.json", Some(3)),
            ("cert.icon", "logo.png", None),
        ],
        "{report}"
    );
    assert!(report.findings[0].message.contains("logo.png"), "{report}");

    files.insert("graph.json".into(), vec![0xff, 0xfe, b'{']);
    let err = validate(&files, false).unwrap_err();
    assert!(err.to_string().starts_with("graph.json: not UTF-8"), "{err}");
}

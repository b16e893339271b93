//! `graphlab flow export`, then `flow check` and `flow run` of what it
//! wrote: the lab's three flows both ways, no secret in any exported file,
//! and each export run against a served emulator with the same action
//! statuses as its source.

use std::{io::Read, path::Path};

use serde_json::Value;

use crate::{graphlab, repo, serve, text, token};

const FLOWS: [&str; 3] =
    ["create-team.json", "create-team-channels.json", "create-team-checked.json"];
const SECRET: &str = "lab-secret-Zq8~not.for.export";
const CLIENT_ID: &str = "0e4c2f4a-1111-4222-8333-944455556666";

/// A lab directory as step 2 leaves it: the app in lab.toml, its secret in
/// app-secret.
fn lab_dir(dir: &Path) -> std::path::PathBuf {
    let lab = dir.join(".lab");
    std::fs::create_dir_all(&lab).unwrap();
    std::fs::write(
        lab.join("lab.toml"),
        format!(
            "[app]\nname = \"Graph Batch Lab\"\nclient_id = \"{CLIENT_ID}\"\n\
             object_id = \"9a9a9a9a-0000-4000-8000-000000000001\"\n"
        ),
    )
    .unwrap();
    std::fs::write(lab.join("app-secret"), SECRET).unwrap();
    lab
}

fn export(lab: &Path, flow: &str, to: &str, out: &Path) {
    let output = graphlab()
        .arg("--lab-dir")
        .arg(lab)
        .args(["flow", "export", &repo(&format!("lab-steps/flows/{flow}")), "--to", to])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{flow} {to}: {}", text(&output.stderr));
    assert!(text(&output.stdout).contains("wrote "), "{}", text(&output.stdout));
}

/// Every file's bytes, and every zip entry's.
fn contents(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    if !bytes.starts_with(b"PK") {
        return vec![(path.display().to_string(), bytes)];
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().unwrap().into_owned(), b)
        })
        .collect()
}

#[test]
fn exports_check_clean_hold_no_secret_and_carry_the_labs_client_id() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_dir(dir.path());
    for flow in FLOWS {
        let stem = flow.trim_end_matches(".json");
        let template = dir.path().join(format!("export/{stem}.logicapp.json"));
        let package = dir.path().join(format!("export/{stem}.powerautomate.zip"));
        export(&lab, flow, "logicapp", &template);
        export(&lab, flow, "powerautomate", &package);
        let parameters =
            dir.path().join(format!("export/{stem}.logicapp.parameters.json"));
        for file in [&template, &parameters, &package] {
            let parts = contents(file);
            assert!(!parts.is_empty());
            for (name, bytes) in parts {
                let body = String::from_utf8_lossy(&bytes);
                assert!(!body.contains(SECRET), "{name} holds the client secret");
            }
        }
        let t: Value =
            serde_json::from_slice(&std::fs::read(&template).unwrap()).unwrap();
        assert_eq!(t["parameters"]["clientId"]["defaultValue"], CLIENT_ID);
        assert_eq!(t["parameters"]["clientSecret"]["type"], "securestring");
        for file in [&template, &package] {
            let out = graphlab().args(["flow", "check"]).arg(file).output().unwrap();
            let stdout = text(&out.stdout);
            assert!(out.status.success(), "{}: {stdout}", file.display());
            assert!(
                stdout.contains(" 0 error(s)") || stdout.contains("\n0 error(s)"),
                "{stdout}"
            );
        }
    }
}

#[test]
fn a_corrupt_package_is_refused_naming_its_part() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_dir(dir.path());
    let package = dir.path().join("p.zip");
    export(&lab, "create-team.json", "powerautomate", &package);
    let mut bytes = std::fs::read(&package).unwrap();
    let name = b"/definition.json";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap() + name.len();
    for b in &mut bytes[at + 10..at + 40] {
        *b ^= 0x5a;
    }
    std::fs::write(&package, &bytes).unwrap();
    for command in ["check", "run"] {
        let out = graphlab()
            .arg("--lab-dir")
            .arg(&lab)
            .args(["--tenant-url", "http://127.0.0.1:9"])
            .args(["flow", command])
            .arg(&package)
            .args(if command == "run" { &["--access-token", "x"][..] } else { &[][..] })
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(all.contains("/definition.json: "), "{command}: {all}");
        assert!(!all.contains("panicked"), "{all}");
    }
}

/// `flow run FILE --json`: action name → status.
/// Exports run with the connector they embed; the source with step 3's.
fn run(
    lab: &Path,
    url: &str,
    token: &str,
    file: &Path,
    team: &str,
) -> Vec<(String, String)> {
    let source = file.starts_with(repo("lab-steps"));
    let connector: &[&str] = if source { &["--connector"] } else { &[] };
    let dir = lab.join("connector").display().to_string();
    let out = graphlab()
        .arg("--lab-dir")
        .arg(lab)
        .args(["--tenant-url", url, "flow", "run"])
        .arg(file)
        .args(["--input", &format!("Name={team}"), "--time-scale", "600", "--json"])
        .args(connector)
        .args(if source { vec![dir.as_str()] } else { vec![] })
        .env("GRAPHLAB_ACCESS_TOKEN", token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}{}",
        file.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["status"], "Succeeded");
    let mut statuses: Vec<(String, String)> = run["actions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["status"].as_str().unwrap_or("").to_owned()))
        .collect();
    statuses.sort();
    statuses
}

#[test]
fn exports_run_against_the_emulator_like_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab_dir(dir.path());
    let state = dir.path().join("state");
    let (mut child, url) = serve(&state, &[]);
    let token = token(&state, &["User.Read", "Group.ReadWrite.All"]);
    let out = graphlab()
        .args(["connector", "export", "--profile", "lab", "--out"])
        .arg(lab.join("connector"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let flow = "create-team-channels.json";
    let template = dir.path().join("t.json");
    let package = dir.path().join("p.zip");
    export(&lab, flow, "logicapp", &template);
    export(&lab, flow, "powerautomate", &package);
    let source = Path::new(&repo(&format!("lab-steps/flows/{flow}"))).to_path_buf();
    let expected = run(&lab, &url, &token, &source, "CliSource");
    assert_eq!(expected.len(), 4, "{expected:?}");
    assert_eq!(run(&lab, &url, &token, &template, "CliTemplate"), expected);
    assert_eq!(run(&lab, &url, &token, &package, "CliPackage"), expected);
    child.kill().unwrap();
    child.wait().unwrap();
}

//! Architecture invariant: the connector exporter does no network I/O. Its
//! dependency tree (read from Cargo.lock, which lists every dependency any
//! enabled feature pulls in) holds no HTTP, TLS or socket crate, and its
//! sources name no networking API.

use std::collections::{BTreeMap, BTreeSet};

use crate::crate_dir;

const NETWORK_CRATES: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "h2",
    "ureq",
    "curl",
    "isahc",
    "surf",
    "attohttpc",
    "tokio",
    "mio",
    "socket2",
    "rustls",
    "native-tls",
    "openssl",
    "openssl-sys",
    "aws-lc-rs",
    "aws-lc-sys",
    "ring",
];
const NETWORK_APIS: &[&str] =
    &["std::net", "TcpStream", "TcpListener", "UdpSocket", "reqwest", "hyper", "tokio"];

/// name -> dependency names, from Cargo.lock (one version per name is
/// enough for a closure that only grows).
fn lock_graph() -> BTreeMap<String, BTreeSet<String>> {
    let lock = std::fs::read_to_string(crate_dir().join("../../Cargo.lock")).unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let name = block
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap()
            .to_owned();
        let deps = graph.entry(name).or_default();
        if let Some(list) = block.split("dependencies = [").nth(1) {
            for line in list.lines().take_while(|l| !l.starts_with(']')) {
                let dep = line.trim().trim_matches(|c| c == '"' || c == ',');
                if let Some(dep_name) = dep.split(' ').next().filter(|d| !d.is_empty()) {
                    deps.insert(dep_name.to_owned());
                }
            }
        }
    }
    graph
}

#[test]
fn the_dependency_tree_has_no_network_crate() {
    let graph = lock_graph();
    let mut seen = BTreeSet::new();
    let mut todo = vec!["graphlab-connector".to_owned()];
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            todo.extend(graph.get(&name).into_iter().flatten().cloned());
        }
    }
    assert!(seen.contains("jsonschema"), "the walk reached the dependencies: {seen:?}");
    let bad: Vec<_> =
        seen.iter().filter(|n| NETWORK_CRATES.contains(&n.as_str())).collect();
    assert!(bad.is_empty(), "graphlab-connector depends on network crates: {bad:?}");
}

#[test]
fn the_sources_use_no_network_api() {
    let mut files = Vec::new();
    let mut dirs = vec![crate_dir().join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 5);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for api in NETWORK_APIS {
            assert!(!text.contains(api), "{} mentions {api}", file.display());
        }
    }
}

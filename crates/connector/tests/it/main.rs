//! Integration tests of `graphlab-connector`: the exported packages
//! (snapshots and the lab's facts), validation of good and broken packages,
//! and the no-network invariant. One test binary for the crate.

mod broken;
mod export;
mod no_network;
mod validate;

use std::path::{Path, PathBuf};

/// The crate's directory.
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Exports `options` into a fresh temporary directory.
pub fn exported(
    options: &graphlab_connector::ExportOptions,
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("package");
    graphlab_connector::export(options).write_to(&out).unwrap();
    (dir, out)
}

//! The workspace's one atomic writer: a file is replaced whole, so a reader
//! sees the old content or the new one, never half of it, and a file that
//! holds a secret is owner-only from the moment it exists.
//!
//! [`write_atomically`] writes a temporary file beside the target (created
//! by `tempfile` with the final mode, a name no other writer picks), syncs
//! it, renames it over the target and syncs the directory. If anything
//! fails, the temporary file is removed and the target is untouched.
//!
//! The lowest crate of the workspace: it depends on `tempfile` alone, so the
//! connector crate (no network, no async) can use it as well as the
//! emulator, the auth crate and the xtask.
#![deny(missing_docs)]

use std::{
    io::{self, Write as _},
    path::Path,
};

/// Who may read a file written by [`write_atomically`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The owner only (mode 0600 on Unix): secrets, keys, tokens.
    Private,
    /// Everyone may read it (mode 0644 on Unix, less if the umask says so).
    Shared,
}

impl Access {
    #[cfg(unix)]
    fn mode(self) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::Shared => 0o644,
        }
    }
}

/// Replaces `path` with `bytes`: a temporary file in the same directory
/// (with `access`'s mode from its creation), synced, renamed over `path`,
/// then the directory synced. The directory must exist. On error nothing
/// is left behind and `path` keeps its old content.
pub fn write_atomically(path: &Path, bytes: &[u8], access: Access) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(access.mode()));
    }
    #[cfg(not(unix))]
    let _ = access;
    // Dropped on any error below, which deletes it.
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// [`write_atomically`] with [`Access::Private`]: a file that holds a secret.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically(path, bytes, Access::Private)
}

/// Makes the rename durable: the directory's entry is synced too.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_private_file_is_replaced_with_mode_0600_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        // An older file readable by all does not keep its mode.
        fs::write(&path, "old").unwrap();
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        assert_eq!(names(dir.path()), ["secret"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_shared_file_is_readable_by_all_but_writable_by_the_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        write_atomically(&path, b"cert", Access::Shared).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"cert");
        assert_eq!(mode(&path) & 0o022, 0, "not writable by others");
        assert_eq!(mode(&path) & 0o600, 0o600);
    }

    #[test]
    fn a_failed_rename_leaves_no_file_behind_and_the_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be replaced by a file.
        let target = dir.path().join("target");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "kept").unwrap();
        let err = write_private(&target, b"new").unwrap_err();
        assert_ne!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert_eq!(names(dir.path()), ["target"]);
        assert_eq!(fs::read_to_string(target.join("inside")).unwrap(), "kept");
    }

    #[test]
    fn a_missing_directory_or_file_name_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_private(&dir.path().join("none/secret"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let err = write_private(Path::new("/"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("names no file"), "{err}");
    }
}

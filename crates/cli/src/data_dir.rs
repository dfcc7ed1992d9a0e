//! The data directory is private to the server's user: the directory is
//! 0700 and every file in it (the SQLite database and its `-wal`/`-shm`
//! files, `bootstrap.json`, `master.key`) 0600. A directory that group or
//! others can write to is refused: whoever can write there can replace the
//! database or the master key.
//!
//! SQLite creates `-wal` and `-shm` with the mode of the database file, so the
//! database file is created 0600 before SQLite opens it, and every file is
//! tightened again once the pool is open.

use std::path::Path;

/// Creates `dir` (0700) or checks an existing one, then tightens the
/// directory to 0700 and its files to 0600.
pub fn prepare(dir: &Path) -> Result<(), String> {
    let unusable =
        |e: std::io::Error| format!("data directory {} is not usable: {e}", dir.display());
    if let Some(file) = file_in_the_way(dir) {
        return Err(if file == dir {
            format!(
                "data directory {} is a file, not a directory; pass another --data-dir \
                 (or move the file away)",
                dir.display()
            )
        } else {
            format!(
                "data directory {} cannot be created: {} is a file, not a directory; \
                 pass another --data-dir (or move the file away)",
                dir.display(),
                file.display()
            )
        });
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(unusable)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(unusable(e)),
    }
    let metadata = std::fs::metadata(dir).map_err(unusable)?;
    if !metadata.is_dir() {
        return Err(format!(
            "data directory {} is not a directory",
            dir.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(format!(
                "data directory {} is writable by group or others (mode {mode:04o}); \
                 make it private first: chmod 700 {}",
                dir.display(),
                dir.display()
            ));
        }
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(unusable)?;
        }
    }
    let probe = dir.join(".gatehouse-write-test");
    std::fs::write(&probe, b"ok").map_err(unusable)?;
    let _ = std::fs::remove_file(&probe);
    tighten_files(dir)
}

/// `dir` itself or the nearest existing ancestor of it, when that is not a
/// directory (creating `dir` would fail with "File exists" or "Not a directory").
fn file_in_the_way(dir: &Path) -> Option<&Path> {
    dir.ancestors()
        .filter(|p| !p.as_os_str().is_empty())
        .find(|p| std::fs::metadata(p).is_ok())
        .filter(|p| !p.is_dir())
}

/// Sets every regular file directly in `dir` that group or others may
/// access to 0600 (symbolic links are left alone).
pub fn tighten_files(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("data directory {} is not usable: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(metadata) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if metadata.is_file() && metadata.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| format!("cannot make {} private: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Creates `path` (0600) when it does not exist yet, leaving an existing
/// file's contents alone; SQLite accepts an empty file as a new database.
pub fn create_private_file(path: &Path) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Writes `bytes` to a new file at `path` (0600, synced); fails when it exists.
pub fn write_new_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes `bytes` to `path` (0600, synced), replacing what was there; a file
/// that existed with a wider mode is narrowed to 0600 first.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_directory_is_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a").join("data");
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        create_private_file(&dir.join("gatehouse.db")).unwrap();
        assert_eq!(mode(&dir.join("gatehouse.db")), 0o600);
    }

    #[test]
    fn existing_directory_and_files_are_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("gatehouse.db");
        std::fs::write(&file, b"").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn writable_by_group_or_others_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        for loose in [0o770, 0o707, 0o777] {
            let dir = tmp.path().join(format!("data-{loose:o}"));
            std::fs::create_dir(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(loose)).unwrap();
            let err = prepare(&dir).unwrap_err();
            assert!(err.contains("writable by group or others"), "{err}");
            assert_eq!(mode(&dir), loose, "left as it was");
        }
    }

    #[test]
    fn a_file_in_the_way_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = prepare(&file).unwrap_err();
        assert!(err.contains("is a file, not a directory"), "{err}");
        assert!(err.contains("--data-dir"), "{err}");
        let err = prepare(&file.join("a").join("b")).unwrap_err();
        assert!(
            err.contains(&format!("{} is a file, not a directory", file.display())),
            "{err}"
        );
    }
}

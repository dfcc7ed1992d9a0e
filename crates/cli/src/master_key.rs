//! Where the master key (the key that seals the signing keys at rest, see
//! `gatehouse_core::sealing`) comes from:
//!
//! 1. `--master-key-file <path>` (or `GATEHOUSE_MASTER_KEY_FILE`): a file
//!    holding the key;
//! 2. `GATEHOUSE_MASTER_KEY`: the key itself;
//! 3. with SQLite only, `<data-dir>/master.key` (0600), which `serve`
//!    generates at first start. With PostgreSQL, nodes share the database and
//!    so must share the key: one of the first two is required.
//!
//! The key's text is base64url of 32 bytes (43 characters, what Gatehouse
//! writes) or 64 hex digits.

use crate::data_dir::write_new_private_file;
use gatehouse_core::sealing::MasterKey;
use std::path::{Path, PathBuf};

pub const MASTER_KEY_FILE: &str = "master.key";
pub const MASTER_KEY_ENV: &str = "GATEHOUSE_MASTER_KEY";

/// Where a resolved key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--master-key-file`.
    File(PathBuf),
    /// `GATEHOUSE_MASTER_KEY`.
    Environment,
    /// `<data-dir>/master.key`; `generated` when this run created it.
    DataDir { path: PathBuf, generated: bool },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) | Self::DataDir { path, .. } => write!(f, "{}", path.display()),
            Self::Environment => f.write_str(MASTER_KEY_ENV),
        }
    }
}

pub struct Resolved {
    pub key: MasterKey,
    pub source: Source,
}

/// Finds the master key. `generate` (for `serve` only) creates
/// `<data-dir>/master.key` when the SQLite setup has none yet.
pub fn resolve(
    file: Option<&Path>,
    data_dir: &Path,
    database_url: &str,
    generate: bool,
) -> Result<Resolved, String> {
    if let Some(path) = file {
        return Ok(Resolved {
            key: read(path)?,
            source: Source::File(path.to_path_buf()),
        });
    }
    if let Some(text) = std::env::var(MASTER_KEY_ENV).ok().filter(|t| !t.is_empty()) {
        let key = MasterKey::parse(&text).map_err(|e| format!("{MASTER_KEY_ENV}: {e}"))?;
        return Ok(Resolved {
            key,
            source: Source::Environment,
        });
    }
    if !database_url.starts_with("sqlite:") {
        return Err(format!(
            "a PostgreSQL database needs the master key that seals the signing keys, the same \
             on every node: pass --master-key-file <path> or set {MASTER_KEY_ENV} \
             (see README.md, \"Master key\")"
        ));
    }
    let path = data_dir.join(MASTER_KEY_FILE);
    if path.exists() || !generate {
        if !path.exists() {
            return Err(format!(
                "no master key at {} (pass --data-dir, --master-key-file or set {MASTER_KEY_ENV})",
                path.display()
            ));
        }
        return Ok(Resolved {
            key: read(&path)?,
            source: Source::DataDir {
                path,
                generated: false,
            },
        });
    }
    let (key, generated) = read_or_generate(&path)?;
    Ok(Resolved {
        key,
        source: Source::DataDir { path, generated },
    })
}

/// Reads the key in `path`.
pub fn read(path: &Path) -> Result<MasterKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the master key {}: {e}", path.display()))?;
    MasterKey::parse(&text).map_err(|e| format!("master key {}: {e}", path.display()))
}

/// Reads the key in `path`, or writes a new random one there (0600) when
/// there is no file; returns whether it was generated.
pub fn read_or_generate(path: &Path) -> Result<(MasterKey, bool), String> {
    let key = MasterKey::generate();
    match write_new_private_file(path, format!("{}\n", key.to_text()).as_bytes()) {
        Ok(()) => Ok((key, true)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((read(path)?, false)),
        Err(e) => Err(format!(
            "cannot write the master key {}: {e}",
            path.display()
        )),
    }
}

/// A replacement key file written (0600, synced) beside the one it replaces
/// (`master.key.new`); [`Staged::commit`] renames it over the old file, so
/// the key file always holds one whole key. Between the two, the new key is
/// in the staged file.
pub struct Staged {
    staged: PathBuf,
    target: PathBuf,
}

impl Staged {
    pub fn write(target: &Path, key: &MasterKey) -> Result<Self, String> {
        let staged = target.with_extension("key.new");
        let _ = std::fs::remove_file(&staged);
        write_new_private_file(&staged, format!("{}\n", key.to_text()).as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", staged.display()))?;
        Ok(Self {
            staged,
            target: target.to_path_buf(),
        })
    }

    /// Renames the staged file over the target; returns the target.
    pub fn commit(self) -> Result<PathBuf, String> {
        std::fs::rename(&self.staged, &self.target).map_err(|e| {
            format!(
                "cannot rename {} to {}: {e}; the signing keys are sealed with the key in {}",
                self.staged.display(),
                self.target.display(),
                self.staged.display()
            )
        })?;
        if let Some(dir) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_read() {
        let tmp = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", tmp.path().join("g.db").display());
        let err = resolve(None, tmp.path(), &url, false).err().unwrap();
        assert!(err.contains("no master key"), "{err}");
        let first = resolve(None, tmp.path(), &url, true).unwrap();
        assert!(matches!(
            first.source,
            Source::DataDir {
                generated: true,
                ..
            }
        ));
        let second = resolve(None, tmp.path(), &url, true).unwrap();
        assert!(matches!(
            second.source,
            Source::DataDir {
                generated: false,
                ..
            }
        ));
        assert_eq!(first.key, second.key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tmp.path().join(MASTER_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn replace_swaps_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(MASTER_KEY_FILE);
        let (old, _) = read_or_generate(&path).unwrap();
        let new = MasterKey::generate();
        let staged = Staged::write(&path, &new).unwrap();
        assert_eq!(read(&path).unwrap(), old, "unchanged until committed");
        assert_eq!(staged.commit().unwrap(), path);
        assert_eq!(read(&path).unwrap(), new);
        assert_ne!(read(&path).unwrap(), old);
        assert!(!tmp.path().join("master.key.new").exists());
    }

    #[test]
    fn an_explicit_file_wins_and_bad_text_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("k");
        std::fs::write(&file, "not a key").unwrap();
        let err = resolve(Some(&file), tmp.path(), "postgres://x/y", false)
            .err()
            .unwrap();
        assert!(err.contains("32 bytes"), "{err}");
    }
}

//! The outbox: each message becomes one `.eml` file, written under a hidden
//! temporary name and renamed into place, so a reader listing `*.eml` never
//! sees a partial file.

use crate::compose::unique_token;
use crate::SendError;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` as `<dir>/<unix-nanos>-<random>.eml`, creating `dir` (0700) if needed.
pub(crate) async fn write(dir: &Path, bytes: Vec<u8>) -> Result<PathBuf, SendError> {
    let dir = dir.to_path_buf();
    let shown = dir.display().to_string();
    tokio::task::spawn_blocking(move || write_blocking(&dir, &bytes))
        .await
        .map_err(|e| SendError::transient(format!("outbox {shown}: {e}")))?
        .map_err(|e| SendError::transient(format!("outbox {shown}: {e}")))
}

fn write_blocking(dir: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    create_dir(dir)?;
    let name = format!("{}.eml", unique_token());
    let temporary = dir.join(format!(".{name}.tmp"));
    let result = write_new(&temporary, bytes).and_then(|()| {
        let path = dir.join(&name);
        fs::rename(&temporary, &path)?;
        Ok(path)
    });
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

//! Showing the first start's credentials once: printed to stdout and written
//! to `<data-dir>/bootstrap.json` with mode 0600, so scripts can pick them up.

use gatehouse_server::bootstrap::BootstrapCredentials;
use std::path::{Path, PathBuf};

/// The file name inside the data directory.
pub const FILE_NAME: &str = "bootstrap.json";

/// Writes the file (owner-only) and prints where it is, with the values.
pub fn announce(data_dir: &Path, credentials: &BootstrapCredentials) -> Result<PathBuf, String> {
    let path = data_dir.join(FILE_NAME);
    let text = serde_json::to_string_pretty(credentials)
        .map_err(|e| format!("cannot encode the bootstrap credentials: {e}"))?;
    crate::data_dir::write_private_file(&path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("  bootstrap: created the Management API, its client and an admin user (shown once):");
    println!(
        "    management audience:      {}",
        credentials.management_audience
    );
    println!(
        "    management client_id:     {}",
        credentials.management_client_id
    );
    println!(
        "    management client_secret: {}",
        credentials.management_client_secret
    );
    println!("    admin email:              {}", credentials.admin_email);
    println!(
        "    admin password:           {}",
        credentials.admin_password
    );
    println!("    saved to {} (mode 0600)", path.display());
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_is_private_json() {
        let dir = tempfile::tempdir().unwrap();
        let creds = BootstrapCredentials {
            management_client_id: "id".into(),
            management_client_secret: "secret".into(),
            management_audience: "http://x/api/v2/".into(),
            admin_email: "admin@localhost".into(),
            admin_password: "pw".into(),
        };
        let path = announce(dir.path(), &creds).unwrap();
        let back: BootstrapCredentials =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back, creds);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

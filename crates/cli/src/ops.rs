//! Operator commands that work on the database directly, without a running
//! server: `migrate`, `export`, `import`.

use crate::config::{DATABASE_FILE, DEFAULT_DATA_DIR};
use clap::Args;
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_store::transfer::{self, TenantDump};
use std::io::Write;
use std::path::PathBuf;

/// Where the database is: `--database-url`, else the SQLite file in `--data-dir`.
#[derive(Debug, Args, Clone)]
pub struct DatabaseArgs {
    /// Data directory holding the embedded SQLite database [default: ./gatehouse-data]
    #[arg(long, env = "GATEHOUSE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite:<path> or postgres://… (wins over --data-dir)
    #[arg(long, env = "GATEHOUSE_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            let dir = self
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
            format!("sqlite:{}", dir.join(DATABASE_FILE).display())
        })
    }

    pub async fn open(&self) -> Result<std::sync::Arc<dyn gatehouse_store::Store>, String> {
        if let Some(dir) = &self.data_dir {
            if self.database_url.is_none() {
                crate::data_dir::prepare(dir)?;
            }
        }
        crate::database::open(&self.url()).await
    }
}

/// `gatehouse migrate`: applies pending migrations and exits.
pub async fn migrate(db: DatabaseArgs) -> Result<(), String> {
    let store = db.open().await?;
    println!("database is up to date ({})", store.backend_name());
    Ok(())
}

/// `gatehouse export`: writes the tenant as JSON to a file (mode 0600) or stdout.
pub async fn export(db: DatabaseArgs, output: Option<PathBuf>) -> Result<(), String> {
    let store = db.open().await?;
    let dump = transfer::export(store.as_ref())
        .await
        .map_err(|e| format!("export failed: {e}"))?;
    let json = serde_json::to_string_pretty(&dump).map_err(|e| e.to_string())?;
    match output {
        Some(path) => {
            crate::data_dir::write_private_file(&path, json.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "exported {} APIs, {} clients, {} users, {} roles to {} (contains secrets)",
                dump.resource_servers.len(),
                dump.clients.len(),
                dump.users.len(),
                dump.roles.len(),
                path.display()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(json.as_bytes())
                .and_then(|_| out.write_all(b"\n"))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// `gatehouse import`: loads a dump into an empty database.
pub async fn import(db: DatabaseArgs, file: PathBuf) -> Result<(), String> {
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let dump: TenantDump = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a Gatehouse export: {e}", file.display()))?;
    let store = db.open().await?;
    let counts = transfer::import(store.as_ref(), &dump, SystemClock.now())
        .await
        .map_err(|e| format!("import failed (is the target database empty?): {e}"))?;
    println!(
        "imported {} signing keys, {} APIs, {} clients, {} client grants, {} roles, {} users, {} Actions",
        counts.signing_keys,
        counts.resource_servers,
        counts.clients,
        counts.client_grants,
        counts.roles,
        counts.users,
        counts.actions
    );
    Ok(())
}

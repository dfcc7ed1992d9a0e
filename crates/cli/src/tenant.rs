//! Opening the local tenant the way a running server sees it: the database,
//! the master key that opens the signing keys, and the issuer. Commands that
//! act as the server in this process (`token`, `explain`) start here.

use crate::config::DEFAULT_DATA_DIR;
use gatehouse_server::AppState;
use gatehouse_store::Page;
use std::path::PathBuf;

/// Where the local tenant lives (the flags every such command shares).
#[derive(Debug, Clone, clap::Args)]
pub struct LocalTenant {
    /// Data directory of the server (master.key, bootstrap.json, SQLite)
    /// [default: ./gatehouse-data]
    #[arg(long, env = "GATEHOUSE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (overrides the SQLite file in --data-dir)
    #[arg(long, env = "GATEHOUSE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// File holding the master key (as for serve) [default: GATEHOUSE_MASTER_KEY,
    /// else <data-dir>/master.key]
    #[arg(long, env = "GATEHOUSE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
}

impl LocalTenant {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    /// Opens an existing tenant: never creates a database or keys. `issuer`
    /// defaults to the one the tenant's Management API was created under.
    pub async fn open(&self, issuer: Option<String>) -> Result<AppState, String> {
        let data_dir = self.data_dir();
        let url = crate::database::existing_url(self.database_url.as_deref(), &data_dir)?;
        let store = crate::database::open(&url).await?;
        if store
            .signing_keys()
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            return Err("this database holds no tenant yet: start `gatehouse serve` once".into());
        }
        let issuer = match issuer {
            Some(issuer) => issuer,
            None => stored_issuer(store.as_ref()).await?,
        };
        let master_key =
            crate::master_key::resolve(self.master_key_file.as_deref(), &data_dir, &url, false)?;
        AppState::load(store, issuer, master_key.key)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The issuer the tenant was created under: its Management API is `<issuer>api/v2/`.
async fn stored_issuer(store: &dyn gatehouse_store::Store) -> Result<String, String> {
    store
        .resource_servers(Page::ALL)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|api| api.is_system)
        .and_then(|api| api.identifier.strip_suffix("api/v2/").map(str::to_string))
        .ok_or_else(|| {
            "this database has no Management API, so no issuer: pass --public-url".into()
        })
}

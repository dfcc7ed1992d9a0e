//! Gatehouse under test: its database (a fresh SQLite directory, or a fresh
//! PostgreSQL database dropped at the end), the tenant the bench seeds (two
//! APIs, ES256 and RS256, a machine client, a web client, users), the codes
//! and refresh tokens it stores exactly as `/authorize` and a first exchange
//! would, and `gatehouse serve` child processes killed when dropped.

use super::{CALLBACK, ES256_API, RS256_API};
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::model::*;
use gatehouse_core::secret::hash_token;
use gatehouse_core::{ids, pkce};
use gatehouse_store::{AuthorizationCode, RefreshFamily, Store, StoredClient, StoredUser};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const SECRET: &str = "bench-secret-0123456789-0123456789-0123456789";
pub const PASSWORD: &str = "bench password for argon2id";
/// The client of client_credentials.
pub const M2M_CLIENT: &str = "bench-m2m";
/// The client of codes, refresh tokens and logins.
pub const WEB_CLIENT: &str = "bench-web";
/// The scope of codes and refresh tokens, as the peer's grants have it.
const USER_SCOPE: &str = "openid offline_access read";
/// As `/authorize` stores codes (routes/authorize/grant.rs `CODE_LIFETIME`).
const CODE_LIFETIME: i64 = 300;
/// Store writes in flight while seeding codes and refresh tokens.
const SEEDING_TASKS: usize = 8;
/// The users codes and refresh tokens belong to, in turn. Logins spread over
/// users; with one user every exchange after the 200th would also revoke
/// that user's oldest refresh-token family (the cap), which is one user's
/// behaviour, not a tenant's.
const TOKEN_USERS: usize = 100;

/// The email of the bench's `i`th login user (one per connection: the
/// lockout lets only a few attempts for one user be in flight at once).
pub fn login_user(i: usize) -> String {
    format!("bench{i}@example.com")
}

/// Where Gatehouse keeps its data for one bench run; removed when dropped.
pub struct Database {
    /// The data directory (SQLite file, outbox, master key).
    dir: PathBuf,
    url: String,
    /// PostgreSQL: the admin URL and the database created for this run.
    postgres: Option<(String, String)>,
}

impl Database {
    /// A fresh SQLite directory, or with `postgres_url` a fresh database
    /// `gatehouse_bench_<random>` on that server.
    pub async fn create(postgres_url: Option<&str>) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("gatehouse-bench-{}", ids::random_hex(6)));
        crate::data_dir::prepare(&dir)?;
        let Some(admin_url) = postgres_url else {
            let url = format!(
                "sqlite:{}",
                dir.join(crate::config::DATABASE_FILE).display()
            );
            return Ok(Self {
                dir,
                url,
                postgres: None,
            });
        };
        let mut database = Self {
            url: String::new(),
            postgres: None,
            dir,
        };
        let name = format!("gatehouse_bench_{}", ids::random_hex(6));
        crate::database::check_reachable(admin_url).await?;
        postgres_execute(admin_url, &format!("CREATE DATABASE \"{name}\"")).await?;
        database.url = gatehouse_store::sql::with_database(admin_url, &name);
        database.postgres = Some((admin_url.to_string(), name));
        crate::data_dir::create_private_file(&database.master_key_file())?;
        std::fs::write(
            database.master_key_file(),
            gatehouse_core::sealing::MasterKey::generate().to_text(),
        )
        .map_err(|e| format!("writing the bench master key: {e}"))?;
        Ok(database)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// The PostgreSQL database's name.
    pub fn name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|(_, name)| name.as_str())
    }

    fn master_key_file(&self) -> PathBuf {
        self.dir.join("bench-master.key")
    }

    /// `gatehouse serve`'s flags for this database.
    fn serve_args(&self) -> Vec<std::ffi::OsString> {
        let mut args = vec!["--data-dir".into(), self.dir.clone().into_os_string()];
        if self.postgres.is_some() {
            args.push("--database-url".into());
            args.push(self.url.clone().into());
            args.push("--master-key-file".into());
            args.push(self.master_key_file().into_os_string());
        }
        args
    }

    /// Starts `gatehouse serve` on this database.
    pub fn spawn(&self) -> Result<ServerProcess, String> {
        ServerProcess::spawn(&self.serve_args())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Its own runtime on its own thread: this may run inside the bench's.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(postgres_execute(
                &admin_url,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            ))
        });
        if let Ok(Err(e)) = dropped.join() {
            eprintln!("gatehouse bench: could not drop the bench database: {e}");
        }
    }
}

async fn postgres_execute(admin_url: &str, sql: &str) -> Result<(), String> {
    use sqlx::{Connection, Executor};
    let timeout = Duration::from_secs(30);
    let work = async {
        let mut connection = sqlx::PgConnection::connect(admin_url).await?;
        connection.execute(sql).await?;
        connection.close().await
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{sql}: {e}")),
        Err(_) => Err(format!("{sql}: no answer within {} s", timeout.as_secs())),
    }
}

/// Creates the bench tenant: the two APIs with their client grants, the
/// machine client, the web client (rotating refresh tokens, PKCE code flow,
/// password grant), `login_users` users for logins and [`TOKEN_USERS`] users
/// for codes and refresh tokens. Returns those.
pub async fn seed(store: &dyn Store, login_users: usize) -> Result<Vec<User>, String> {
    let now = SystemClock.now();
    let password_hash = gatehouse_server::password::hash_password(PASSWORD)?;
    let token_users: Vec<User> = (0..TOKEN_USERS)
        .map(|i| User::new(ids::user_id(), &format!("bench-tokens{i}@example.com"), now))
        .collect();
    let seeded = async {
        for client in [m2m_client(), web_client()] {
            let stored = StoredClient {
                client,
                secret_hash: Some(hash_token(SECRET)),
            };
            store.create_client(&stored, now).await?;
        }
        for (id, identifier, alg) in [
            ("rs_bench_es256", ES256_API, SigningAlg::ES256),
            ("rs_bench_rs256", RS256_API, SigningAlg::RS256),
        ] {
            store
                .create_resource_server(&api(id, identifier, alg), now)
                .await?;
            store
                .create_client_grant(&m2m_grant(id, identifier), now)
                .await?;
        }
        let login_users = (0..login_users).map(|i| User::new(ids::user_id(), &login_user(i), now));
        for user in login_users.chain(token_users.iter().cloned()) {
            let password_hash = Some(password_hash.clone());
            store
                .create_user(&StoredUser {
                    user,
                    password_hash,
                })
                .await?;
        }
        Ok::<(), gatehouse_store::StoreError>(())
    };
    seeded.await.map_err(|e| format!("seeding: {e}"))?;
    Ok(token_users)
}

fn api(id: &str, identifier: &str, alg: SigningAlg) -> ResourceServer {
    let mut api = ResourceServer::new(id, id, identifier);
    api.scopes = vec![ScopeDefinition {
        value: "read".into(),
        description: String::new(),
    }];
    api.signing_alg = alg;
    api.allow_offline_access = true;
    api
}

fn m2m_grant(api_id: &str, identifier: &str) -> ClientGrant {
    ClientGrant {
        id: format!("cgr_{api_id}"),
        client_id: Some(M2M_CLIENT.into()),
        default_for: None,
        audience: identifier.into(),
        scope: vec!["read".into()],
        subject_type: SubjectType::Client,
        allow_all_scopes: false,
    }
}

fn m2m_client() -> Client {
    Client::new(M2M_CLIENT, "Bench M2M", AppType::NonInteractive)
}

fn web_client() -> Client {
    let mut web = Client::new(WEB_CLIENT, "Bench web", AppType::RegularWeb);
    web.grant_types.push("password".into());
    web.callbacks = vec![CALLBACK.into()];
    web.refresh_token.rotation_type = RotationType::Rotating;
    web
}

/// One authorization code as a login would have produced it.
pub struct CodeItem {
    pub code: String,
    pub code_verifier: String,
    pub redirect_uri: String,
}

/// Stores codes and refresh tokens for the web client and the bench's token
/// users (in turn), as `/authorize` and a code exchange store them.
#[derive(Clone)]
pub struct Seeder {
    pub store: Arc<dyn Store>,
    pub users: Vec<User>,
}

impl Seeder {
    /// `n` fresh codes for the ES256 API, PKCE S256.
    pub async fn codes(&self, n: usize) -> Result<Vec<CodeItem>, String> {
        let now = SystemClock.now();
        let items: Vec<CodeItem> = (0..n)
            .map(|_| CodeItem {
                code: ids::random_token(32),
                code_verifier: ids::random_token(32),
                redirect_uri: CALLBACK.into(),
            })
            .collect();
        let records: Vec<(String, AuthorizationCode)> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (hash_token(&item.code), self.code_record(i, item, now)))
            .collect();
        self.in_parallel(records, |store, (hash, record)| async move {
            store.insert_authorization_code(&hash, &record).await
        })
        .await?;
        Ok(items)
    }

    /// The user of the `i`th code or refresh token.
    fn user_id(&self, i: usize) -> String {
        self.users[i % self.users.len()].user_id.clone()
    }

    fn code_record(&self, i: usize, item: &CodeItem, now: i64) -> AuthorizationCode {
        AuthorizationCode {
            client_id: WEB_CLIENT.into(),
            user_id: self.user_id(i),
            redirect_uri: Some(item.redirect_uri.clone()),
            code_challenge: Some(pkce::s256_challenge(&item.code_verifier)),
            code_challenge_method: Some("S256".into()),
            scope: USER_SCOPE.into(),
            audience: Some(ES256_API.into()),
            resource: None,
            nonce: None,
            auth_time: now,
            sid: Some(ids::random_token(16)),
            require_auth_time: false,
            expires_at: now + CODE_LIFETIME,
            actions: Default::default(),
        }
    }

    /// `n` refresh-token families, each with its first token, as a code
    /// exchange starts them; returns the tokens.
    pub async fn refresh_tokens(&self, n: usize) -> Result<Vec<String>, String> {
        let now = SystemClock.now();
        let tokens: Vec<String> = (0..n).map(|_| ids::random_token(32)).collect();
        let families: Vec<(String, RefreshFamily)> = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| (hash_token(token), self.family(i, now)))
            .collect();
        self.in_parallel(families, |store, (hash, family)| async move {
            store
                .create_refresh_family(
                    &family,
                    &hash,
                    gatehouse_server::issue::MAX_ACTIVE_REFRESH_TOKENS,
                    None,
                )
                .await
        })
        .await?;
        Ok(tokens)
    }

    fn family(&self, i: usize, now: i64) -> RefreshFamily {
        RefreshFamily {
            id: ids::random_token(16),
            client_id: WEB_CLIENT.into(),
            user_id: self.user_id(i),
            audience: Some(ES256_API.into()),
            scope: USER_SCOPE.into(),
            auth_time: now,
            sid: Some(ids::random_token(16)),
            created_at: now,
            expires_at: None,
            revoked_at: None,
        }
    }

    /// Runs `write` for every item, [`SEEDING_TASKS`] at a time.
    async fn in_parallel<T, F, Fut>(&self, items: Vec<T>, write: F) -> Result<(), String>
    where
        T: Send + 'static,
        F: Fn(Arc<dyn Store>, T) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = gatehouse_store::StoreResult<()>> + Send,
    {
        let write = Arc::new(write);
        let per_task = items.len().div_ceil(SEEDING_TASKS).max(1);
        let mut items = items.into_iter();
        let mut tasks = Vec::new();
        loop {
            let chunk: Vec<T> = items.by_ref().take(per_task).collect();
            if chunk.is_empty() {
                break;
            }
            let (store, write) = (self.store.clone(), write.clone());
            tasks.push(tokio::spawn(async move {
                for item in chunk {
                    write(store.clone(), item).await?;
                }
                Ok::<(), gatehouse_store::StoreError>(())
            }));
        }
        for task in tasks {
            task.await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("seeding: {e}"))?;
        }
        Ok(())
    }
}

/// The small Action of the "with an Action" measurement: one custom claim, as
/// Auth0's M2M quickstart adds.
const SMALL_ACTION: &str = "exports.onExecuteCredentialsExchange = async (event, api) => {\n  api.accessToken.setCustomClaim('https://bench.example/client', event.client.name);\n};\n";

/// Deploys [`SMALL_ACTION`] and makes it the credentials-exchange flow, as
/// `gatehouse actions deploy` does.
pub async fn bind_small_action(store: &dyn Store) -> Result<(), String> {
    use gatehouse_server::actions_admin::{bind, create, deploy, NewAction};
    let now = SystemClock.now();
    let trigger = gatehouse_core::actions::Trigger::CredentialsExchange;
    let new = NewAction {
        name: "Bench claim".into(),
        code: SMALL_ACTION.into(),
        runtime: None,
        supported_triggers: vec![gatehouse_store::TriggerRef {
            id: trigger.id().into(),
            version: trigger.version().into(),
        }],
        dependencies: serde_json::json!([]),
        secrets: Vec::new(),
    };
    // No secrets, so nothing is sealed under this key.
    let key = gatehouse_core::sealing::MasterKey::generate();
    let bound = async {
        let action = create(store, &key, new, now).await?;
        let action = deploy(store, &action.id, now).await?;
        bind(store, &action, now).await
    };
    bound
        .await
        .map(|_| ())
        .map_err(|e| format!("binding the bench Action: {e}"))
}

/// A `gatehouse serve` child process on `127.0.0.1:<ephemeral>`, killed when
/// dropped.
pub struct ServerProcess {
    child: std::process::Child,
    pub addr: std::net::SocketAddr,
    /// From spawning to the banner, which is printed once the port is bound
    /// and the state (keys, settings) is loaded.
    pub ready_ms: f64,
}

impl ServerProcess {
    const START_TIMEOUT: Duration = Duration::from_secs(60);

    fn spawn(args: &[std::ffi::OsString]) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        let mut command = std::process::Command::new(exe);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GATEHOUSE_") {
                command.env_remove(name);
            }
        }
        let started = Instant::now();
        let mut child = command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting gatehouse serve: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("no stdout from gatehouse serve")?;
        let mut server = Self {
            child,
            addr: ([127, 0, 0, 1], 0).into(),
            ready_ms: 0.0,
        };
        let banner = wait_for_banner(stdout, started + Self::START_TIMEOUT)?;
        server.ready_ms = started.elapsed().as_secs_f64() * 1000.0;
        server.addr = banner
            .parse()
            .map_err(|_| format!("gatehouse serve's banner names no address: {banner}"))?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The address of `gatehouse serve`'s banner. The rest of stdout is drained
/// to the end, so the server never writes to a closed pipe.
fn wait_for_banner(stdout: std::process::ChildStdout, deadline: Instant) -> Result<String, String> {
    use std::io::BufRead;
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = received
            .recv_timeout(left)
            .map_err(|_| "gatehouse serve printed no banner".to_string())?;
        if let Some(rest) = line.strip_prefix("Gatehouse is listening on ") {
            return Ok(rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string());
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A field of `/proc/<pid>/status` in KiB (Linux); `None` elsewhere.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

/// Opens the bench's own connection to the database (seeding while the
/// servers run).
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, String> {
    let settings = gatehouse_store::sql::PoolSettings {
        max_connections: Some(SEEDING_TASKS as u32),
        ..Default::default()
    };
    crate::database::open_with(url, &settings).await
}

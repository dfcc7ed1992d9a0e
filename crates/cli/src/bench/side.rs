//! One server under test as the load generator sees it: where to connect,
//! its endpoints (from its discovery document), its clients and audiences,
//! where its codes and refresh tokens come from, and the process whose
//! memory is read. [`Side::conversations`] builds a scenario's requests.

use super::gatehouse::{self, CodeItem, Seeder};
use super::http::{self, Connection};
use super::load::Conversation;
use super::peer;
use super::scenarios::{encode, Chained, Fixed, Scenario, Supplied, Supply};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A client's id and secret (sent as `client_secret_post`).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub id: String,
    pub secret: String,
}

impl Credentials {
    fn form(&self) -> String {
        format!(
            "client_id={}&client_secret={}",
            encode(&self.id),
            encode(&self.secret)
        )
    }
}

/// Where a side's codes and refresh tokens come from.
pub enum Minter {
    /// Stored in Gatehouse's database by the bench.
    Gatehouse(Box<Seeder>),
    /// `POST /bench/mint` on the peer.
    Peer,
}

/// The paths of the endpoints the scenarios use.
#[derive(Debug, Clone)]
pub struct Paths {
    pub discovery: String,
    pub jwks: String,
    pub token: String,
}

pub struct Side {
    /// "Gatehouse" or "target", for progress lines.
    pub label: &'static str,
    /// Connection `i` goes to `targets[i % len]` (two Gatehouse nodes).
    pub targets: Vec<SocketAddr>,
    pub host: String,
    pub paths: Paths,
    /// The client of client_credentials.
    pub machine: Credentials,
    /// The client of codes, refresh tokens and logins.
    pub web: Credentials,
    /// `audience` (Auth0) or `resource` (RFC 8707).
    pub audience_param: String,
    pub es256_audience: String,
    pub rs256_audience: String,
    /// The process whose VmRSS and VmHWM are reported.
    pub pid: Option<u32>,
    pub minter: Minter,
}

/// A scenario's requests, ready for one window.
pub enum Prepared {
    /// Connection `i` sends `requests[i % len]` on every turn.
    Fixed(Vec<Vec<u8>>),
    /// Every request is used once (codes).
    Supplied(Arc<Supply<Vec<u8>>>),
    /// Refresh-token chains started from these tokens.
    Chained(Arc<Supply<String>>),
}

const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

impl Side {
    /// Reads the endpoints from the discovery document at `targets[0]`.
    pub async fn discover(targets: &[SocketAddr], host: &str) -> Result<Paths, String> {
        let addr = *targets.first().ok_or("no server to discover")?;
        let mut connection = Connection::new(addr);
        let request = http::get(host, DISCOVERY_PATH);
        let status = tokio::time::timeout(Duration::from_secs(30), connection.exchange(&request))
            .await
            .map_err(|_| format!("no discovery document from {addr} within 30 s"))?
            .map_err(|e| format!("discovery at {addr}: {e}"))?;
        let document: serde_json::Value = serde_json::from_slice(connection.body())
            .map_err(|e| format!("discovery at {addr} answered {status} without JSON: {e}"))?;
        let path = |field: &str| {
            document[field]
                .as_str()
                .map(url_path)
                .ok_or_else(|| format!("the discovery document at {addr} has no {field}"))
        };
        Ok(Paths {
            discovery: DISCOVERY_PATH.into(),
            jwks: path("jwks_uri")?,
            token: path("token_endpoint")?,
        })
    }

    /// The requests of `scenario` for one window; `codes` is how many codes
    /// to prepare for [`Scenario::AuthorizationCode`], `chains` how many
    /// refresh tokens for [`Scenario::RefreshToken`].
    pub async fn prepare(
        &self,
        scenario: Scenario,
        concurrency: usize,
        codes: usize,
        chains: usize,
    ) -> Result<Prepared, String> {
        let token = |form: String| http::post_form(&self.host, &self.paths.token, &form);
        Ok(match scenario {
            Scenario::Discovery => {
                Prepared::Fixed(vec![http::get(&self.host, &self.paths.discovery)])
            }
            Scenario::Jwks => Prepared::Fixed(vec![http::get(&self.host, &self.paths.jwks)]),
            Scenario::ClientCredentialsEs256 => {
                Prepared::Fixed(vec![token(self.client_credentials(&self.es256_audience))])
            }
            Scenario::ClientCredentialsRs256 | Scenario::ClientCredentialsAction => {
                Prepared::Fixed(vec![token(self.client_credentials(&self.rs256_audience))])
            }
            Scenario::Login => Prepared::Fixed(
                (0..concurrency.max(1))
                    .map(|i| token(self.login(i)))
                    .collect(),
            ),
            Scenario::AuthorizationCode => {
                let items = self.codes(codes).await?;
                let requests = items.iter().map(|item| token(self.code_exchange(item)));
                Prepared::Supplied(Supply::new(requests.collect()))
            }
            Scenario::RefreshToken => {
                Prepared::Chained(Supply::new(self.refresh_tokens(chains).await?))
            }
        })
    }

    /// Connection `i`'s conversation for a prepared scenario.
    pub fn conversation(
        &self,
        scenario: Scenario,
        prepared: &Prepared,
        i: usize,
    ) -> Box<dyn Conversation> {
        let expect = scenario.expect();
        match prepared {
            Prepared::Fixed(requests) => {
                Box::new(Fixed::new(requests[i % requests.len()].clone(), expect))
            }
            Prepared::Supplied(supply) => Box::new(Supplied::new(supply.clone(), expect)),
            Prepared::Chained(supply) => {
                let (host, path) = (self.host.clone(), self.paths.token.clone());
                Box::new(Chained::new(
                    supply.clone(),
                    (
                        "grant_type=refresh_token&refresh_token=".into(),
                        format!("&{}", self.web.form()),
                    ),
                    Box::new(move |form| http::post_form(&host, &path, form)),
                    expect,
                ))
            }
        }
    }

    fn client_credentials(&self, audience: &str) -> String {
        format!(
            "grant_type=client_credentials&{}&{}={}&scope=read",
            self.machine.form(),
            self.audience_param,
            encode(audience)
        )
    }

    fn login(&self, i: usize) -> String {
        format!(
            "grant_type=password&{}&username={}&password={}",
            self.web.form(),
            encode(&gatehouse::login_user(i)),
            encode(gatehouse::PASSWORD)
        )
    }

    fn code_exchange(&self, item: &CodeItem) -> String {
        format!(
            "grant_type=authorization_code&code={}&code_verifier={}&redirect_uri={}&{}",
            encode(&item.code),
            encode(&item.code_verifier),
            encode(&item.redirect_uri),
            self.web.form()
        )
    }

    async fn codes(&self, n: usize) -> Result<Vec<CodeItem>, String> {
        match &self.minter {
            Minter::Gatehouse(seeder) => seeder.codes(n).await,
            Minter::Peer => {
                peer::mint_codes(self.targets[0], &self.host, n, &self.es256_audience).await
            }
        }
    }

    async fn refresh_tokens(&self, n: usize) -> Result<Vec<String>, String> {
        match &self.minter {
            Minter::Gatehouse(seeder) => seeder.refresh_tokens(n).await,
            Minter::Peer => {
                peer::mint_refresh_tokens(self.targets[0], &self.host, n, &self.es256_audience)
                    .await
            }
        }
    }

    /// A field of the side's process status in KiB, when its pid is known.
    pub fn memory_kib(&self, field: &str) -> Option<u64> {
        self.pid.and_then(|pid| gatehouse::status_kib(pid, field))
    }
}

/// The path (and query) of an absolute URL.
fn url_path(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => url[after_scheme + slash..].to_string(),
        None => "/".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn url_path_keeps_path_and_query() {
        assert_eq!(super::url_path("http://127.0.0.1:3001/token"), "/token");
        assert_eq!(
            super::url_path("http://h/oauth/token?x=1"),
            "/oauth/token?x=1"
        );
        assert_eq!(super::url_path("http://h"), "/");
    }
}

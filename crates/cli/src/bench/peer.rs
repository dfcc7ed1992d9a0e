//! A target server (the peer kept in bench/peers/, or any OAuth server with
//! the same client): its address from `--target-url` (loopback only), and
//! its codes and refresh tokens minted through `POST /bench/mint` (the peer
//! protocol), at most 20,000 per call.

use super::gatehouse::CodeItem;
use super::http::{self, Connection};
use std::net::SocketAddr;
use std::time::Duration;

/// Items per mint call: a minted code is about 150 bytes of JSON, so 4,000
/// stay well inside the load generator's 1 MiB answer limit (the peer itself
/// takes up to 20,000).
const MINT_BATCH: usize = 4_000;
const MINT_TIMEOUT: Duration = Duration::from_secs(120);

/// `http://host:port[/…]` → the loopback address to connect to and the
/// `Host` header; anything but plain HTTP on a loopback address is refused.
pub async fn parse_target(url: &str) -> Result<(SocketAddr, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--target-url must be http://127.0.0.1:<port>, not {url:?}"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let with_port = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addrs = tokio::net::lookup_host(with_port.as_str())
        .await
        .map_err(|e| format!("--target-url {url}: {e}"))?;
    let addr = addrs
        .into_iter()
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| format!("--target-url {url} is not on a loopback address"))?;
    Ok((addr, authority.to_string()))
}

/// `POST /bench/mint` with `{"kind", "n", "resource"}` in batches; the items.
async fn mint(
    addr: SocketAddr,
    host: &str,
    kind: &str,
    n: usize,
    resource: &str,
) -> Result<Vec<serde_json::Value>, String> {
    let mut connection = Connection::new(addr);
    let mut items = Vec::with_capacity(n);
    while items.len() < n {
        let batch = (n - items.len()).min(MINT_BATCH);
        let body = serde_json::json!({ "kind": kind, "n": batch, "resource": resource });
        let request = http::post_json(host, "/bench/mint", &body.to_string());
        let status = tokio::time::timeout(MINT_TIMEOUT, connection.exchange(&request))
            .await
            .map_err(|_| "the peer minted nothing within 120 s".to_string())?
            .map_err(|e| format!("POST /bench/mint: {e}"))?;
        let answer: serde_json::Value = serde_json::from_slice(connection.body())
            .map_err(|e| format!("POST /bench/mint answered {status} without JSON: {e}"))?;
        let minted = answer["items"]
            .as_array()
            .filter(|list| (200..300).contains(&status) && list.len() == batch)
            .ok_or_else(|| format!("POST /bench/mint answered {status}: {answer}"))?;
        items.extend(minted.iter().cloned());
    }
    Ok(items)
}

pub async fn mint_codes(
    addr: SocketAddr,
    host: &str,
    n: usize,
    resource: &str,
) -> Result<Vec<CodeItem>, String> {
    let field = |item: &serde_json::Value, name: &str| {
        item[name]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("a minted code without {name}: {item}"))
    };
    mint(addr, host, "code", n, resource)
        .await?
        .iter()
        .map(|item| {
            Ok(CodeItem {
                code: field(item, "code")?,
                code_verifier: field(item, "code_verifier")?,
                redirect_uri: field(item, "redirect_uri")?,
            })
        })
        .collect()
}

pub async fn mint_refresh_tokens(
    addr: SocketAddr,
    host: &str,
    n: usize,
    resource: &str,
) -> Result<Vec<String>, String> {
    mint(addr, host, "refresh", n, resource)
        .await?
        .iter()
        .map(|item| {
            item["refresh_token"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("a minted item without refresh_token: {item}"))
        })
        .collect()
}

//! The end user's IP address, which the lockout and the rate limits count by.
//!
//! By default it is the TCP peer. Behind a load balancer or reverse proxy that
//! is the proxy for everyone, so one attacker would lock every user out. With
//! `--trusted-proxies` (address ranges), a request whose peer is a trusted
//! proxy is counted by the right-most `X-Forwarded-For` address that is not a
//! trusted proxy itself: the first hop no trusted party vouches for. Addresses
//! a client wrote further left are never believed, and a request from an
//! untrusted peer is counted by its peer whatever headers it sends.

use axum::http::HeaderMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address (`192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_matches(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_matches(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of `width` bits of `a` and `b` agree.
fn prefix_matches(a: u128, b: u128, prefix: u8, width: u8) -> bool {
    let ignored = u32::from(width - prefix);
    let mask = u128::MAX.checked_shl(ignored).unwrap_or(0);
    (a & mask) == (b & mask)
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let bad = || format!("{text:?} is not an IP address or range like 10.0.0.0/8");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = IpAddr::from_str(address).map_err(|_| bad())?.to_canonical();
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(bad)?,
            None => width,
        };
        Ok(Self { network, prefix })
    }
}

/// The proxies whose `X-Forwarded-For` is believed; empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpRange]>);

impl TrustedProxies {
    /// Parses a comma-separated list of ranges (`10.0.0.0/8, 192.0.2.7`).
    pub fn parse_list(list: &str) -> Result<Self, String> {
        let ranges = list
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(IpRange::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(ranges.into()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client's address for a request from `peer` with these headers.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = IpAddr::from_str(hop.trim()) else {
                // Garbage written by someone: the last address we could
                // believe is the answer.
                return client;
            };
            client = ip.to_canonical();
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn ranges_parse_and_match() {
        let private: IpRange = "10.0.0.0/8".parse().unwrap();
        assert!(private.contains(ip("10.200.1.2")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(private.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        let one: IpRange = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: IpRange = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")) && !all.contains(ip("::1")));
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "proxy.example",
            "10.0.0.0/x",
        ] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad:?}");
        }
        assert!(TrustedProxies::parse_list("10.0.0.0/8, ::1").is_ok());
        assert!(TrustedProxies::parse_list("10.0.0.0/8, nonsense").is_err());
        assert!(TrustedProxies::parse_list("").unwrap().is_empty());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let headers = forwarded(&["198.51.100.1"]);
        assert_eq!(
            none.client_ip(ip("203.0.113.9"), &headers),
            ip("203.0.113.9")
        );

        let proxies = TrustedProxies::parse_list("10.0.0.0/8").unwrap();
        // An untrusted peer's header is ignored.
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), &headers),
            ip("203.0.113.9")
        );
        // The right-most untrusted hop wins; what the client wrote to its left does not.
        let chain = forwarded(&["1.1.1.1, 198.51.100.1", "10.0.0.2"]);
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &chain),
            ip("198.51.100.1")
        );
        // Only proxies in the chain: the left-most one.
        let inner = forwarded(&["10.0.0.3"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &inner), ip("10.0.0.3"));
        // No header: the proxy itself.
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        // Garbage stops the walk at the last believable address.
        let junk = forwarded(&["198.51.100.1, not-an-ip, 10.0.0.2"]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &junk), ip("10.0.0.2"));
        // IPv4-mapped peers count as IPv4.
        assert_eq!(
            proxies.client_ip(ip("::ffff:10.0.0.1"), &headers),
            ip("198.51.100.1")
        );
    }
}

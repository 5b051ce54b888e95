//! Who sent a request: the connection's address, or, when that address is a
//! trusted proxy, the nearest untrusted address in `X-Forwarded-For`; and
//! the per-source allow-lists checked against it.
//!
//! `X-Forwarded-For` is written by every hop, so anything left of the last
//! trusted proxy's entry may be forged by the client: the list is read from
//! the right, skipping trusted proxies, and the first other entry is the
//! client. A peer that is not a trusted proxy cannot claim another address.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::config::ConfigError;

/// A list of networks (`10.0.0.0/8`, `2001:db8::/32`, or a bare address).
#[derive(Debug, Clone, Default)]
pub struct Cidrs(Vec<IpNet>);

impl Cidrs {
    /// Parses a config list; `key` names it in the error.
    pub fn parse(items: &[String], key: &str) -> Result<Cidrs, ConfigError> {
        let mut nets = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let text = item.trim();
            let net = text
                .parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        format!("{key}[{i}]"),
                        format!("{item:?} is not an IP address or CIDR network"),
                    )
                })?;
            nets.push(net);
        }
        Ok(Cidrs(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:10.1.2.3`) is
/// matched as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The client's address: the peer itself, or, when the peer is a trusted
/// proxy, the rightmost `X-Forwarded-For` entry that is not one. `None`
/// when an entry that would decide it cannot be read as an address.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &Cidrs) -> Option<IpAddr> {
    let mut client = canonical(peer.ip());
    if !trusted.contains(client) {
        return Some(client);
    }
    // Several headers count as one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().map(|s| s.split(',')).into_iter().flatten())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    for entry in entries.iter().rev() {
        client = canonical(parse_entry(entry)?);
        if !trusted.contains(client) {
            return Some(client);
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` entry: an address, maybe with a port
/// (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(items: &[&str]) -> Cidrs {
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        Cidrs::parse(&items, "k").unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn parses_networks_and_bare_addresses_and_names_bad_entries() {
        let c = cidrs(&["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]);
        assert!(c.contains("10.200.1.1".parse().unwrap()));
        assert!(c.contains("192.0.2.7".parse().unwrap()));
        assert!(!c.contains("192.0.2.8".parse().unwrap()));
        assert!(c.contains("2001:db8::5".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.2.3".parse().unwrap()));
        let err =
            Cidrs::parse(&["10.0.0.0/8".into(), "ten".into()], "sources[0].allow_ips").unwrap_err();
        assert_eq!(err.key, "sources[0].allow_ips[1]");
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let trusted = cidrs(&["127.0.0.1"]);
        let proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        let h = xff(&["203.0.113.5"]);
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            Some("203.0.113.5".parse().unwrap())
        );
        assert_eq!(
            client_ip(stranger, &h, &trusted),
            Some("198.51.100.9".parse().unwrap())
        );
        // A forged entry left of the real one is never taken.
        let h = xff(&["10.0.0.1, 203.0.113.5"]);
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            Some("203.0.113.5".parse().unwrap())
        );
        // Chains of trusted proxies are walked through.
        let h = xff(&["203.0.113.5", "127.0.0.1"]);
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            Some("203.0.113.5".parse().unwrap())
        );
        assert_eq!(client_ip(proxy, &xff(&["junk"]), &trusted), None);
        assert_eq!(
            client_ip(proxy, &HeaderMap::new(), &trusted),
            Some("127.0.0.1".parse().unwrap())
        );
    }
}

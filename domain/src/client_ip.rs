//! The client's real address, for rate limits and logs.
//!
//! The socket's peer is the client, unless the peer is a configured trusted proxy: then the proxy's
//! `X-Forwarded-For` is read from the right, skipping trusted proxies, and the first other address is the
//! client. Anyone else's `X-Forwarded-For` (or `CF-Connecting-IP`, `X-Real-IP`) is ignored: a client cannot
//! pick its own address and escape its limit.

use http::HeaderMap;
use std::net::IpAddr;

/// The client's address as the server worked it out, put in each request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted_proxies.contains(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 9));
    const PROXY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let spoofed = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("cf-connecting-ip", "5.6.7.8"),
            ("x-real-ip", "9.9.9.9"),
        ]);
        assert_eq!(client_ip(PEER, &spoofed, &[]), PEER);
        assert_eq!(client_ip(PEER, &spoofed, &[PROXY]), PEER);
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client() {
        // The client prepended a fake address; the proxy appended the real one.
        let forwarded = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.5")]);
        assert_eq!(
            client_ip(PROXY, &forwarded, &[PROXY]),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        let chained = headers(&[("x-forwarded-for", "203.0.113.5"), ("x-forwarded-for", "10.0.0.3")]);
        let trusted = ["10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap()];
        assert_eq!(
            client_ip(PROXY, &chained, &trusted),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(PROXY, &HeaderMap::new(), &[PROXY]),
            PROXY,
            "no header: the proxy itself"
        );
    }
}

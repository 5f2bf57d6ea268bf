//! Does an email domain receive mail? One DNS query for its MX records, over UDP, to the configured
//! resolver (or the first `nameserver` of `/etc/resolv.conf`).
//!
//! The answer is one of three: the domain has MX records; it provably has none (the name does not exist,
//! or exists without MX records); or DNS could not say (no resolver, a timeout, a server failure). Only the
//! second refuses an address; a machine without working DNS accepts every address, as it must.

use std::{net::SocketAddr, time::Duration};
use tokio::net::UdpSocket;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MxCheck {
    Found,
    NoMail,
    Unknown,
}

/// Where MX questions go.
#[derive(Clone, Debug)]
pub struct MxResolver {
    server: Option<SocketAddr>,
    timeout: Duration,
}

impl MxResolver {
    /// `server` overrides the system's resolver (tests run their own DNS server).
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> MxResolver {
        MxResolver { server, timeout }
    }

    /// The system's resolver, from `/etc/resolv.conf`.
    pub fn system(timeout: Duration) -> MxResolver {
        MxResolver::new(None, timeout)
    }

    fn server(&self) -> Option<SocketAddr> {
        self.server.or_else(|| {
            let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
            conf.lines().find_map(|line| {
                let address = line.trim().strip_prefix("nameserver")?.trim();
                address
                    .parse::<std::net::IpAddr>()
                    .ok()
                    .map(|ip| SocketAddr::new(ip, 53))
            })
        })
    }

    /// Asks whether `domain` has MX records.
    pub async fn check(&self, domain: &str) -> MxCheck {
        let Some(server) = self.server() else {
            return MxCheck::Unknown;
        };
        let Some(query) = encode_query(domain) else {
            return MxCheck::NoMail;
        };
        let result = tokio::time::timeout(self.timeout, async {
            let bind: SocketAddr = if server.is_ipv4() {
                "0.0.0.0:0".parse().expect("a socket address")
            } else {
                "[::]:0".parse().expect("a socket address")
            };
            let socket = UdpSocket::bind(bind).await?;
            socket.connect(server).await?;
            socket.send(&query).await?;
            let mut buffer = [0u8; 1500];
            loop {
                let n = socket.recv(&mut buffer).await?;
                // Ignore anything that is not the answer to this question.
                if n >= 12 && buffer[..2] == query[..2] {
                    return Ok::<_, std::io::Error>(buffer[..n].to_vec());
                }
            }
        })
        .await;
        match result {
            Ok(Ok(answer)) => read_answer(&answer),
            Ok(Err(error)) => {
                tracing::info!(%error, domain, "MX check: DNS not reachable; address accepted");
                MxCheck::Unknown
            }
            Err(_) => {
                tracing::info!(domain, "MX check: DNS timed out; address accepted");
                MxCheck::Unknown
            }
        }
    }
}

const TYPE_MX: u16 = 15;

/// A standard query (recursion desired) for the MX records of `domain`.
fn encode_query(domain: &str) -> Option<Vec<u8>> {
    let id = u16::from_le_bytes(*crate::crypto::random_bytes::<2>());
    let mut out = Vec::with_capacity(32 + domain.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in domain.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&TYPE_MX.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    Some(out)
}

/// Skips a (possibly compressed) name starting at `at`; returns the offset after it.
fn skip_name(message: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *message.get(at)? as usize;
        if len == 0 {
            return Some(at + 1);
        }
        if len & 0xc0 == 0xc0 {
            return Some(at + 2);
        }
        at += 1 + len;
    }
}

fn read_answer(message: &[u8]) -> MxCheck {
    if message.len() < 12 {
        return MxCheck::Unknown;
    }
    match message[3] & 0x0f {
        0 => {}
        // NXDOMAIN: the domain does not exist.
        3 => return MxCheck::NoMail,
        _ => return MxCheck::Unknown,
    }
    let questions = u16::from_be_bytes([message[4], message[5]]);
    let answers = u16::from_be_bytes([message[6], message[7]]);
    let mut at = 12;
    for _ in 0..questions {
        let Some(next) = skip_name(message, at) else {
            return MxCheck::Unknown;
        };
        at = next + 4;
    }
    for _ in 0..answers {
        let Some(next) = skip_name(message, at) else {
            return MxCheck::Unknown;
        };
        let Some(header) = message.get(next..next + 10) else {
            return MxCheck::Unknown;
        };
        let kind = u16::from_be_bytes([header[0], header[1]]);
        let length = u16::from_be_bytes([header[8], header[9]]) as usize;
        if kind == TYPE_MX {
            return MxCheck::Found;
        }
        at = next + 10 + length;
    }
    MxCheck::NoMail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(rcode: u8, answers: &[(u16, &[u8])]) -> Vec<u8> {
        let query = encode_query("example.com").unwrap();
        let mut out = query.clone();
        out[2] = 0x81;
        out[3] = 0x80 | rcode;
        out[7] = answers.len() as u8;
        for (kind, data) in answers {
            out.extend_from_slice(&[0xc0, 12]);
            out.extend_from_slice(&kind.to_be_bytes());
            out.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            out.extend_from_slice(&(data.len() as u16).to_be_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn answers_are_read_as_found_none_or_unknown() {
        assert_eq!(read_answer(&response(0, &[(TYPE_MX, &[0, 10, 0])])), MxCheck::Found);
        // A CNAME first, then the MX.
        assert_eq!(
            read_answer(&response(0, &[(5, &[3, b'a', b'b', b'c', 0]), (TYPE_MX, &[0, 10, 0])])),
            MxCheck::Found
        );
        assert_eq!(read_answer(&response(0, &[])), MxCheck::NoMail);
        assert_eq!(read_answer(&response(3, &[])), MxCheck::NoMail);
        assert_eq!(read_answer(&response(2, &[])), MxCheck::Unknown);
        assert_eq!(read_answer(&[1, 2, 3]), MxCheck::Unknown);
    }

    #[test]
    fn a_query_names_the_domain_in_labels() {
        let query = encode_query("mail.example.org").unwrap();
        assert_eq!(&query[12..], b"\x04mail\x07example\x03org\x00\x00\x0f\x00\x01");
        assert_eq!(encode_query("bad..domain"), None);
    }
}

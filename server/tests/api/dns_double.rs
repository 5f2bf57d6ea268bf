//! A small DNS server for the MX check: `shop.example` and `customer.example` have MX records,
//! `nomail.example` does not exist (NXDOMAIN), `bare.example` exists without MX records, and
//! `silent.example` never gets an answer (as when DNS is unreachable).

use tokio::net::UdpSocket;

fn question_name(query: &[u8]) -> Option<(String, usize)> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *query.get(at)? as usize;
        at += 1;
        if len == 0 {
            return Some((labels.join("."), at + 4));
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_lowercase());
        at += len;
    }
}

fn answer(query: &[u8]) -> Option<Vec<u8>> {
    let (name, end) = question_name(query)?;
    let mut out = query[..end].to_vec();
    out[2] = 0x81;
    match name.as_str() {
        "shop.example" | "customer.example" | "example.com" => {
            out[3] = 0x80;
            out[7] = 1;
            // The MX record: a pointer to the question's name, type MX, class IN, TTL 60, preference 10,
            // exchange "mx" under the same name.
            out.extend_from_slice(&[0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 7, 0, 10, 2, b'm', b'x', 0xc0, 12]);
        }
        "nomail.example" => out[3] = 0x83,
        "silent.example" => return None,
        _ => out[3] = 0x80,
    }
    Some(out)
}

/// Starts the server; returns its address.
pub async fn start() -> std::net::SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buffer).await {
            if let Some(reply) = answer(&buffer[..n]) {
                let _ = socket.send_to(&reply, peer).await;
            }
        }
    });
    address
}

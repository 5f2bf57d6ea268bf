//! A small SMTP server on loopback that keeps what it receives. It speaks enough of RFC 5321 for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and can be stopped and started again on the same port.

use std::sync::{Arc, Mutex};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::{JoinHandle, JoinSet},
};

pub type Inbox = Arc<Mutex<Vec<String>>>;

pub struct SmtpSink {
    pub port: u16,
    pub inbox: Inbox,
    task: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start(port: u16, inbox: Inbox) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the sink's port is free");
        let port = listener.local_addr().unwrap().port();
        let sessions_inbox = inbox.clone();
        let task = tokio::spawn(async move {
            // Sessions live in this set: stopping the sink ends them too, as a real outage would.
            let mut sessions = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sessions.spawn(session(stream, sessions_inbox.clone()));
            }
        });
        SmtpSink { port, inbox, task }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops listening and drops every open connection.
    pub async fn stop(self) -> (u16, Inbox) {
        self.task.abort();
        let _ = self.task.await;
        (self.port, self.inbox)
    }
}

async fn session(stream: TcpStream, inbox: Inbox) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let command = line.to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if command.starts_with("DATA") {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut message = String::new();
            while let Some(data) = lines.next_line().await? {
                if data == "." {
                    break;
                }
                message.push_str(&data);
                message.push('\n');
            }
            inbox.lock().unwrap().push(message);
            b"250 queued\r\n"
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if ["HELO", "MAIL", "RCPT", "RSET", "NOOP"]
            .iter()
            .any(|c| command.starts_with(c))
        {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

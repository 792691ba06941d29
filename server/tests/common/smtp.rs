//! A tiny SMTP sink on tokio: accepts EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT on
//! loopback, and records every message it is given (envelope and raw text, dot-unstuffed).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message as the sink received it.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    /// The envelope sender (MAIL FROM).
    pub from: String,
    /// The envelope recipients (RCPT TO).
    pub to: Vec<String>,
    /// The message: headers and body, CRLF line ends.
    pub data: String,
}

impl Mail {
    /// The whole SMTP exchange that carried it: envelope and message.
    pub fn everything(&self) -> String {
        format!("{}\n{}\n{}", self.from, self.to.join("\n"), self.data)
    }

    /// The message with a quoted-printable body decoded (soft line breaks joined).
    pub fn text(&self) -> String {
        let qp = self
            .data
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: quoted-printable");
        if !qp {
            return self.data.clone();
        }
        let joined = self.data.replace("=\r\n", "");
        let b = joined.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'=', Some(v)) => {
                    out.push(v);
                    i += 3;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A running sink.
pub struct Sink {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    task: JoinHandle<()>,
}

impl Sink {
    /// Listens on `addr` (port 0 picks one).
    pub async fn start(addr: SocketAddr) -> Sink {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP sink");
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let m = mails.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let m = m.clone();
                tokio::spawn(async move {
                    let _ = session(conn, m).await;
                });
            }
        });
        Sink { addr, mails, task }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Stops listening.
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn address(arg: &str) -> String {
    let a = arg.split_once(':').map_or(arg, |(_, a)| a).trim();
    let a = a.split_whitespace().next().unwrap_or("");
    a.trim_start_matches('<').trim_end_matches('>').to_string()
}

async fn session(conn: TcpStream, mails: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (r, mut w) = conn.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut mail = Mail::default();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end();
        let verb = cmd
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                mail = Mail::default();
                b"250 OK\r\n"
            }
            "MAIL" => {
                mail = Mail {
                    from: address(&cmd[4..]),
                    ..Mail::default()
                };
                b"250 OK\r\n"
            }
            "RCPT" => {
                mail.to.push(address(&cmd[4..]));
                b"250 OK\r\n"
            }
            "DATA" => {
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    mail.data.push_str(l);
                }
                mails.lock().unwrap().push(std::mem::take(&mut mail));
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                w.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        w.write_all(reply).await?;
    }
}

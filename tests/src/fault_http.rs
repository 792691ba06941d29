//! An HTTP/1.1 front that forwards requests to a server and answers some of them itself, as
//! scripted: the intake server "answering" 503, 429 with `Retry-After`, or 409, on demand.
//!
//! [`FaultProxy`](crate::proxy::FaultProxy) works on bytes and cannot tell one request from
//! the next; this front reads each request whole (head and `Content-Length` body), then either
//! sends it on over its own connection to the upstream and relays the answer, or answers with
//! the scripted status and drops the request. It knows just enough HTTP/1.1 for the tus client
//! and `berani-server`: `Content-Length` bodies, none for `HEAD`, 1xx, 204 and 304, keep-alive.
//!
//! Like the fault proxy it runs on its own thread and tokio runtime, so a test that pauses its
//! own clock still has a front that answers in real time.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// One scripted answer: of the requests with `method`, the ones after the first `skip` are
/// answered with `status` (and `headers`), `times` of them.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The request method this applies to (`POST`, `PATCH`, `HEAD`, `GET`).
    pub method: &'static str,
    /// Matching requests forwarded before the rule starts answering.
    pub skip: u32,
    /// How many matching requests it answers.
    pub times: u32,
    /// The status it answers with.
    pub status: u16,
    /// Extra response headers, e.g. `("Retry-After", "2")`.
    pub headers: Vec<(&'static str, &'static str)>,
}

/// A request as the front saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Its method.
    pub method: String,
    /// The status the client got (0 when the upstream gave none).
    pub status: u16,
    /// True when the front answered it from the script.
    pub scripted: bool,
}

#[derive(Default)]
struct Shared {
    rules: Vec<(Rule, u32)>,
    seen: Vec<Seen>,
}

/// The running front; dropping it stops it.
pub struct FaultHttp {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultHttp {
    /// Listens on a free loopback port and forwards to `upstream`, answering as `rules` say.
    pub fn start(upstream: SocketAddr, rules: Vec<Rule>) -> FaultHttp {
        let std_listener = StdListener::bind("127.0.0.1:0").expect("bind a loopback port");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared {
            rules: rules.into_iter().map(|r| (r, 0)).collect(),
            seen: Vec::new(),
        }));
        let (stop, mut stopped) = watch::channel(false);
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    tokio::select! {
                        _ = stopped.changed() => break,
                        accepted = listener.accept() => {
                            let Ok((client, _)) = accepted else { continue };
                            let sh = sh.clone();
                            let mut stopped = stopped.clone();
                            tokio::spawn(async move {
                                tokio::select! {
                                    _ = stopped.changed() => {}
                                    _ = serve(client, upstream, &sh) => {}
                                }
                            });
                        }
                    }
                }
            });
        });
        FaultHttp {
            addr,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().unwrap().seen.clone()
    }

    /// How many requests the script answered.
    pub fn scripted(&self) -> usize {
        self.seen().iter().filter(|s| s.scripted).count()
    }
}

impl Drop for FaultHttp {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A buffered reader of one HTTP/1.1 stream.
struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    /// Reads up to the end of a message head; `None` at a clean end of stream.
    async fn head(&mut self, s: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let rest = self.buf.split_off(end + 4);
                return Ok(Some(std::mem::replace(&mut self.buf, rest)));
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads exactly `len` body bytes.
    async fn body(&mut self, s: &mut TcpStream, len: usize) -> std::io::Result<Vec<u8>> {
        while self.buf.len() < len {
            let mut chunk = vec![0u8; (len - self.buf.len()).min(256 * 1024)];
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let rest = self.buf.split_off(len);
        Ok(std::mem::replace(&mut self.buf, rest))
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn content_length(head: &str) -> usize {
    assert!(
        header(head, "transfer-encoding").is_none(),
        "the fault front handles Content-Length bodies only"
    );
    header(head, "content-length").map_or(0, |v| v.parse().expect("Content-Length"))
}

fn reason(status: u16) -> &'static str {
    match status {
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Scripted",
    }
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, sh: &Mutex<Shared>) {
    let mut from_client = Reader { buf: Vec::new() };
    let mut server: Option<(TcpStream, Reader)> = None;
    loop {
        let Ok(Some(head)) = from_client.head(&mut client).await else {
            return;
        };
        let text = String::from_utf8_lossy(&head).into_owned();
        let method = text.split(' ').next().unwrap_or_default().to_string();
        let Ok(body) = from_client.body(&mut client, content_length(&text)).await else {
            return;
        };
        let scripted = {
            let mut g = sh.lock().unwrap();
            g.rules.iter_mut().find_map(|(rule, matched)| {
                if rule.method != method {
                    return None;
                }
                *matched += 1;
                (*matched > rule.skip && *matched <= rule.skip + rule.times).then(|| rule.clone())
            })
        };
        if let Some(rule) = scripted {
            let mut answer = format!(
                "HTTP/1.1 {} {}\r\nTus-Resumable: 1.0.0\r\nContent-Length: 0\r\n",
                rule.status,
                reason(rule.status)
            );
            for (k, v) in &rule.headers {
                answer.push_str(&format!("{k}: {v}\r\n"));
            }
            answer.push_str("\r\n");
            sh.lock().unwrap().seen.push(Seen {
                method,
                status: rule.status,
                scripted: true,
            });
            if client.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            continue;
        }
        // Forward over this client's upstream connection, opened on first use and again
        // after the upstream closed it.
        let mut status = 0;
        let mut relayed = false;
        for _ in 0..2 {
            if server.is_none() {
                let Ok(s) = TcpStream::connect(upstream).await else {
                    break;
                };
                server = Some((s, Reader { buf: Vec::new() }));
            }
            let (up, reader) = server.as_mut().unwrap();
            if up.write_all(&head).await.is_err() || up.write_all(&body).await.is_err() {
                server = None;
                continue;
            }
            let Ok(Some(rhead)) = reader.head(up).await else {
                server = None;
                continue;
            };
            let rtext = String::from_utf8_lossy(&rhead).into_owned();
            status = rtext
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let len = if method == "HEAD" || status == 204 || status == 304 || status < 200 {
                0
            } else {
                content_length(&rtext)
            };
            let Ok(rbody) = reader.body(up, len).await else {
                server = None;
                break;
            };
            let close =
                header(&rtext, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
            if close {
                server = None;
            }
            relayed =
                client.write_all(&rhead).await.is_ok() && client.write_all(&rbody).await.is_ok();
            break;
        }
        sh.lock().unwrap().seen.push(Seen {
            method,
            status,
            scripted: false,
        });
        if !relayed {
            return;
        }
    }
}

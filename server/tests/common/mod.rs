//! A real `berani-server` process on loopback with a real data folder, and a small tus
//! client for the tests.
#![allow(dead_code)]

pub mod desk;
pub mod phone;
pub mod smtp;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berani_core::age::Recipient;
use berani_core::profile::AgencyProfile;
use berani_core::protocol;
use berani_server::tus::metadata;
use reqwest::{Method, StatusCode};

pub const BIN: &str = env!("CARGO_BIN_EXE_berani-server");

/// A running server process.
pub struct Server {
    child: Child,
    pub base: String,
    pub addr: SocketAddr,
    pub data: PathBuf,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn pump(r: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            let mut s = into.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
}

impl Server {
    /// Starts `serve --data DATA --listen 127.0.0.1:0 EXTRA…` and waits until it listens.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Server::start_env(data, extra, &[])
    }

    /// [`Server::start`] with extra environment variables (e.g. its own `TMPDIR`).
    pub fn start_env(data: &Path, extra: &[&str], env: &[(&str, &Path)]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .envs(env.iter().copied())
            .env_remove("BERANI_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start berani-server");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        pump(child.stdout.take().unwrap(), stdout.clone());
        pump(child.stderr.take().unwrap(), stderr.clone());
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            let text = stderr.lock().unwrap().clone();
            if let Some(rest) = text.split("listening on ").nth(1) {
                break rest.split([',', '\n']).next().unwrap().to_owned();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("server exited with {status}: {text}");
            }
            assert!(Instant::now() < deadline, "server did not start: {text}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let addr = base
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .parse()
            .unwrap();
        Server {
            child,
            base,
            addr,
            data: data.to_owned(),
            stdout,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The admin password printed at first start.
    pub fn admin_password(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.stdout();
            if let Some(line) = out.lines().find(|l| l.starts_with("admin password: ")) {
                return line["admin password: ".len()..].to_owned();
            }
            assert!(Instant::now() < deadline, "no admin password printed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// kill -9.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary with `args` (and the admin password in the environment, if given).
pub fn run(args: &[&str], data: &Path, password: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .arg("--data")
        .arg(data)
        .env_remove("BERANI_ADMIN_PASSWORD");
    if let Some(pw) = password {
        c.env("BERANI_ADMIN_PASSWORD", pw);
    }
    c.stdin(Stdio::null()).output().unwrap()
}

pub fn client() -> reqwest::Client {
    // reqwest is built without a default TLS provider (no aws-lc): use ring, as the app does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().unwrap()
}

/// The served profile, verified with the key `profile pubkey` prints.
pub async fn profile(s: &Server) -> AgencyProfile {
    let out = run(&["profile", "pubkey"], &s.data, None);
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let signed = client()
        .get(s.url("/v1/profile"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    berani_core::profile::verify(&signed, &key, time::OffsetDateTime::now_utc()).unwrap()
}

/// A sealed part: an age file to the profile's recipient.
pub struct Part {
    pub plain: Vec<u8>,
    pub sealed: Vec<u8>,
    pub sha256: String,
}

pub fn seal(recipient: &str, plain: Vec<u8>) -> Part {
    let r: Recipient = recipient.parse().unwrap();
    let (_, sealed) = berani_core::age::seal(&[r], &plain[..], Vec::new()).unwrap();
    let sha256 = berani_core::crypto::hex(&berani_core::crypto::sha256(&sealed));
    Part {
        plain,
        sealed,
        sha256,
    }
}

/// Deterministic, incompressible-looking bytes.
pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// One report for the tests: id, token and its parts' metadata.
pub struct Report {
    pub id: String,
    pub token: String,
}

impl Report {
    pub fn new() -> Report {
        Report {
            id: berani_core::crypto::random_id(),
            token: protocol::new_token(),
        }
    }

    pub fn meta(&self, part: u32, parts: u32, sha256: &str) -> String {
        let kind = if part == 0 { "report" } else { "attachment" };
        metadata::encode(&[
            ("report", &self.id),
            ("part", &part.to_string()),
            ("parts", &parts.to_string()),
            ("kind", kind),
            ("sha256", sha256),
            ("token", &self.token),
        ])
    }
}

pub async fn create(s: &Server, meta: &str, length: u64) -> reqwest::Response {
    client()
        .post(s.url("/v1/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", meta)
        .send()
        .await
        .unwrap()
}

/// POST and return the absolute upload URL.
pub async fn create_ok(s: &Server, meta: &str, length: u64) -> String {
    let r = create(s, meta, length).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    s.url(r.headers()["location"].to_str().unwrap())
}

pub async fn patch(
    url: &str,
    offset: u64,
    body: &[u8],
    checksum: Option<String>,
) -> reqwest::Response {
    let mut req = client()
        .patch(url)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", offset.to_string())
        .body(body.to_vec());
    if let Some(c) = checksum {
        req = req.header("Upload-Checksum", c);
    }
    req.send().await.unwrap()
}

pub async fn head(url: &str) -> reqwest::Response {
    client()
        .head(url)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap()
}

pub fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub async fn offset_of(url: &str) -> u64 {
    let r = head(url).await;
    assert_eq!(r.status(), StatusCode::OK);
    header(&r, "upload-offset").parse().unwrap()
}

pub fn sha256_b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(berani_core::crypto::sha256(data))
}

/// Uploads a whole part in `chunk`-sized PATCHes with sha256 checksums; returns its URL.
pub async fn upload(
    s: &Server,
    report: &Report,
    part: u32,
    parts: u32,
    p: &Part,
    chunk: usize,
) -> String {
    let url = create_ok(
        s,
        &report.meta(part, parts, &p.sha256),
        p.sealed.len() as u64,
    )
    .await;
    let mut at = 0;
    for piece in p.sealed.chunks(chunk) {
        let r = patch(
            &url,
            at,
            piece,
            Some(format!("sha256 {}", sha256_b64(piece))),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
        at += piece.len() as u64;
        assert_eq!(header(&r, "upload-offset"), at.to_string());
    }
    url
}

pub async fn receipt(s: &Server, report: &str, token: &str) -> reqwest::Response {
    client()
        .get(s.url(&protocol::receipt_path(report)))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
}

pub fn request(method: &str) -> Method {
    Method::from_bytes(method.as_bytes()).unwrap()
}

/// Opens a raw TCP connection (for broken and slow requests).
pub fn raw(s: &Server) -> TcpStream {
    let c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c
}

/// Reads until the server closes the connection; returns what it sent and when it closed.
pub fn read_until_closed(mut c: TcpStream) -> (String, Instant) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => return (String::from_utf8_lossy(&buf).into_owned(), Instant::now()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

pub fn write_all(c: &mut TcpStream, data: &[u8]) {
    c.write_all(data).unwrap();
    c.flush().unwrap();
}

/// Polls until `f` is true or panics after `secs`.
pub async fn eventually(secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "condition not met in {secs}s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

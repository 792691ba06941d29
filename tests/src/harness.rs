//! Runs Berani's own programs for end-to-end tests: the intake server (`berani-server`) and
//! the reporter CLI (`berani`), as real processes on loopback with real data folders.
//!
//! Tests kill these processes with SIGKILL, restart them, and read their output and logs, so
//! they run as separate programs rather than in-process. The binaries are built on first use
//! (a no-op when they are up to date), in the same target folder and profile as the tests.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::peers::{free_port, repo_root};

static BUILD: Once = Once::new();

/// The folder holding this test's binaries (`target/<profile>`).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Path of one of the workspace's binaries, built first if needed.
pub fn binary(name: &str) -> PathBuf {
    BUILD.call_once(|| {
        let dir = bin_dir();
        let target = dir.parent().expect("target folder");
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(repo_root()).args([
            "build",
            "-q",
            "-p",
            "berani-server",
            "-p",
            "berani-cli",
        ]);
        // Cargo sets CARGO_MANIFEST_DIR and friends for a test; build scripts (ring's) that
        // watch them would see a change and rebuild under the running tests' feet. Build with
        // the environment a person's `cargo build` has, so an up-to-date tree stays a no-op.
        for (k, _) in std::env::vars_os() {
            if k.to_str()
                .is_some_and(|k| k.starts_with("CARGO_") && k != "CARGO_HOME")
            {
                cmd.env_remove(k);
            }
        }
        cmd.env("CARGO_TARGET_DIR", target);
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "building berani-server and berani failed");
    });
    let p = bin_dir().join(name);
    assert!(p.exists(), "{} was not built", p.display());
    p
}

/// Waits until something accepts TCP connections at `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) {
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(start.elapsed() < timeout, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// True when `GET /v1/profile` at `addr` answers 200.
fn profile_served(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(
        b"GET /v1/profile HTTP/1.1\r\nHost: t\r\nTus-Resumable: 1.0.0\r\nConnection: close\r\n\r\n",
    )
    .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// A running `berani-server serve`, killed when dropped.
pub struct Server {
    /// The data folder.
    pub data: PathBuf,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The file its stderr (the log) goes to, appended across restarts.
    pub log: PathBuf,
    /// Extra `serve` flags, kept for restarts.
    pub extra: Vec<String>,
    /// The admin password printed at first start.
    pub admin_password: Option<String>,
    child: Mutex<Option<Child>>,
}

impl Server {
    /// Starts a server with a new data folder `data` on a free port.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Self::start_on(data, SocketAddr::from(([127, 0, 0, 1], free_port())), extra)
    }

    /// Starts a server with a new data folder `data` listening on `addr`.
    pub fn start_on(data: &Path, addr: SocketAddr, extra: &[&str]) -> Server {
        let mut s = Server {
            data: data.to_path_buf(),
            addr,
            log: data.with_extension("log"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            admin_password: None,
            child: Mutex::new(None),
        };
        s.admin_password = s.spawn();
        s
    }

    /// Spawns the process; returns the admin password if it printed one.
    fn spawn(&self) -> Option<String> {
        let first = !self.data.join("berani.db").exists();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open server log");
        let mut child = Command::new(binary("berani-server"))
            .arg("serve")
            .arg("--data")
            .arg(&self.data)
            .arg("--listen")
            .arg(self.addr.to_string())
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start berani-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(pw) = line.strip_prefix("admin password: ") {
                    let _ = tx.send(pw.trim().to_string());
                }
            }
        });
        // The listener opens before a first start finishes: wait for an HTTP answer.
        let start = Instant::now();
        while !profile_served(self.addr) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "berani-server exited ({status}) before serving; see {}",
                    self.log.display()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "server did not answer"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        *self.child.lock().unwrap() = Some(child);
        rx.recv_timeout(Duration::from_secs(if first { 10 } else { 0 }))
            .ok()
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL, with no chance to clean up.
    pub fn kill9(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same folder and port.
    pub fn restart(&self) {
        self.kill9();
        self.spawn();
    }

    /// Runs another `berani-server` command on this data folder.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(binary("berani-server"));
        cmd.args(args).arg("--data").arg(&self.data);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .output()
            .expect("run berani-server")
    }

    /// The profile-signing public key.
    pub fn profile_key(&self) -> String {
        let o = self.command(&["profile", "pubkey"], &[]);
        assert!(
            o.status.success(),
            "{}\nserver log:\n{}",
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    }

    /// The intake identity, exported with the admin password.
    pub fn export_identity(&self) -> String {
        let pw = self.admin_password.as_deref().expect("admin password seen");
        let o = self.command(&["key", "export"], &[("BERANI_ADMIN_PASSWORD", pw)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    }

    /// A read-only connection to the server's database.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.data.join("berani.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open server database")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A reporter home driven through the `berani` CLI.
pub struct ReporterCli {
    /// The home folder.
    pub home: PathBuf,
}

impl ReporterCli {
    /// A reporter home at `home`.
    pub fn new(home: &Path) -> Self {
        Self {
            home: home.to_path_buf(),
        }
    }

    /// A `berani` command for this home, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(binary("berani"));
        c.arg("--home").arg(&self.home).args(args);
        c
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.command(args).output().expect("run berani");
        assert!(
            o.status.success(),
            "berani {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).expect("utf-8")
    }

    /// The outbox as JSON.
    pub fn outbox(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["outbox", "--json"])).expect("outbox json")
    }

    /// The state of one report in the outbox.
    pub fn state(&self, id: &str) -> Option<String> {
        self.outbox()
            .as_array()?
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["state"].as_str().unwrap_or_default().to_string())
    }
}

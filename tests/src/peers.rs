//! Runs the official tus implementations as peers of Berani's components in Rust tests.
//!
//! Our uploader and our intake server could agree with each other and still both be wrong about
//! tus. The stock clients (tus-js-client through `tests/node/tus-upload.mjs`, tuspy through
//! `tests/python/tus_upload.py`) and the stock server (tusd) are independent readings of the
//! protocol, so the end-to-end tests drive them from here. Each helper panics with the command to
//! run when its tool is not installed: an interop test that skips itself proves nothing.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Version of tusd that `scripts/install-test-peers` installs.
pub const TUSD_VERSION: &str = "v2.9.1";

/// The path tusd serves tus on, matching Berani's intake (docs/PROTOCOL.md).
pub const TUS_BASE_PATH: &str = "/v1/uploads/";

const INSTALL_HINT: &str = "run scripts/install-test-peers from the repository root";

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Deterministic, incompressible-looking bytes (xorshift64), so a misplaced range shows.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What to ask of a tus client peer beyond its defaults. `Default` is a plain, complete upload.
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    /// Bytes per PATCH (`--chunk-size`); the clients' default is the whole file in one.
    pub chunk_size: Option<u64>,
    /// Interrupt after this many bytes (`--stop-after-bytes`). tus-js-client cuts the request
    /// mid-body; tuspy stops cleanly at exactly this offset (see the scripts).
    pub stop_after_bytes: Option<u64>,
    /// Resume this upload (`--upload-url`) instead of creating one.
    pub upload_url: Option<String>,
    /// File where the client stores upload URLs to find them again (`--url-storage`).
    pub url_storage: Option<PathBuf>,
    /// tus-js-client's retry delays in ms (`--retry-delays`); `Some(vec![])` turns retries
    /// off, which a test of a failing server wants. Ignored by tuspy, which never retries by
    /// default.
    pub retry_delays: Option<Vec<u64>>,
    /// Kill the peer after this long; 120 s if unset.
    pub timeout: Option<Duration>,
}

/// What a peer run printed and how it ended.
#[derive(Debug)]
pub struct PeerOutput {
    /// The process's exit status: success for a completed or deliberately stopped upload.
    pub status: ExitStatus,
    /// Each JSON line of stdout, in order (`{"event": "start" | "upload_url" | … }`).
    pub events: Vec<Value>,
    /// All of stdout, including any line that was not JSON.
    pub stdout: String,
    /// All of stderr.
    pub stderr: String,
}

impl PeerOutput {
    /// The last event printed (`success`, `stopped` or `error` when the peer ended normally).
    pub fn final_event(&self) -> Option<&str> {
        self.events.last()?.get("event")?.as_str()
    }

    /// Whether the upload completed: exit 0 and a final `success` event.
    pub fn succeeded(&self) -> bool {
        self.status.success() && self.final_event() == Some("success")
    }

    /// Whether the upload was stopped by `stop_after_bytes`: exit 0 and a final `stopped`.
    pub fn stopped(&self) -> bool {
        self.status.success() && self.final_event() == Some("stopped")
    }

    /// The upload URL the peer last reported, from any event carrying one.
    pub fn upload_url(&self) -> Option<&str> {
        self.events
            .iter()
            .rev()
            .find_map(|e| e.get("upload_url").or_else(|| e.get("url"))?.as_str())
    }

    /// All events of one kind.
    pub fn events_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events
            .iter()
            .filter(move |e| e.get("event").and_then(Value::as_str) == Some(name))
    }

    /// Stdout and stderr, for assertion messages.
    pub fn transcript(&self) -> String {
        format!(
            "status: {}\nstdout:\n{}\nstderr:\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Uploads `file` to the tus `endpoint` with tus-js-client (`tests/node/tus-upload.mjs`), with
/// Berani's metadata (`report`, `part`, `parts`, `kind`, `sha256`, `token`, sent as given).
///
/// `Err` only when the peer could not be run or outlived its timeout; a failed upload is an
/// `Ok` whose [`PeerOutput::status`] is not success. Panics if Node.js or the npm peers are
/// not installed.
pub fn node_tus_upload(
    endpoint: &str,
    file: &Path,
    metadata: &[(&str, &str)],
    opts: &UploadOptions,
) -> io::Result<PeerOutput> {
    let root = repo_root();
    let script = root.join("tests/node/tus-upload.mjs");
    let module = root.join("tests/node/node_modules/tus-js-client/package.json");
    assert!(
        module.is_file(),
        "tus-js-client is not installed in tests/node: {INSTALL_HINT}"
    );
    let mut cmd = Command::new(tool("node", "Node.js"));
    cmd.arg(script);
    if let Some(delays) = &opts.retry_delays {
        cmd.arg("--retry-delays")
            .arg(serde_json::to_string(delays).expect("numbers serialise"));
    }
    run_peer(cmd, endpoint, file, metadata, opts)
}

/// Uploads `file` to the tus `endpoint` with tuspy (`tests/python/tus_upload.py`, in the venv
/// `tests/python/.venv`); otherwise as [`node_tus_upload`].
pub fn python_tus_upload(
    endpoint: &str,
    file: &Path,
    metadata: &[(&str, &str)],
    opts: &UploadOptions,
) -> io::Result<PeerOutput> {
    let root = repo_root();
    let python = root.join("tests/python/.venv/bin/python");
    assert!(
        python.is_file(),
        "the Python test peers (tuspy in tests/python/.venv) are not installed: {INSTALL_HINT}"
    );
    let mut cmd = Command::new(python);
    cmd.arg(root.join("tests/python/tus_upload.py"));
    run_peer(cmd, endpoint, file, metadata, opts)
}

fn run_peer(
    mut cmd: Command,
    endpoint: &str,
    file: &Path,
    metadata: &[(&str, &str)],
    opts: &UploadOptions,
) -> io::Result<PeerOutput> {
    let metadata: BTreeMap<&str, &str> = metadata.iter().copied().collect();
    cmd.arg("--endpoint")
        .arg(endpoint)
        .arg("--file")
        .arg(file)
        .arg("--metadata")
        .arg(serde_json::to_string(&metadata).expect("strings serialise"));
    if let Some(n) = opts.chunk_size {
        cmd.arg("--chunk-size").arg(n.to_string());
    }
    if let Some(n) = opts.stop_after_bytes {
        cmd.arg("--stop-after-bytes").arg(n.to_string());
    }
    if let Some(url) = &opts.upload_url {
        cmd.arg("--upload-url").arg(url);
    }
    if let Some(path) = &opts.url_storage {
        cmd.arg("--url-storage").arg(path);
    }
    let timeout = opts.timeout.unwrap_or(Duration::from_secs(120));
    let (status, stdout, stderr) = run_with_timeout(cmd, timeout)?;
    let events = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(Value::is_object)
        .collect();
    Ok(PeerOutput {
        status,
        events,
        stdout,
        stderr,
    })
}

/// Runs `cmd` to its end, killing it after `timeout`.
fn run_with_timeout(
    mut cmd: Command,
    timeout: Duration,
) -> io::Result<(ExitStatus, String, String)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Read both pipes on their own threads: a peer that fills one while we wait on the other
    // would otherwise block forever.
    let stdout = drain(child.stdout.take().expect("piped"));
    let stderr = drain(child.stderr.take().expect("piped"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let out = stdout.join().unwrap_or_default();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("peer {cmd:?} still running after {timeout:?}; stdout so far:\n{out}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok((
        status,
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    ))
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Finds a program on PATH or panics saying what to install.
fn tool(name: &str, what: &str) -> PathBuf {
    find_on_path(name).unwrap_or_else(|| {
        panic!("{what} (`{name}`) is not on PATH; install it, then {INSTALL_HINT}")
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The tusd binary: `$TUSD` if set, else `$(go env GOPATH)/bin/tusd` (where
/// `scripts/install-test-peers` puts it), else `tusd` on PATH. Panics if there is none.
pub fn tusd_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TUSD") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "TUSD={} is not a file", path.display());
        return path;
    }
    let gopath = std::env::var_os("GOPATH")
        .map(PathBuf::from)
        .or_else(|| {
            let out = Command::new("go").args(["env", "GOPATH"]).output().ok()?;
            let text = String::from_utf8(out.stdout).ok()?;
            // GOPATH may list several directories; `go install` uses the first.
            let first = text.trim().split(':').next()?.to_owned();
            (!first.is_empty()).then(|| PathBuf::from(first))
        })
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("go")));
    if let Some(bin) = gopath.map(|g| g.join("bin/tusd"))
        && bin.is_file()
    {
        return bin;
    }
    find_on_path("tusd")
        .unwrap_or_else(|| panic!("tusd {TUSD_VERSION} is not installed: {INSTALL_HINT}"))
}

/// A free TCP port on 127.0.0.1, drawn at random below Linux's ephemeral range (32768+).
///
/// Ports the kernel hands out for `bind(0)` (the fault proxy's, clients' own) therefore never
/// collide with a port a test picked for a server it starts a moment later. Another test can
/// still draw the same port; [`start_tusd`] and the harness retry for that reason.
pub fn free_port() -> u16 {
    loop {
        let r = u16::from_le_bytes([rand_byte(), rand_byte()]);
        let port = 20_000 + r % 12_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn rand_byte() -> u8 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u8
}

/// A running tusd; killed when dropped.
pub struct Tusd {
    child: Child,
    addr: SocketAddr,
    upload_dir: PathBuf,
    log: PathBuf,
}

impl Tusd {
    /// Where tusd listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The tus creation URL, `http://127.0.0.1:PORT/v1/uploads/`.
    pub fn endpoint(&self) -> String {
        format!("http://{}{TUS_BASE_PATH}", self.addr)
    }

    /// The directory tusd stores uploads in.
    pub fn upload_dir(&self) -> &Path {
        &self.upload_dir
    }

    /// The file holding the bytes of the upload at `upload_url` (tusd's filestore names it by
    /// the upload id, the URL's last segment).
    pub fn stored_file(&self, upload_url: &str) -> PathBuf {
        let id = upload_url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        self.upload_dir.join(id)
    }

    /// tusd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Tusd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts tusd on a free port of 127.0.0.1 with the tus base path `/v1/uploads/`, storing
/// uploads in `dir/uploads` and logging to `dir/tusd.log`, and returns once the port answers.
/// Panics if tusd is missing or does not come up.
pub fn start_tusd(dir: &Path) -> Tusd {
    let binary = tusd_binary();
    let upload_dir = dir.join("uploads");
    std::fs::create_dir_all(&upload_dir).expect("create tusd upload dir");
    let log = dir.join("tusd.log");
    let mut last_log = String::new();
    // A port found free can be taken before tusd binds it; a new one is tried then.
    for _ in 0..3 {
        let port = free_port();
        let log_file = std::fs::File::create(&log).expect("create tusd.log");
        let child = Command::new(&binary)
            .args(["-host", "127.0.0.1", "-port", &port.to_string()])
            .args(["-base-path", TUS_BASE_PATH])
            .arg("-upload-dir")
            .arg(&upload_dir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let mut tusd = Tusd {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            upload_dir: upload_dir.clone(),
            log: log.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = tusd.child.try_wait() {
                break;
            }
            if TcpStream::connect_timeout(&tusd.addr, Duration::from_millis(200)).is_ok() {
                return tusd;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        last_log = tusd.log();
    }
    panic!(
        "tusd ({}) did not start listening; its log:\n{last_log}",
        binary.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(code: i32) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        ExitStatus::from_raw(code << 8)
    }

    fn output(code: i32, stdout: &str) -> PeerOutput {
        PeerOutput {
            status: exit(code),
            events: stdout
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(Value::is_object)
                .collect(),
            stdout: stdout.to_owned(),
            stderr: String::new(),
        }
    }

    #[test]
    fn reads_the_peer_protocol() {
        let out = output(
            0,
            "{\"event\":\"start\",\"upload_url\":null}\n\
             tus: a stray log line\n\
             {\"event\":\"upload_url\",\"url\":\"http://h/v1/uploads/abc\"}\n\
             {\"event\":\"stopped\",\"bytes_sent\":10,\"upload_url\":\"http://h/v1/uploads/abc\"}\n",
        );
        assert_eq!(out.events.len(), 3);
        assert!(out.stopped());
        assert!(!out.succeeded());
        assert_eq!(out.final_event(), Some("stopped"));
        assert_eq!(out.upload_url(), Some("http://h/v1/uploads/abc"));
        assert_eq!(out.events_named("upload_url").count(), 1);

        let failed = output(1, "{\"event\":\"error\",\"status\":460}\n");
        assert!(!failed.succeeded() && !failed.stopped());
        assert_eq!(failed.upload_url(), None);
        assert_eq!(failed.events[0]["status"], 460);
    }

    #[test]
    fn free_port_is_bindable() {
        let port = free_port();
        assert_ne!(port, 0);
        TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    }

    #[test]
    fn times_out_a_hanging_peer() {
        let mut cmd = Command::new("sleep");
        cmd.arg("5");
        let start = Instant::now();
        let err = run_with_timeout(cmd, Duration::from_millis(200)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn repo_root_holds_the_peer_scripts() {
        let root = repo_root();
        assert!(root.join("tests/node/tus-upload.mjs").is_file());
        assert!(root.join("tests/python/tus_upload.py").is_file());
        assert!(root.join("scripts/install-test-peers").is_file());
    }
}

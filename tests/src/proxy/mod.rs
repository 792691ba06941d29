//! A fault-injecting TCP proxy for loopback tests and benchmarks.
//!
//! Berani's reporters send from villages with one bar of 2G that drops every minute. The
//! uploader and the intake server are only believable if they are tested over such a link, and
//! a link like that has to be made on demand, reproducibly, inside a test: this proxy sits
//! between a client and a server on 127.0.0.1 and slows, delays, stalls, resets, truncates or
//! refuses the traffic, as told by [`Faults`], which can be changed while connections are open.
//!
//! The proxy runs on its own thread and tokio runtime, so synchronous tests (driving Node or
//! Python peers) and async tests use it alike; dropping the [`FaultProxy`] stops every loop and
//! closes every socket it holds.

mod conn;
mod link;

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::time::Instant;

use link::Bucket;

/// How long [`FaultProxy::set_faults`] waits for the proxy to apply `down` (listener closed
/// and every connection cut) or its end (listening again) before it panics.
const APPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the proxy does to the traffic. Every fault is optional and they combine; the default is
/// a clean pass-through.
///
/// "Up" is client → server (the request direction: an upload), "down" is server → client (the
/// response direction).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Bandwidth cap in bits per second, applied to each direction separately and shared by
    /// all connections of the proxy, as one radio link is shared by all of a phone's sockets.
    pub bandwidth_bps: Option<u64>,
    /// One-way delay added to every byte in each direction. The link is a pipe: bytes become
    /// deliverable `latency` after they were read, so throughput is not divided by the delay.
    pub latency: Duration,
    /// Extra one-way delay drawn uniformly from `0..=jitter` for each chunk. Byte order is
    /// kept, as TCP keeps it: a chunk is never delivered before the one read before it.
    pub jitter: Duration,
    /// Reset connections (TCP RST) at random points; see [`Reset`].
    pub reset: Option<Reset>,
    /// Stop forwarding in both directions, keeping connections open; see [`Stall`].
    pub stall: Option<Stall>,
    /// Refuse new connections (the listener is closed) and reset every open one.
    pub down: bool,
    /// Close a connection once it has delivered this many bytes of its response and the server
    /// sends more: the client gets exactly this many bytes and then end of stream, the server
    /// gets a reset.
    pub truncate_response_after: Option<u64>,
    /// Seeds every random draw (reset points, jitter). Connection `i` draws from streams derived
    /// from `(seed, i)`, so a run with the same seed and the same order of connections makes the
    /// same faults.
    pub seed: u64,
}

impl Faults {
    /// No faults: the proxy only forwards and counts.
    pub fn none() -> Self {
        Faults::default()
    }

    /// A rough model of a reporter's link: one bar of 2G (GPRS/EDGE) that drops about once a
    /// minute. The figures are assumptions for tests, not measurements: 32 kbit/s each way,
    /// 300 ms one-way latency plus up to 200 ms of jitter, and each connection reset after a
    /// mean of 60 s.
    pub fn one_bar_2g(seed: u64) -> Self {
        Faults {
            bandwidth_bps: Some(32_000),
            latency: Duration::from_millis(300),
            jitter: Duration::from_millis(200),
            reset: Some(Reset::AfterMeanDuration(Duration::from_secs(60))),
            seed,
            ..Faults::default()
        }
    }
}

/// When a connection is reset. Reset points are drawn per connection from an exponential
/// distribution with the given mean (memoryless, like a radio that may drop at any moment) and
/// drawn afresh whenever the faults are changed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reset {
    /// After a random number of bytes delivered by the connection, both directions counted.
    /// The proxy delivers exactly that many and resets on the next byte.
    AfterMeanBytes(u64),
    /// After a random time since the connection opened (or since the faults last changed).
    AfterMeanDuration(Duration),
}

/// A stall: nothing is read or delivered in either direction, but connections stay open (no
/// FIN, no RST), as when a phone keeps its PDP context but the cell stops moving data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stall {
    /// For this long after [`FaultProxy::start`] or [`FaultProxy::set_faults`], then resume.
    For(Duration),
    /// Until the faults are changed.
    UntilChanged,
}

/// A snapshot of the proxy's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes delivered to the server (client → server).
    pub bytes_up: u64,
    /// Bytes delivered to the client (server → client).
    pub bytes_down: u64,
    /// Connections accepted from clients.
    pub accepted: u64,
    /// Connections open right now.
    pub active: u64,
    /// Connections reset by the [`Faults::reset`] fault.
    pub resets: u64,
    /// Connections closed by [`Faults::truncate_response_after`].
    pub truncated: u64,
    /// Connections reset because the proxy was set [`Faults::down`].
    pub cut_by_down: u64,
    /// Accepted connections whose upstream connect failed (the client got a reset).
    pub upstream_failures: u64,
}

impl Stats {
    /// Every connection the proxy itself cut: resets, truncations and cuts by `down`.
    pub fn cut(&self) -> u64 {
        self.resets + self.truncated + self.cut_by_down
    }
}

/// The faults as the connection loops see them: [`Stall::For`] made absolute when set.
#[derive(Clone, Debug)]
struct Control {
    faults: Faults,
    stalled: Stalled,
    /// Incremented by every `set_faults`, so the listener can acknowledge having applied one.
    version: u64,
}

#[derive(Clone, Copy, Debug)]
enum Stalled {
    No,
    Until(Instant),
    Forever,
}

impl Control {
    fn new(faults: Faults, version: u64) -> Self {
        let stalled = match faults.stall {
            None => Stalled::No,
            Some(Stall::For(d)) => Stalled::Until(Instant::now() + d),
            Some(Stall::UntilChanged) => Stalled::Forever,
        };
        Control {
            faults,
            stalled,
            version,
        }
    }
}

#[derive(Default)]
struct Counters {
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    accepted: AtomicU64,
    active: AtomicU64,
    resets: AtomicU64,
    truncated: AtomicU64,
    cut_by_down: AtomicU64,
    upstream_failures: AtomicU64,
    /// The last `Control::version` whose `down` the listener has applied.
    listener_version: AtomicU64,
}

/// State shared by the listener and all connection tasks.
struct Shared {
    upstream: SocketAddr,
    counters: Counters,
    up_link: Mutex<Bucket>,
    down_link: Mutex<Bucket>,
}

/// A running proxy. Dropping it stops the listener and every loop and closes every open
/// connection (the listening port then refuses connections).
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    control: Option<watch::Sender<Control>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 (a free port) that forwards every connection to `upstream`
    /// with the given faults. Needs no tokio runtime from the caller.
    ///
    /// Panics if it cannot bind or start its thread: a test without its proxy cannot run.
    pub fn start(upstream: SocketAddr, faults: Faults) -> FaultProxy {
        // std's listener sets SO_REUSEADDR on Unix, which accepted sockets inherit; that is
        // what lets the listener bind the same port again after `down` closed it.
        let listener = StdListener::bind("127.0.0.1:0").expect("fault proxy: bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("fault proxy: set_nonblocking");
        let addr = listener.local_addr().expect("fault proxy: local_addr");
        let shared = Arc::new(Shared {
            upstream,
            counters: Counters::default(),
            up_link: Mutex::new(Bucket::new()),
            down_link: Mutex::new(Bucket::new()),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("fault proxy: tokio runtime");
        // The Instant in `Control` must come from the proxy's clock, which is the same
        // monotonic clock for a runtime without paused time.
        let (tx, rx) = watch::channel(Control::new(faults, 0));
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("fault proxy: listener");
                    serve(listener, addr, thread_shared, rx).await;
                });
                // Dropping the runtime here cancels every connection task; their sockets close.
            })
            .expect("fault proxy: spawn thread");
        let proxy = FaultProxy {
            addr,
            shared,
            control: Some(tx),
            thread: Some(thread),
        };
        proxy.wait_listener(0);
        proxy
    }

    /// The address clients connect to (127.0.0.1 and the proxy's port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server the proxy forwards to.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// The faults in force now.
    pub fn faults(&self) -> Faults {
        self.sender().borrow().faults.clone()
    }

    /// Replaces the faults. Open connections follow the new faults from now on (a new
    /// bandwidth, latency, stall, truncation limit; reset points are drawn again).
    ///
    /// Returns once `down` has taken effect: when it is set, the listener is closed and every
    /// connection has been reset; when it is cleared, the proxy accepts again. Panics if that
    /// takes more than 5 s.
    pub fn set_faults(&self, faults: Faults) {
        let tx = self.sender();
        let version = tx.borrow().version + 1;
        let down = faults.down;
        tx.send_replace(Control::new(faults, version));
        self.wait_listener(version);
        if down {
            wait_for(
                || self.shared.counters.active.load(Ordering::SeqCst) == 0,
                "every connection cut after `down`",
            );
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            bytes_up: c.bytes_up.load(Ordering::SeqCst),
            bytes_down: c.bytes_down.load(Ordering::SeqCst),
            accepted: c.accepted.load(Ordering::SeqCst),
            active: c.active.load(Ordering::SeqCst),
            resets: c.resets.load(Ordering::SeqCst),
            truncated: c.truncated.load(Ordering::SeqCst),
            cut_by_down: c.cut_by_down.load(Ordering::SeqCst),
            upstream_failures: c.upstream_failures.load(Ordering::SeqCst),
        }
    }

    fn sender(&self) -> &watch::Sender<Control> {
        self.control
            .as_ref()
            .expect("fault proxy: control is set until drop")
    }

    fn wait_listener(&self, version: u64) {
        wait_for(
            || self.shared.counters.listener_version.load(Ordering::SeqCst) >= version,
            "the listener to apply the new faults",
        );
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Closing the control channel is the stop signal every loop selects on.
        drop(self.control.take());
        if let Some(thread) = self.thread.take() {
            // Never panic in drop (it may run while a failed test unwinds).
            let _ = thread.join();
        }
    }
}

/// Blocks the calling thread until `done` holds; the proxy's own thread makes the progress.
fn wait_for(done: impl Fn() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + APPLY_TIMEOUT;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "fault proxy: timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The accept loop: closes the listener while `down`, binds the same address again after.
async fn serve(
    listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
    mut control: watch::Receiver<Control>,
) {
    let mut listener = Some(listener);
    let mut index = 0u64;
    loop {
        let (down, version) = {
            let c = control.borrow_and_update();
            (c.faults.down, c.version)
        };
        if down {
            listener = None;
        } else if listener.is_none() {
            match rebind(addr) {
                Ok(l) => listener = Some(l),
                Err(_) => {
                    // The port can be briefly unavailable; a test that set the proxy up again
                    // waits (bounded) in `set_faults` until this succeeds.
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(20)) => continue,
                        changed = control.changed() => if changed.is_err() { return } else { continue },
                    }
                }
            }
        }
        shared
            .counters
            .listener_version
            .store(version, Ordering::SeqCst);
        let Some(l) = listener.as_ref() else {
            if control.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            changed = control.changed() => if changed.is_err() { return },
            accepted = l.accept() => match accepted {
                Ok((client, _)) => {
                    shared.counters.accepted.fetch_add(1, Ordering::SeqCst);
                    shared.counters.active.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(conn::run(client, index, shared.clone(), control.clone()));
                    index += 1;
                }
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

fn rebind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

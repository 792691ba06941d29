//! One proxied connection: two directions, each a reader and a writer joined by a bounded pipe,
//! and a controller that cuts the connection when the faults say so.
//!
//! The reader takes bytes from one socket at the link's rate and stamps each chunk with the time
//! it may be delivered (read time + latency + jitter); the writer delivers chunks at their time.
//! So latency behaves like a long pipe, not like a pause before every read. Each pipe holds at
//! most [`PIPE_BYTES`]; when it is full the reader stops reading and TCP flow control pushes
//! back on the sender, as it would on a real link.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::{Instant, sleep_until};

use super::link::{Rng, quantum};
use super::{Control, Reset, Shared, Stalled};

/// Largest single read: a tradeoff between syscalls and how finely delivery times are stamped.
const MAX_CHUNK: usize = 16 * 1024;

/// Bytes in flight per direction (read, not yet delivered). Bounds memory; also bounds the
/// bandwidth-delay product, so with no bandwidth cap a latency `L` limits throughput to about
/// `PIPE_BYTES / L` (4 MiB/s at 250 ms), which is plenty for loopback tests.
const PIPE_BYTES: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// Client → server.
    Up,
    /// Server → client.
    Down,
}

/// Why a connection ended other than by both sides closing.
#[derive(Debug)]
enum Stop {
    Io,
    Reset,
    Truncate,
    Down,
    Shutdown,
}

/// Per-connection counters the writers and the controller share.
struct ConnState {
    /// Bytes delivered in both directions.
    delivered: AtomicU64,
    /// Bytes delivered to the client.
    response: AtomicU64,
    /// Deliver at most this many bytes in total; the next one resets the connection.
    reset_at: AtomicU64,
}

enum Chunk {
    Data { bytes: Vec<u8>, deliver_at: Instant },
    Eof,
}

/// The pipe between a reader and a writer. A semaphore of `PIPE_BYTES` permits bounds it.
struct Pipe {
    queue: std::sync::Mutex<VecDeque<Chunk>>,
    ready: Notify,
    space: Semaphore,
}

impl Pipe {
    fn new() -> Self {
        Pipe {
            queue: std::sync::Mutex::new(VecDeque::new()),
            ready: Notify::new(),
            space: Semaphore::new(PIPE_BYTES),
        }
    }

    fn push(&self, chunk: Chunk) {
        self.queue.lock().expect("pipe lock").push_back(chunk);
        self.ready.notify_one();
    }

    async fn pop(&self) -> Chunk {
        loop {
            if let Some(chunk) = self.queue.lock().expect("pipe lock").pop_front() {
                return chunk;
            }
            // notify_one stores a permit if nobody waits, so a push between the check above
            // and this await is not lost.
            self.ready.notified().await;
        }
    }
}

/// Runs one accepted connection to its end and updates the counters.
pub(super) async fn run(
    mut client: TcpStream,
    index: u64,
    shared: Arc<Shared>,
    control: watch::Receiver<Control>,
) {
    let counters = &shared.counters;
    let mut upstream = match TcpStream::connect(shared.upstream).await {
        Ok(s) => s,
        Err(_) => {
            counters.upstream_failures.fetch_add(1, Ordering::SeqCst);
            let _ = client.set_zero_linger();
            counters.active.fetch_sub(1, Ordering::SeqCst);
            return;
        }
    };
    // The proxy writes small quanta on purpose; Nagle would add its own delays to them.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);

    let seed = control.borrow().faults.seed;
    let state = ConnState {
        delivered: AtomicU64::new(0),
        response: AtomicU64::new(0),
        reset_at: AtomicU64::new(u64::MAX),
    };
    let stop = {
        let (client_r, client_w) = client.split();
        let (upstream_r, upstream_w) = upstream.split();
        let up_pipe = Pipe::new();
        let down_pipe = Pipe::new();
        let up = async {
            tokio::try_join!(
                read_side(
                    Direction::Up,
                    client_r,
                    &up_pipe,
                    &shared,
                    control.clone(),
                    Rng::new(seed, index, 1)
                ),
                write_side(
                    Direction::Up,
                    upstream_w,
                    &up_pipe,
                    &shared,
                    &state,
                    control.clone()
                ),
            )
        };
        let down = async {
            tokio::try_join!(
                read_side(
                    Direction::Down,
                    upstream_r,
                    &down_pipe,
                    &shared,
                    control.clone(),
                    Rng::new(seed, index, 2)
                ),
                write_side(
                    Direction::Down,
                    client_w,
                    &down_pipe,
                    &shared,
                    &state,
                    control.clone()
                ),
            )
        };
        let mut controller = Controller {
            control: control.clone(),
            rng: Rng::new(seed, index, 0),
        };
        match controller.arm(&state) {
            Err(stop) => Some(stop),
            Ok(deadline) => tokio::select! {
                done = async { tokio::try_join!(up, down) } => done.err(),
                stop = controller.run(&state, deadline) => Some(stop),
            },
        }
    };

    match stop {
        None => {}
        Some(Stop::Truncate) => {
            counters.truncated.fetch_add(1, Ordering::SeqCst);
            // The client sees a clean end of stream after exactly the allowed bytes, as from a
            // middlebox that gave up; the server sees its connection reset.
            let _ = upstream.set_zero_linger();
            let _ = client.shutdown().await;
        }
        Some(stop) => {
            match stop {
                Stop::Reset => counters.resets.fetch_add(1, Ordering::SeqCst),
                Stop::Down => counters.cut_by_down.fetch_add(1, Ordering::SeqCst),
                _ => 0,
            };
            // SO_LINGER 0: closing sends RST, so both ends see "connection reset", not a FIN
            // that would look like a complete message.
            let _ = client.set_zero_linger();
            let _ = upstream.set_zero_linger();
        }
    }
    drop(client);
    drop(upstream);
    counters.active.fetch_sub(1, Ordering::SeqCst);
}

/// Cuts the connection on `down`, on a time-based reset, or when the proxy stops; keeps the
/// byte-based reset point up to date.
struct Controller {
    control: watch::Receiver<Control>,
    rng: Rng,
}

impl Controller {
    /// Applies the faults in force to this connection: draws its reset point. Runs once before
    /// any byte moves, so the first bytes already obey the reset fault.
    fn arm(&mut self, state: &ConnState) -> Result<Option<Instant>, Stop> {
        let (down, reset) = {
            let c = self.control.borrow_and_update();
            (c.faults.down, c.faults.reset)
        };
        if down {
            return Err(Stop::Down);
        }
        let mut deadline = None;
        let reset_at = match reset {
            None => u64::MAX,
            Some(Reset::AfterMeanBytes(mean)) => {
                let gap = self.rng.exponential(mean as f64) as u64;
                state.delivered.load(Ordering::SeqCst).saturating_add(gap)
            }
            Some(Reset::AfterMeanDuration(mean)) => {
                let gap = self.rng.exponential(mean.as_secs_f64());
                deadline = Some(Instant::now() + std::time::Duration::from_secs_f64(gap));
                u64::MAX
            }
        };
        state.reset_at.store(reset_at, Ordering::SeqCst);
        Ok(deadline)
    }

    async fn run(mut self, state: &ConnState, mut deadline: Option<Instant>) -> Stop {
        loop {
            let timer = async {
                match deadline {
                    Some(at) => sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = self.control.changed() => if changed.is_err() { return Stop::Shutdown },
                () = timer => return Stop::Reset,
            }
            deadline = match self.arm(state) {
                Ok(deadline) => deadline,
                Err(stop) => return stop,
            };
        }
    }
}

/// Waits while the link is stalled.
async fn unstalled(control: &mut watch::Receiver<Control>) -> Result<(), Stop> {
    loop {
        let stalled = control.borrow_and_update().stalled;
        match stalled {
            Stalled::No => return Ok(()),
            Stalled::Until(t) if t <= Instant::now() => return Ok(()),
            Stalled::Until(t) => tokio::select! {
                () = sleep_until(t) => return Ok(()),
                changed = control.changed() => changed.map_err(|_| Stop::Shutdown)?,
            },
            Stalled::Forever => control.changed().await.map_err(|_| Stop::Shutdown)?,
        }
    }
}

async fn read_side(
    direction: Direction,
    mut from: tokio::net::tcp::ReadHalf<'_>,
    pipe: &Pipe,
    shared: &Shared,
    mut control: watch::Receiver<Control>,
    mut rng: Rng,
) -> Result<(), Stop> {
    let mut buf = vec![0u8; MAX_CHUNK];
    let mut last_deliver = Instant::now();
    loop {
        unstalled(&mut control).await?;
        let (rate, latency, jitter) = {
            let c = control.borrow();
            (c.faults.bandwidth_bps, c.faults.latency, c.faults.jitter)
        };
        let want = quantum(rate, MAX_CHUNK);
        // Room in the pipe is taken before reading, so the pipe never holds more than its cap.
        let permit = pipe
            .space
            .acquire_many(want as u32)
            .await
            .map_err(|_| Stop::Shutdown)?;
        let n = from.read(&mut buf[..want]).await.map_err(|_| Stop::Io)?;
        permit.forget();
        pipe.space.add_permits(want - n);
        if n == 0 {
            pipe.push(Chunk::Eof);
            return Ok(());
        }
        if let Some(bps) = rate {
            let link = match direction {
                Direction::Up => &shared.up_link,
                Direction::Down => &shared.down_link,
            };
            let at = link
                .lock()
                .expect("link lock")
                .reserve(n, bps, Instant::now());
            sleep_until(at).await;
        }
        let delay = latency + rng.duration_up_to(jitter);
        last_deliver = last_deliver.max(Instant::now() + delay);
        pipe.push(Chunk::Data {
            bytes: buf[..n].to_vec(),
            deliver_at: last_deliver,
        });
    }
}

async fn write_side(
    direction: Direction,
    mut to: tokio::net::tcp::WriteHalf<'_>,
    pipe: &Pipe,
    shared: &Shared,
    state: &ConnState,
    mut control: watch::Receiver<Control>,
) -> Result<(), Stop> {
    loop {
        let (bytes, deliver_at) = match pipe.pop().await {
            Chunk::Eof => {
                // Pass the half-close on: the other side may still be sending.
                to.shutdown().await.map_err(|_| Stop::Io)?;
                return Ok(());
            }
            Chunk::Data { bytes, deliver_at } => (bytes, deliver_at),
        };
        sleep_until(deliver_at).await;
        unstalled(&mut control).await?;

        let len = bytes.len() as u64;
        let mut take = len;
        let mut cut = None;
        let delivered = state.delivered.load(Ordering::SeqCst);
        let reset_at = state.reset_at.load(Ordering::SeqCst);
        if delivered.saturating_add(take) > reset_at {
            take = reset_at.saturating_sub(delivered);
            cut = Some(Stop::Reset);
        }
        if direction == Direction::Down {
            let limit = control.borrow().faults.truncate_response_after;
            let sent = state.response.load(Ordering::SeqCst);
            if let Some(limit) = limit
                && sent + take > limit
            {
                take = limit.saturating_sub(sent);
                cut = Some(Stop::Truncate);
            }
        }
        if take > 0 {
            to.write_all(&bytes[..take as usize])
                .await
                .map_err(|_| Stop::Io)?;
            state.delivered.fetch_add(take, Ordering::SeqCst);
            let counter = match direction {
                Direction::Up => &shared.counters.bytes_up,
                Direction::Down => {
                    state.response.fetch_add(take, Ordering::SeqCst);
                    &shared.counters.bytes_down
                }
            };
            counter.fetch_add(take, Ordering::SeqCst);
        }
        pipe.space.add_permits(len as usize);
        if let Some(stop) = cut {
            return Err(stop);
        }
    }
}

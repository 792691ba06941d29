//! Self-tests of the fault-injecting proxy against tiny servers on loopback.
//!
//! Every other fault-injection test trusts the proxy to do what its `Faults` say; these tests
//! measure that it does: the bandwidth it lets through, the delay it adds, where it resets or
//! truncates, that stalls hold and release, that `down` refuses, and that its counters are
//! exact. Each prints what it measured.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use berani_tests::proxy::{FaultProxy, Faults, Reset, Stall, Stats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, timeout};

/// A server that echoes every byte back and half-closes when the client does.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                if tokio::io::copy(&mut r, &mut w).await.is_ok() {
                    let _ = w.shutdown().await;
                }
            });
        }
    });
    addr
}

/// What the sink saw of one connection.
#[derive(Debug)]
struct Sunk {
    bytes: u64,
    reset: bool,
}

/// A server that reads and discards, and reports each connection's byte count when it ends.
async fn sink_server() -> (SocketAddr, mpsc::UnboundedReceiver<Sunk>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut bytes = 0u64;
                let reset = loop {
                    match socket.read(&mut buf).await {
                        Ok(0) => break false,
                        Ok(n) => bytes += n as u64,
                        Err(_) => break true,
                    }
                };
                let _ = tx.send(Sunk { bytes, reset });
            });
        }
    });
    (addr, rx)
}

/// A server that sends `len` bytes (a counting pattern) as soon as a client connects.
async fn sender_server(len: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = socket.write_all(&pattern(len)).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Waits (bounded) until the proxy has finished with every connection, so its counters are
/// final.
async fn settled(proxy: &FaultProxy) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = proxy.stats();
        if stats.active == 0 {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "connections still open: {stats:?}"
        );
        sleep(Duration::from_millis(2)).await;
    }
}

/// Sends `data` through an echo and returns what came back.
async fn echo_round(addr: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = stream.split();
    let mut back = Vec::new();
    let write = async {
        w.write_all(data).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let read = async {
        r.read_to_end(&mut back).await.unwrap();
    };
    tokio::join!(write, read);
    back
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_and_counts_bytes_exactly() {
    let proxy = FaultProxy::start(echo_server().await, Faults::none());
    let sizes = [1usize, 1000, 65_537, 300_000];
    for &size in &sizes {
        let data = pattern(size);
        assert_eq!(
            echo_round(proxy.addr(), &data).await,
            data,
            "echo of {size} bytes"
        );
    }
    let stats = settled(&proxy).await;
    let total: u64 = sizes.iter().map(|&s| s as u64).sum();
    println!("counters after {total} bytes echoed on 4 connections: {stats:?}");
    assert_eq!(stats.bytes_up, total);
    assert_eq!(stats.bytes_down, total);
    assert_eq!(stats.accepted, 4);
    assert_eq!(stats.cut(), 0);
    assert_eq!(stats.upstream_failures, 0);
}

/// Pushes bytes through the echo as fast as the client can for `window`, and returns how many
/// came back within it.
async fn echoed_within(addr: SocketAddr, window: Duration) -> u64 {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    let writer = tokio::spawn(async move {
        let block = pattern(1024);
        while w.write_all(&block).await.is_ok() {}
    });
    let start = Instant::now();
    let mut received = 0u64;
    let mut buf = vec![0u8; 4096];
    while let Ok(Ok(n)) = timeout(window.saturating_sub(start.elapsed()), r.read(&mut buf)).await {
        assert!(n > 0, "echo closed early");
        received += n as u64;
    }
    writer.abort();
    received
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_cap_limits_throughput() {
    let faults = Faults {
        bandwidth_bps: Some(64_000),
        ..Faults::none()
    };
    let proxy = FaultProxy::start(echo_server().await, faults);
    let received = echoed_within(proxy.addr(), Duration::from_secs(3)).await;
    println!("bandwidth: 64 kbit/s for 3 s echoed {received} bytes (ideal 24000)");
    assert!(
        (19_200..=28_800).contains(&received),
        "64 kbit/s for 3 s echoed {received} bytes, want 24000 ± 20%"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_cap_is_shared_by_connections() {
    let faults = Faults {
        bandwidth_bps: Some(64_000),
        ..Faults::none()
    };
    let proxy = FaultProxy::start(echo_server().await, faults);
    let window = Duration::from_secs(2);
    let (a, b) = tokio::join!(
        echoed_within(proxy.addr(), window),
        echoed_within(proxy.addr(), window)
    );
    println!(
        "bandwidth shared: 64 kbit/s for 2 s over 2 connections echoed {a} + {b} = {} bytes (ideal 16000)",
        a + b
    );
    assert!(
        (12_800..=19_200).contains(&(a + b)),
        "two connections together echoed {} bytes, want 16000 ± 20%",
        a + b
    );
    assert!(
        a.min(b) * 4 >= a + b,
        "the link is shared unfairly: {a} vs {b}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_without_serialising() {
    let latency = Duration::from_millis(150);
    let jitter = Duration::from_millis(50);
    let faults = Faults {
        latency,
        jitter,
        seed: 3,
        ..Faults::none()
    };
    let proxy = FaultProxy::start(echo_server().await, faults);
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();

    // One byte there and back crosses the link twice.
    let start = Instant::now();
    stream.write_all(b"x").await.unwrap();
    let mut one = [0u8; 1];
    stream.read_exact(&mut one).await.unwrap();
    let rtt = start.elapsed();
    println!("latency: 150 ms + up to 50 ms jitter each way, round trip {rtt:?}");
    assert!(
        rtt >= 2 * latency,
        "round trip {rtt:?} shorter than 2 × {latency:?}"
    );
    assert!(
        rtt <= 2 * (latency + jitter) + Duration::from_millis(100),
        "round trip {rtt:?} too long"
    );

    // Twenty messages sent 10 ms apart: a pipe delivers them all about one round trip after
    // the last was sent; a proxy that delayed each in turn would take 20 round trips.
    let (mut r, mut w) = stream.into_split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        for i in 0..20u8 {
            w.write_all(&[i; 100]).await.unwrap();
            sleep(Duration::from_millis(10)).await;
        }
        w
    });
    let mut back = vec![0u8; 2000];
    r.read_exact(&mut back).await.unwrap();
    let burst = start.elapsed();
    let _w = writer.await.unwrap();
    println!("latency: 20 messages 10 ms apart all echoed after {burst:?}");
    assert!(
        back.chunks(100)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| b == i as u8))
    );
    assert!(burst >= Duration::from_millis(190) + 2 * latency);
    assert!(
        burst < Duration::from_millis(1200),
        "messages were serialised: {burst:?}"
    );

    // A megabyte with no bandwidth cap is limited by the pipe, not by 150 ms per chunk.
    let data = pattern(1024 * 1024);
    let start = Instant::now();
    assert_eq!(echo_round(proxy.addr(), &data).await, data);
    let bulk = start.elapsed();
    println!("latency: 1 MiB echoed through 150 ms latency in {bulk:?}");
    assert!(bulk < Duration::from_secs(3), "1 MiB took {bulk:?}");
}

/// Opens `count` connections one after another, each writing until the proxy resets it, and
/// returns how many bytes each delivered (by the proxy's counter), checking the sink got the
/// same.
async fn bytes_before_reset(seed: u64, mean: u64, count: usize) -> Vec<u64> {
    let (sink, mut sunk) = sink_server().await;
    let faults = Faults {
        reset: Some(Reset::AfterMeanBytes(mean)),
        seed,
        ..Faults::none()
    };
    let proxy = FaultProxy::start(sink, faults);
    let mut delivered = Vec::new();
    for _ in 0..count {
        let before = proxy.stats().bytes_up;
        let stream = TcpStream::connect(proxy.addr()).await.unwrap();
        let (mut r, mut w) = stream.into_split();
        // Returns whether a write failed, as it must once the proxy resets the connection.
        let writer = tokio::spawn(async move {
            let block = pattern(4096);
            for _ in 0..1024 {
                if let Err(e) = w.write_all(&block).await {
                    return matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe);
                }
            }
            false
        });
        // Nothing comes back from a sink: the only thing to read is the reset. Linux reports a
        // reset once, to whichever call comes first; when the writer took it, the read sees the
        // end of the stream.
        let mut buf = [0u8; 16];
        let got = timeout(Duration::from_secs(5), r.read(&mut buf)).await;
        match got.expect("no reset within 5 s") {
            Ok(0) => assert!(writer.await.unwrap(), "closed without a reset"),
            Ok(n) => panic!("read {n} bytes from a sink"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
        }
        let after = settled(&proxy).await.bytes_up;
        let at_sink = timeout(Duration::from_secs(5), sunk.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(at_sink.reset, "the server side was not reset");
        assert_eq!(
            at_sink.bytes,
            after - before,
            "the sink got other bytes than counted"
        );
        delivered.push(after - before);
    }
    assert_eq!(proxy.stats().resets, count as u64);
    delivered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_after_bytes_is_seeded_and_near_the_mean() {
    let mean = 16 * 1024;
    let first = bytes_before_reset(11, mean, 24).await;
    let again = bytes_before_reset(11, mean, 24).await;
    let other = bytes_before_reset(12, mean, 24).await;
    let avg = first.iter().sum::<u64>() as f64 / first.len() as f64;
    println!("reset after mean {mean} bytes, seed 11: {first:?}, average {avg:.0}");
    assert_eq!(first, again, "the same seed must reset at the same bytes");
    assert_ne!(first, other, "another seed must reset elsewhere");
    assert!(
        (0.6..=1.4).contains(&(avg / mean as f64)),
        "average {avg} bytes before reset, mean set {mean}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_after_mean_duration() {
    let faults = Faults {
        reset: Some(Reset::AfterMeanDuration(Duration::from_millis(200))),
        seed: 5,
        ..Faults::none()
    };
    let proxy = FaultProxy::start(echo_server().await, faults);
    let mut streams = Vec::new();
    let start = Instant::now();
    for _ in 0..12 {
        streams.push(TcpStream::connect(proxy.addr()).await.unwrap());
    }
    let mut lifetimes = Vec::new();
    for mut s in streams {
        let mut buf = [0u8; 1];
        let got = timeout(Duration::from_secs(5), s.read(&mut buf)).await;
        let kind = got.expect("no reset within 5 s").err().map(|e| e.kind());
        assert_eq!(kind, Some(ErrorKind::ConnectionReset));
        lifetimes.push(start.elapsed());
    }
    let stats = settled(&proxy).await;
    // Read in order, so a lifetime is at least the longest before it: compare the longest.
    let longest = *lifetimes.iter().max().unwrap();
    println!("reset after mean 200 ms: 12 connections all reset within {longest:?}");
    assert_eq!(stats.resets, 12);
    assert!(longest < Duration::from_secs(3), "{lifetimes:?}");
    assert!(longest > Duration::from_millis(100), "{lifetimes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_holds_traffic_then_resumes() {
    let proxy = FaultProxy::start(echo_server().await, Faults::none());
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut buf = [0u8; 4];

    proxy.set_faults(Faults {
        stall: Some(Stall::UntilChanged),
        ..Faults::none()
    });
    stream.write_all(b"ping").await.unwrap();
    let held = timeout(Duration::from_millis(500), stream.read_exact(&mut buf)).await;
    assert!(held.is_err(), "bytes crossed a stalled link");
    let released = Instant::now();
    proxy.set_faults(Faults::none());
    timeout(Duration::from_secs(1), stream.read_exact(&mut buf))
        .await
        .expect("no resume after the stall was lifted")
        .unwrap();
    let resumed = released.elapsed();
    assert_eq!(&buf, b"ping");

    let stalled_at = Instant::now();
    proxy.set_faults(Faults {
        stall: Some(Stall::For(Duration::from_millis(600))),
        ..Faults::none()
    });
    stream.write_all(b"pong").await.unwrap();
    stream.read_exact(&mut buf).await.unwrap();
    let held_for = stalled_at.elapsed();
    assert_eq!(&buf, b"pong");
    println!(
        "stall: until changed, resumed {resumed:?} after lifting; for 600 ms, held {held_for:?}"
    );
    assert!(resumed < Duration::from_millis(100));
    assert!(
        held_for >= Duration::from_millis(600),
        "held only {held_for:?}"
    );
    assert!(held_for < Duration::from_millis(900), "held {held_for:?}");
    drop(stream);
    let stats = settled(&proxy).await;
    assert_eq!(stats.cut(), 0, "a stall must keep the connection");
    assert_eq!(stats.accepted, 1);
    assert_eq!((stats.bytes_up, stats.bytes_down), (8, 8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_refuses_and_cuts_then_recovers() {
    let proxy = FaultProxy::start(echo_server().await, Faults::none());
    let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
    open.write_all(b"hi").await.unwrap();
    let mut buf = [0u8; 2];
    open.read_exact(&mut buf).await.unwrap();

    proxy.set_faults(Faults {
        down: true,
        ..Faults::none()
    });
    let cut = timeout(Duration::from_secs(1), open.read(&mut buf))
        .await
        .unwrap();
    assert_eq!(
        cut.err().map(|e| e.kind()),
        Some(ErrorKind::ConnectionReset)
    );
    let refused = TcpStream::connect(proxy.addr()).await;
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(ErrorKind::ConnectionRefused)
    );
    assert_eq!(proxy.stats().cut_by_down, 1);

    proxy.set_faults(Faults::none());
    assert_eq!(echo_round(proxy.addr(), b"back").await, b"back");
    let stats = settled(&proxy).await;
    println!("down: {stats:?}");
    assert_eq!(stats.accepted, 2);
    assert_eq!(stats.cut_by_down, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_closes_after_the_response_bytes() {
    let faults = Faults {
        truncate_response_after: Some(10_000),
        ..Faults::none()
    };
    let proxy = FaultProxy::start(sender_server(100_000).await, faults);
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, pattern(10_000));
    let stats = settled(&proxy).await;
    println!(
        "truncate after 10000: client got {} bytes, {stats:?}",
        got.len()
    );
    assert_eq!(stats.truncated, 1);
    assert_eq!(stats.bytes_down, 10_000);

    // A response no longer than the limit passes whole and closes normally.
    let proxy = FaultProxy::start(
        sender_server(10_000).await,
        Faults {
            truncate_response_after: Some(10_000),
            ..Faults::none()
        },
    );
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await.unwrap();
    assert_eq!(got.len(), 10_000);
    drop(stream);
    assert_eq!(settled(&proxy).await.truncated, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_resets_the_client() {
    // A port that was just free: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let proxy = FaultProxy::start(closed, Faults::none());
    // The reset can come before tokio has finished connecting, or after.
    let kind = match TcpStream::connect(proxy.addr()).await {
        Err(e) => e.kind(),
        Ok(mut stream) => {
            let mut buf = [0u8; 1];
            let got = timeout(Duration::from_secs(2), stream.read(&mut buf))
                .await
                .unwrap();
            got.expect_err("read from a proxy without upstream").kind()
        }
    };
    assert_eq!(kind, ErrorKind::ConnectionReset);
    let stats = settled(&proxy).await;
    assert_eq!(stats.upstream_failures, 1);
    assert_eq!(stats.accepted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_proxy_closes_everything() {
    let proxy = FaultProxy::start(
        echo_server().await,
        Faults {
            stall: Some(Stall::UntilChanged),
            latency: Duration::from_secs(1),
            ..Faults::none()
        },
    );
    let addr = proxy.addr();
    let mut open = TcpStream::connect(addr).await.unwrap();
    open.write_all(b"stuck").await.unwrap();
    let start = Instant::now();
    drop(proxy);
    let mut buf = [0u8; 8];
    let got = timeout(Duration::from_secs(1), open.read(&mut buf))
        .await
        .expect("the connection outlived the proxy");
    assert!(
        matches!(got, Ok(0)) || got.is_err(),
        "read {got:?} after drop"
    );
    println!(
        "drop: proxy dropped and connection closed in {:?}",
        start.elapsed()
    );
    let refused = TcpStream::connect(addr).await;
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(ErrorKind::ConnectionRefused)
    );
}

//! The async methods Kotlin awaits run on the bindings' one runtime, whichever thread polls
//! them: the caller needs no tokio context, no second runtime is built, and dropping the call
//! (a cancelled coroutine) stops its work.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use berani_ffi::{Reporter, StopReason, runtimes_built};
use common::*;

#[test]
fn awaited_calls_run_without_a_tokio_context_on_one_runtime() {
    // `block_on` polls on this thread with no tokio context, as Kotlin does.
    let s = Setup::new(); // import_profile_url
    let id = s.queue_report("CONTOH SINTETIS: satu laporan");
    let summary = block_on(
        s.reporter
            .sync(60, Arc::new(Listener::default()))
            .unwrap()
            .wait(),
    )
    .unwrap();
    assert_eq!(summary.stopped, StopReason::Done);
    assert_eq!(summary.delivered, vec![id.clone()]);
    let thread = block_on(s.reporter.followup(id)).unwrap();
    assert!(thread.messages.is_empty());
    // No volunteer code is kept, so nothing is pending and nothing is sent.
    assert!(!block_on(s.reporter.report_volunteer_install()).unwrap());
    assert_eq!(runtimes_built(), 1);
}

#[test]
fn dropping_an_awaited_call_stops_its_work() {
    // A server that takes the request and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let reporter = Reporter::open(home(&dir), MemoryKeys::fresh()).unwrap();

    let mut call = Box::pin(reporter.import_profile_url(url, None));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(call.as_mut().poll(&mut cx).is_pending());

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut conn = loop {
        match listener.accept() {
            Ok((conn, _)) => break conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "the call never connected");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    };
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = conn.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"GET /v1/profile "), "{n} bytes");

    // The coroutine is cancelled: the download stops and its connection closes, well before
    // the profile request's own 60 s time-out.
    drop(call);
    let dropped = Instant::now();
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) => panic!(
                "the connection was still open {:?} after the call was dropped: {e}",
                dropped.elapsed()
            ),
        }
    }
}

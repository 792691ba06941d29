//! The library API the end-to-end tests use: start a server in-process, stop it.

use std::sync::atomic::Ordering;

use berani_server::ServeConfig;

mod common;
use common::client;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_in_process_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ServeConfig::new(dir.path().join("data"));
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let running = berani_server::start(cfg.clone()).await.unwrap();
    assert!(running.admin_password.is_some());
    assert_eq!(running.public_url, format!("http://{}", running.addr));
    let url = format!("http://{}/v1/profile", running.addr);
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // While stopping, requests get 503 with Retry-After.
    running.state().stopping.store(true, Ordering::Relaxed);
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "10");
    running.shutdown().await;
    assert!(
        client().get(&url).send().await.is_err(),
        "no longer listening"
    );

    // A second start on the same folder: no new password.
    let again = berani_server::start(cfg).await.unwrap();
    assert!(again.admin_password.is_none());
    again.shutdown().await;
}

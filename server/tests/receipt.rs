//! Receipts: signed under the profile's receipt key once every part arrived, and one 404
//! for everything else.

mod common;

use berani_core::protocol::{self, Receipt};
use common::*;
use reqwest::StatusCode;
use time::OffsetDateTime;

#[tokio::test]
async fn receipt_is_signed_once_the_report_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"), &[]);
    let p = profile(&s).await;
    let receipt_key = p.receipt_key.expect("profile carries the receipt key");
    let report = Report::new();
    let parts: Vec<Part> = [3_000, 150_000, 70_000]
        .iter()
        .enumerate()
        .map(|(i, n)| seal(&p.recipients[0], bytes(*n, i as u8 + 10)))
        .collect();

    let not_found = |r: reqwest::Response| async move {
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        r.text().await.unwrap()
    };
    // Nothing yet, then incomplete: the same 404 as an unknown report or a wrong token.
    let unknown = not_found(receipt(&s, &report.id, &report.token).await).await;
    upload(&s, &report, 0, 3, &parts[0], 1000).await;
    upload(&s, &report, 2, 3, &parts[2], 65_552).await;
    assert_eq!(
        not_found(receipt(&s, &report.id, &report.token).await).await,
        unknown
    );
    let started = OffsetDateTime::now_utc().unix_timestamp();
    upload(&s, &report, 1, 3, &parts[1], 65_552).await;

    let r = receipt(&s, &report.id, &report.token).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "cache-control"), "no-store");
    let signed = r.bytes().await.unwrap();
    let got = Receipt::verify(&signed, &receipt_key).unwrap();
    assert_eq!(got.schema_version, 1);
    assert_eq!(got.report, report.id);
    assert!((got.received_at.unix_timestamp() - started).abs() <= 5);
    assert_eq!(got.parts.len(), 3);
    for (i, (rp, part)) in got.parts.iter().zip(&parts).enumerate() {
        assert_eq!(rp.part, i as u32);
        assert_eq!(rp.size, part.sealed.len() as u64);
        assert_eq!(rp.sha256, part.sha256);
    }
    // The profile key does not verify it: receipts have their own key.
    let other: berani_core::jws::PublicKey =
        String::from_utf8(run(&["profile", "pubkey"], &s.data, None).stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    assert!(Receipt::verify(&signed, &other).is_err());
    // Deterministic: the same bytes again.
    let again = receipt(&s, &report.id, &report.token)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(again, signed);

    // Wrong token, unknown report, no token, a malformed id: all the same 404.
    let wrong = protocol::new_token();
    assert_eq!(
        not_found(receipt(&s, &report.id, &wrong).await).await,
        unknown
    );
    let other_id = berani_core::crypto::random_id();
    assert_eq!(
        not_found(receipt(&s, &other_id, &report.token).await).await,
        unknown
    );
    let r = client()
        .get(s.url(&protocol::receipt_path(&report.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(not_found(r).await, unknown);
    let r = client()
        .get(s.url("/v1/reports/..%2F..%2Fberani.db/receipt"))
        .header("Authorization", format!("Bearer {}", report.token))
        .send()
        .await
        .unwrap();
    assert_eq!(not_found(r).await, unknown);
}

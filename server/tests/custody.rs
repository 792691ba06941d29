//! Key custody: the admin password shown once, the wrapped identity, the audited export that
//! opens a real upload with the stock `age` tool, and the profile commands.

mod common;

use std::path::Path;
use std::process::Command;

use berani_core::jws::SigningKey;
use common::*;
use reqwest::StatusCode;

fn all_bytes_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_bytes_under(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn audit_rows(data: &Path) -> Vec<(String, String, String)> {
    let c = rusqlite::Connection::open(data.join("berani.db")).unwrap();
    let mut st = c
        .prepare("SELECT at, actor, action FROM audit ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn admin_password_once_and_audited_export_opens_uploads_with_age() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data, &[]);
    let password = s.admin_password();
    let lines: Vec<String> = s.stdout().lines().map(str::to_owned).collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("admin password: "))
            .count(),
        1,
        "{lines:?}"
    );
    // 25 Crockford base32 characters in five groups: 125 bits.
    assert_eq!(password.len(), 29);
    assert_eq!(password.split('-').count(), 5);

    // Upload a real sealed part.
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], b"laporan: isi rahasia".repeat(5000));
    let report = Report::new();
    let url = upload(&s, &report, 0, 1, &part, 65_552).await;
    let blob = data.join("uploads").join(url.rsplit('/').next().unwrap());

    // The password is written nowhere under the data folder, in any spelling.
    let compact = password.replace('-', "");
    for (path, content) in all_bytes_under(&data) {
        for needle in [password.as_bytes(), compact.as_bytes()] {
            assert!(
                !content.windows(needle.len()).any(|w| w == needle),
                "found in {path}"
            );
        }
        assert!(
            !content.windows(15).any(|w| w == b"AGE-SECRET-KEY-"),
            "identity in clear in {path}"
        );
    }

    // A wrong password: refused with one line, nothing printed, nothing audited.
    for wrong in ["WRONG-PASSWORD", ""] {
        let out = run(&["key", "export"], &data, Some(wrong));
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("wrong password"), "{err}");
    }
    assert!(audit_rows(&data).is_empty());

    // The right one (typed in lower case, without dashes, on stdin).
    let mut child = Command::new(BIN)
        .args(["key", "export", "--data"])
        .arg(&data)
        .env_remove("BERANI_ADMIN_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{}", compact.to_lowercase()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let identity = String::from_utf8(out.stdout).unwrap();
    assert_eq!(identity.lines().count(), 1);
    assert!(identity.starts_with("AGE-SECRET-KEY-1"));
    let audit = audit_rows(&data);
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].1.as_str(), audit[0].2.as_str()),
        ("admin", "key_export")
    );
    assert!(
        time::OffsetDateTime::parse(&audit[0].0, &time::format_description::well_known::Rfc3339)
            .is_ok()
    );

    // The stock age tool opens the stored blob with it.
    let key_file = dir.path().join("identity.txt");
    std::fs::write(&key_file, &identity).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key_file)
        .arg(&blob)
        .output()
        .expect("the age tool is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, part.plain);

    // A second start prints no password.
    s.stop();
    let s = Server::start(&data, &[]);
    assert_eq!(profile(&s).await.agency_name, "Dinsos P3A Kabupaten Blora");
    assert!(!s.stdout().contains("admin password"));
}

#[tokio::test]
async fn log_has_no_client_address_token_or_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"), &[]);
    let p = profile(&s).await;
    let part = seal(&p.recipients[0], bytes(10_000, 7));
    let report = Report::new();
    let url = upload(&s, &report, 0, 1, &part, 4096).await;
    assert_eq!(
        receipt(&s, &report.id, &report.token).await.status(),
        StatusCode::OK
    );
    assert_eq!(head(&url).await.status(), StatusCode::OK);
    // A request from a socket whose port we know.
    let mut c = raw(&s);
    let port = c.local_addr().unwrap().port().to_string();
    write_all(&mut c, b"GET /v1/profile HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\nForwarded: for=203.0.113.9\r\nConnection: close\r\n\r\n");
    let (resp, _) = read_until_closed(c);
    assert!(resp.starts_with("HTTP/1.1 200"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = s.stderr();
    assert!(log.contains("PATCH /v1/uploads/{upload} 204"), "{log}");
    assert!(
        log.contains("GET /v1/reports/{report}/receipt 200"),
        "{log}"
    );
    assert!(log.contains("GET /v1/profile 200"), "{log}");
    let after_start: Vec<&str> = log
        .lines()
        .filter(|l| !l.contains("listening on"))
        .collect();
    for line in &after_start {
        for secret in [
            "127.0.0.1",
            "203.0.113.9",
            &report.id,
            &report.token,
            &part.sha256,
        ] {
            assert!(!line.contains(secret), "{secret} in log line {line}");
        }
        assert!(!line.contains(&format!(":{port}")), "client port in {line}");
        assert!(
            !line.contains(url.rsplit('/').next().unwrap()),
            "upload id in {line}"
        );
    }
    // And the flag to turn addresses on does not exist.
    let out = Command::new(BIN)
        .args(["serve", "--data", "/nonexistent", "--log-ip"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(String::from_utf8(out.stderr).unwrap().lines().count(), 1);
}

#[tokio::test]
async fn profile_is_re_signed_on_url_change_and_with_an_offline_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(
        &data,
        &[
            "--agency-name",
            "Dinsos Uji",
            "--hotline",
            "Posko=0296123,0812",
            "--max-attachment-mb",
            "5",
        ],
    );
    let p1 = profile(&s).await;
    assert_eq!(p1.version, 1);
    assert_eq!(p1.agency_name, "Dinsos Uji");
    assert_eq!(p1.regency_code, "33.16");
    assert_eq!(p1.intake_url, s.base);
    assert_eq!(p1.max_attachment_bytes, 5_000_000);
    assert_eq!(p1.hotlines[0].whatsapp.as_deref(), Some("0812"));
    assert!(p1.expires_at - p1.issued_at >= time::Duration::days(365));
    let pem_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data.join("profile-signing.pem"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(pem_mode & 0o777, 0o600);
    s.stop();

    // Same folder, a new port and an explicit public URL: version 2 with the new URL.
    let s = Server::start(&data, &["--public-url", "https://lapor.example.go.id/"]);
    let p2 = profile(&s).await;
    assert_eq!(p2.version, 2);
    assert_eq!(p2.intake_url, "https://lapor.example.go.id");
    assert_eq!(p2.receipt_key, p1.receipt_key);
    s.stop();
    // Unchanged: the stored bytes are served as they are.
    let s = Server::start(&data, &["--public-url", "https://lapor.example.go.id"]);
    assert_eq!(profile(&s).await.version, 2);

    // An offline key: re-signed as version 3, and it becomes the profile key.
    let offline = SigningKey::generate();
    let key_file = dir.path().join("offline.pem");
    std::fs::write(&key_file, offline.to_pem().as_bytes()).unwrap();
    let out = run(
        &["profile", "sign", "--key", key_file.to_str().unwrap()],
        &data,
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("signed profile version 3 with {}", offline.public())
    );
    let out = run(&["profile", "pubkey"], &data, None);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        offline.public().to_string()
    );
    let p3 = profile(&s).await;
    assert_eq!(p3.version, 3);
    // Signing with the folder's key would swap the pinned key: refused.
    let out = run(&["profile", "sign"], &data, None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("pass --key")
    );
    s.stop();

    // The URL changes again, but the key is offline: a warning, and version 3 stays.
    let s = Server::start(&data, &[]);
    assert_eq!(profile(&s).await.version, 3);
    assert!(s.stderr().contains("profile sign --key"), "{}", s.stderr());

    // Commands on a folder that is not set up fail with one line.
    let out = run(&["profile", "pubkey"], &dir.path().join("none"), None);
    assert!(!out.status.success());
    assert_eq!(String::from_utf8(out.stderr).unwrap().lines().count(), 1);
}

/// `serve --data DATA …` expected to refuse: its one-line error.
fn serve_refused(data: &Path, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .output()
        .unwrap();
    assert!(!out.status.success(), "serve {extra:?} started");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    err
}

#[tokio::test]
async fn tls_pin_is_printed_checked_published_and_changed() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Two certificates for localhost, each with its own key.
    let pem = |name: &str| {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (cert, key) = (
            dir.path().join(format!("{name}.crt")),
            dir.path().join(name),
        );
        std::fs::write(&cert, c.cert.pem()).unwrap();
        std::fs::write(&key, c.signing_key.serialize_pem()).unwrap();
        let spki = berani_core::crypto::sha256(&rcgen::PublicKeyData::subject_public_key_info(
            &c.signing_key,
        ));
        let pin = base64::engine::general_purpose::STANDARD.encode(spki);
        (cert, key, pin)
    };
    let (cert_a, key_a, pin_a) = pem("a");
    let (_, _, pin_b) = pem("b");

    // `profile tls-pin` prints the SHA-256 of the certificate's key, as phones check it.
    let out = Command::new(BIN)
        .args(["profile", "tls-pin", "--cert"])
        .arg(&cert_a)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), pin_a);
    let out = Command::new(BIN)
        .args(["profile", "tls-pin", "--cert"])
        .arg(&key_a)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a key file is not a certificate");

    // Refused before anything is written: a pin on a plain-http intake URL, a pin that is
    // not the served certificate's, and a value that is not a pin.
    let e = serve_refused(&data, &["--tls-pin", &pin_a]);
    assert!(e.contains("--tls-pin needs an https intake URL"), "{e}");
    let tls = [
        "--tls-cert",
        cert_a.to_str().unwrap(),
        "--tls-key",
        key_a.to_str().unwrap(),
    ];
    let e = serve_refused(&data, &[&tls[..], &["--tls-pin", &pin_b]].concat());
    assert!(e.contains("is not the pin of") && e.contains(&pin_a), "{e}");
    let e = serve_refused(&data, &["--tls-pin", "bukan-pin"]);
    assert!(e.contains("invalid TLS pin"), "{e}");
    assert!(!data.exists(), "a refused start wrote the data folder");

    // Serving TLS with its own certificate's pin: the first profile carries it.
    let s = Server::start(&data, &[&tls[..], &["--tls-pin", &pin_a]].concat());
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let out = run(&["profile", "pubkey"], &data, None);
    let key = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let signed: Vec<u8> = rusqlite::Connection::open(data.join("berani.db"))
        .unwrap()
        .query_row("SELECT signed FROM profile", [], |r| r.get(0))
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let p = berani_core::profile::verify(&signed, &key, now).unwrap();
    assert_eq!(
        (p.version, p.tls_spki_sha256.as_deref()),
        (1, Some(&*pin_a))
    );
    s.stop();

    // Behind a TLS proxy (plain HTTP here) with an https public URL, the same pin spelled
    // another way: the URL changed (version 2), the pin is kept as it was.
    let url = ["--public-url", "https://lapor.example.go.id"];
    let unpadded = format!("sha256/{}", pin_a.trim_end_matches('='));
    let s = Server::start(&data, &[&url[..], &["--tls-pin", &unpadded]].concat());
    let p = profile(&s).await;
    assert_eq!(
        (p.version, p.tls_spki_sha256.as_deref()),
        (2, Some(&*pin_a))
    );
    s.stop();
    // The pin changed: re-signed (version 3) with the new one.
    let s = Server::start(&data, &[&url[..], &["--tls-pin", &pin_b]].concat());
    let p = profile(&s).await;
    assert_eq!(
        (p.version, p.tls_spki_sha256.as_deref()),
        (3, Some(&*pin_b))
    );
    s.stop();
    // No pin any more: re-signed without it.
    let s = Server::start(&data, &url);
    let p = profile(&s).await;
    assert_eq!((p.version, p.tls_spki_sha256), (4, None));

    // Offline signing sets the URL and the pin too; a pin on an http URL is refused.
    let out = run(
        &[
            "profile",
            "sign",
            "--public-url",
            "http://10.0.0.1",
            "--tls-pin",
            &pin_a,
        ],
        &data,
        None,
    );
    assert!(!out.status.success());
    let out = run(&["profile", "sign", "--tls-pin", &pin_a], &data, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = profile(&s).await;
    assert_eq!(
        (p.version, p.tls_spki_sha256.as_deref()),
        (5, Some(&*pin_a))
    );
    let out = run(
        &[
            "profile",
            "sign",
            "--public-url",
            "https://lapor2.example.go.id/",
            "--tls-pin",
            "none",
        ],
        &data,
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = profile(&s).await;
    assert_eq!(p.version, 6);
    assert_eq!(p.intake_url, "https://lapor2.example.go.id");
    assert_eq!(p.tls_spki_sha256, None);
    s.stop();
}

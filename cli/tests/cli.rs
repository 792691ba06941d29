//! The `berani` binary end to end: profile, drafts, submit, outbox, areas, and age interop
//! with the reference `age` tool. Every error must be one line and a non-zero exit.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn home(&self) -> PathBuf {
        self.p("home")
    }
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }
    /// Runs with these environment variables set (and no profile key from the caller's).
    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_berani"))
            .arg("--home")
            .arg(self.home())
            .args(args)
            .env_remove("BERANI_PROFILE_KEY")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
    /// Runs a command that must fail; returns its one-line error.
    fn err(&self, args: &[&str]) -> String {
        self.err_with(args, &[])
    }
    /// [`Env::err`] with these environment variables set.
    fn err_with(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let o = self.run_with(args, env);
        assert!(!o.status.success(), "{args:?} should fail");
        let e = String::from_utf8(o.stderr).unwrap();
        assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
        assert!(e.starts_with("berani: "), "{e}");
        e
    }

    /// An agency (age identity, signing key, signed profile) and the profile installed.
    fn with_profile(&self) -> String {
        assert!(
            Command::new("age-keygen")
                .arg("-o")
                .arg(self.p("agency.key"))
                .output()
                .expect("the reference age tool is needed: apt-get install age")
                .status
                .success()
        );
        let pubkey = self.ok(&["profile", "keygen", self.p("sign.pem").to_str().unwrap()]);
        let recipient = String::from_utf8(
            Command::new("age-keygen")
                .arg("-y")
                .arg(self.p("agency.key"))
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let now = time::OffsetDateTime::now_utc();
        let fmt = &time::format_description::well_known::Rfc3339;
        let profile = serde_json::json!({
            "schema_version": 1, "version": 1,
            "agency_name": "Dinsos P3A Kabupaten Blora", "regency_code": "33.16",
            "intake_url": "http://127.0.0.1:9",
            "recipients": [recipient.trim()],
            "hotlines": [{"name": "Dinsos P3A Blora", "number": "0296531234"}],
            "max_attachment_bytes": 20_000_000,
            "issued_at": now.format(fmt).unwrap(),
            "expires_at": (now + time::Duration::days(30)).format(fmt).unwrap(),
        });
        fs::write(self.p("profile.json"), profile.to_string()).unwrap();
        self.ok(&[
            "profile",
            "sign",
            "--key",
            self.p("sign.pem").to_str().unwrap(),
            self.p("profile.json").to_str().unwrap(),
            self.p("profile.jws").to_str().unwrap(),
        ]);
        self.ok(&[
            "profile",
            "import",
            self.p("profile.jws").to_str().unwrap(),
            "--trust",
            pubkey.trim(),
        ]);
        pubkey.trim().to_string()
    }

    fn age_decrypt(&self, file: &Path) -> Vec<u8> {
        let o = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(self.p("agency.key"))
            .arg(file)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "age -d: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o.stdout
    }
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../core/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn report_from_draft_to_outbox() {
    let e = Env::new();
    e.with_profile();
    assert!(
        e.ok(&["profile", "show"])
            .contains("agency: Dinsos P3A Kabupaten Blora")
    );
    let id = e
        .ok(&[
            "draft",
            "new",
            "--category",
            "neglect",
            "--text",
            "Anak ditinggal sendirian",
            "--district",
            "33.16.09",
            "--in-danger",
            "--attach",
            &fixture("photo.jpg"),
        ])
        .trim()
        .to_string();
    assert_eq!(id.len(), 32);
    e.ok(&[
        "draft",
        "edit",
        &id,
        "--victim",
        "boy",
        "--age-band",
        "0-5",
        "--date",
        "2026-11-01",
    ]);
    let shown = e.ok(&["draft", "show", &id]);
    assert!(
        shown.contains("category: neglect (Penelantaran / Neglect)"),
        "{shown}"
    );
    assert!(shown.contains("in danger now: YES"));
    assert!(shown.contains("date: 2026-11-01"));
    assert!(shown.contains("image/jpeg"));
    assert!(e.ok(&["draft", "list"]).contains(&id));

    e.ok(&["submit", &id]);
    let outbox: serde_json::Value = serde_json::from_str(&e.ok(&["outbox", "--json"])).unwrap();
    assert_eq!(outbox[0]["id"], id.as_str());
    assert_eq!(outbox[0]["state"], "queued");
    assert_eq!(outbox[0]["parts"].as_array().unwrap().len(), 2);
    assert!(e.ok(&["outbox"]).contains("queued"));
    assert!(e.ok(&["draft", "list"]).trim().is_empty());

    // The agency opens the parts with the stock age tool.
    let doc = e.age_decrypt(&e.home().join(format!("outbox/{id}/0.age")));
    let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    assert_eq!(doc["category"], "neglect");
    assert_eq!(doc["victim_sex"], "boy");
    let photo = e.age_decrypt(&e.home().join(format!("outbox/{id}/1.age")));
    assert_eq!(photo, fs::read(fixture("photo.jpg")).unwrap());
}

#[test]
fn bad_input_gets_one_clear_line_and_changes_nothing() {
    let e = Env::new();
    e.with_profile();
    let id = e
        .ok(&[
            "draft",
            "new",
            "--text",
            "isi",
            "--district",
            "33.16.09",
            "--village",
            "33.16.09.2001",
            "--attach",
            &fixture("photo.jpg"),
        ])
        .trim()
        .to_string();
    let before = e.ok(&["draft", "show", &id, "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&before).unwrap();
    let attachment = shown["attachments"][0]["id"].as_str().unwrap().to_string();
    let files = || fs::read_dir(e.home().join("files")).unwrap().count();
    assert_eq!(files(), 1);
    fs::write(e.p("notes.txt"), "just words").unwrap();
    let notes = e.p("notes.txt");
    let notes = notes.to_str().unwrap();
    let notes_named = format!("--voice-note {notes}: ");
    let photo_png = fixture("photo.png");

    // Each refused edit, valid changes mixed with one bad one: one line naming what was wrong,
    // and the whole draft (fields, attachments, times) and its files exactly as before.
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--district", "33.16.99"],
            vec!["district", "Kecamatan"],
        ),
        (
            vec!["--category", "sexual", "--district", "99.99.99"],
            vec!["District: area code is not known", "Kecamatan"],
        ),
        (
            vec!["--district", "33.16.05", "--village", "33.16.01.2001"],
            vec!["not in the chosen district"],
        ),
        (
            vec!["--clear", "description", "--village", "33.16.01.2001"],
            vec!["not in the chosen district"],
        ),
        (
            vec!["--remove-attachment", &attachment, "--date", "2999-01-01"],
            vec!["date is in the future", "tanggal belum terjadi"],
        ),
        (
            vec!["--remove-attachment", "nope", "--text", "DIUBAH"],
            vec!["attachment not found"],
        ),
        (
            vec!["--clear", "nonsense", "--text", "DIUBAH"],
            vec!["--clear", "unknown field name"],
        ),
        (
            vec!["--text", "DIUBAH", "--attach", "/no/such/file.jpg"],
            vec![
                "--attach /no/such/file.jpg: ",
                "file cannot be read",
                "Lampiran: file tidak bisa dibaca",
            ],
        ),
        (
            vec![
                "--text",
                "DIUBAH",
                "--attach",
                &photo_png,
                "--voice-note",
                notes,
            ],
            vec![&notes_named, "cannot be sent"],
        ),
        (vec!["--category", "bogus"], vec!["physical"]),
    ];
    for (args, expect) in &cases {
        let mut argv = vec!["draft", "edit", id.as_str()];
        argv.extend(args);
        let err = e.err(&argv);
        for want in expect {
            assert!(err.contains(want), "{args:?}: {want:?} not in {err}");
        }
        assert_eq!(
            e.ok(&["draft", "show", &id, "--json"]),
            before,
            "{args:?} changed the draft"
        );
        assert_eq!(files(), 1, "{args:?} left a file behind");
    }
    let err = e.err(&["submit", &id]);
    assert!(err.contains("category") && err.contains("wajib"), "{err}");
    e.err(&["draft", "show", "nope"]);
    e.err(&["draft", "edit", "nope", "--text", "x"]);

    // The same kinds of change, all valid, are saved together.
    e.ok(&[
        "draft",
        "edit",
        &id,
        "--category",
        "sexual",
        "--clear",
        "village",
        "--district",
        "33.16.05",
        "--remove-attachment",
        &attachment,
        "--attach",
        &fixture("photo.png"),
    ]);
    let after: serde_json::Value =
        serde_json::from_str(&e.ok(&["draft", "show", &id, "--json"])).unwrap();
    assert_eq!(after["category"], "sexual");
    assert_eq!(after["location"]["district"], "33.16.05");
    assert_eq!(after["location"]["village"], serde_json::Value::Null);
    assert_eq!(after["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(after["attachments"][0]["mime"], "image/png");
    assert_eq!(files(), 1);

    // A new draft with a bad field or file is not left behind half-made.
    let n = e.ok(&["draft", "list"]).lines().count();
    e.err(&["draft", "new", "--text", "x", "--district", "99.99.99"]);
    let err = e.err(&[
        "draft",
        "new",
        "--text",
        "x",
        "--attach",
        &fixture("photo.jpg"),
        "--attach",
        "/no/such/file.jpg",
    ]);
    assert!(err.contains("--attach /no/such/file.jpg: "), "{err}");
    assert_eq!(e.ok(&["draft", "list"]).lines().count(), n);
    assert_eq!(files(), 1);

    // Profiles that are not signed, not JSON, or carry a malformed TLS pin; the installed
    // one stays.
    let installed = e.ok(&["profile", "show", "--json"]);
    fs::write(e.p("bad.jws"), "not json").unwrap();
    fs::write(e.p("empty.jws"), "{}").unwrap();
    let mut profile: serde_json::Value =
        serde_json::from_slice(&fs::read(e.p("profile.json")).unwrap()).unwrap();
    profile["version"] = 2.into();
    profile["tls_spki_sha256"] = "abc".into();
    fs::write(e.p("pin.json"), profile.to_string()).unwrap();
    e.ok(&[
        "profile",
        "sign",
        "--key",
        e.p("sign.pem").to_str().unwrap(),
        e.p("pin.json").to_str().unwrap(),
        e.p("pin.jws").to_str().unwrap(),
    ]);
    for (file, want) in [
        ("bad.jws", "profile is malformed: not a signed profile"),
        ("empty.jws", "profile is not signed"),
        ("profile.json", "profile is not signed"),
        (
            "pin.jws",
            "tls_spki_sha256 is not base64 of a SHA-256 digest",
        ),
    ] {
        let err = e.err(&["profile", "import", e.p(file).to_str().unwrap()]);
        assert!(err.contains(want), "{file}: {err}");
        if want.contains("not signed") {
            assert!(err.contains("tidak bertanda tangan"), "{err}");
        }
    }
    assert_eq!(e.ok(&["profile", "show", "--json"]), installed);

    // A missing home.
    let o = Command::new(env!("CARGO_BIN_EXE_berani"))
        .args(["outbox"])
        .env_remove("BERANI_HOME")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--home"));
}

/// A usage error: exit status 2 and one line.
fn usage_error(o: &Output, args: &[&str]) -> String {
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    let e = String::from_utf8(o.stderr.clone()).unwrap();
    assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: one line: {e}");
    assert!(e.starts_with("berani: "), "{e}");
    e
}

#[test]
fn usage_errors_name_the_missing_argument_on_one_line() {
    let e = Env::new();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["draft", "show"],
            &["not provided: <ID>", "usage: berani draft show <ID>"],
        ),
        (
            &["submit"],
            &["not provided: <ID>", "usage: berani submit <ID>"],
        ),
        (
            &["seal"],
            &["not provided: --recipient <RECIPIENTS>, <INPUT>, <OUTPUT>"],
        ),
        (&["seal", "-r", "x"], &["not provided: <INPUT>, <OUTPUT>"]),
        (
            &["open", "a", "b"],
            &["not provided: --identity <IDENTITY>"],
        ),
        (
            &["draft", "new", "--date-from", "2026-01-01"],
            &["not provided: --date-to <DATE_TO>"],
        ),
        (&["relay", "export", "x"], &["not provided: <FILE>"]),
        (
            &["draft"],
            &["`berani draft` needs a command: new, edit, show, list, delete"],
        ),
        (&[], &["`berani` needs a command: profile, draft, submit"]),
        (
            &["draft", "new", "--textt", "x"],
            &["'--textt'", "similar argument exists: '--text'"],
        ),
        (&["frobnicate"], &["'frobnicate'"]),
    ];
    for (args, expect) in cases {
        let err = usage_error(&e.run(args), args);
        for want in *expect {
            assert!(err.contains(want), "{args:?}: {want:?} not in {err}");
        }
        assert!(err.contains(" — ") && err.contains("lihat --help"), "{err}");
        if err.contains("not provided") {
            assert!(err.contains("argumen wajib belum diberikan"), "{err}");
        }
    }
    // Help and version are not errors.
    assert!(e.run(&["--help"]).status.success());
    assert!(e.run(&["--version"]).status.success());
}

#[test]
fn a_home_that_is_a_file_or_under_one_is_named() {
    let e = Env::new();
    fs::write(e.p("a-file"), "x").unwrap();
    for (home, want) in [
        (e.p("a-file"), "not a folder (a file has that name)"),
        (e.p("a-file/sub"), "cannot open the folder: not a directory"),
    ] {
        for args in [&["draft", "list"][..], &["wipe", "--yes"], &["outbox"]] {
            let o = Command::new(env!("CARGO_BIN_EXE_berani"))
                .arg("--home")
                .arg(&home)
                .args(args)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1), "{args:?}");
            let err = String::from_utf8(o.stderr).unwrap();
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
            let named = format!("berani: --home {}: ", home.display());
            assert!(err.starts_with(&named), "{args:?}: {err}");
            // The wipe does not open the store, so its reason is its own.
            if args[0] != "wipe" || !want.starts_with("cannot open") {
                assert!(err.contains(want), "{args:?}: {err}");
            }
            assert!(!err.contains("ruang penyimpanan"), "{err}");
        }
    }
    assert_eq!(
        fs::read(e.p("a-file")).unwrap(),
        b"x",
        "the file is untouched"
    );
}

#[test]
fn areas_list_and_search() {
    let e = Env::new();
    let d = e.ok(&["areas"]);
    assert_eq!(d.lines().count(), 16);
    assert!(d.contains("33.16.05  Cepu"));
    let v = e.ok(&["areas", "33.16.05"]);
    assert!(v.lines().all(|l| l.starts_with("33.16.05.")), "{v}");
    let s = e.ok(&["areas", "--search", "CÉPU"]);
    assert!(s.contains("33.16.05  Cepu  (kecamatan)"), "{s}");
    e.err(&["areas", "33.16.99"]);
}

#[test]
fn seal_and_open_interoperate_with_the_reference_age_tool() {
    let e = Env::new();
    assert!(
        Command::new("age-keygen")
            .arg("-o")
            .arg(e.p("k.txt"))
            .output()
            .expect("the reference age tool is needed: apt-get install age")
            .status
            .success()
    );
    let rcpt = String::from_utf8(
        Command::new("age-keygen")
            .arg("-y")
            .arg(e.p("k.txt"))
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    fs::write(e.p("plain"), &data).unwrap();

    // berani seal → age -d
    e.ok(&[
        "seal",
        "-r",
        rcpt.trim(),
        e.p("plain").to_str().unwrap(),
        e.p("c.age").to_str().unwrap(),
    ]);
    let o = Command::new("age")
        .args(["-d", "-i"])
        .arg(e.p("k.txt"))
        .arg(e.p("c.age"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.stdout, data);

    // age -r → berani open
    let o = Command::new("age")
        .args(["-r", rcpt.trim(), "-o"])
        .arg(e.p("d.age"))
        .arg(e.p("plain"))
        .output()
        .unwrap();
    assert!(o.status.success());
    e.ok(&[
        "open",
        "-i",
        e.p("k.txt").to_str().unwrap(),
        e.p("d.age").to_str().unwrap(),
        e.p("out").to_str().unwrap(),
    ]);
    assert_eq!(fs::read(e.p("out")).unwrap(), data);

    // age -a -r → berani open: the ASCII armor is read too.
    let o = Command::new("age")
        .args(["-a", "-r", rcpt.trim(), "-o"])
        .arg(e.p("a.age"))
        .arg(e.p("plain"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let armored = fs::read(e.p("a.age")).unwrap();
    assert!(armored.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----\n"));
    e.ok(&[
        "open",
        "-i",
        e.p("k.txt").to_str().unwrap(),
        e.p("a.age").to_str().unwrap(),
        e.p("out-a").to_str().unwrap(),
    ]);
    assert_eq!(fs::read(e.p("out-a")).unwrap(), data);
    // Armor that is not canonical (a line rewrapped to 76 columns) is refused with the reason,
    // and leaves no output behind.
    let text = String::from_utf8(armored).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let moved: String = lines[2].drain(..12).collect();
    lines[1].push_str(&moved);
    fs::write(e.p("bad-a.age"), lines.join("\n") + "\n").unwrap();
    let err = e.err(&[
        "open",
        "-i",
        e.p("k.txt").to_str().unwrap(),
        e.p("bad-a.age").to_str().unwrap(),
        e.p("out-b").to_str().unwrap(),
    ]);
    assert!(
        err.contains("age armor is invalid: a line is longer than 64 columns"),
        "{err}"
    );
    assert!(!e.p("out-b").exists() && !e.p("out-b.partial").exists());

    // A truncated file is refused and leaves no output behind.
    let c = fs::read(e.p("d.age")).unwrap();
    fs::write(e.p("t.age"), &c[..c.len() - 100]).unwrap();
    let err = e.err(&[
        "open",
        "-i",
        e.p("k.txt").to_str().unwrap(),
        e.p("t.age").to_str().unwrap(),
        e.p("out2").to_str().unwrap(),
    ]);
    assert!(err.contains("corrupted or truncated"), "{err}");
    assert!(!e.p("out2").exists() && !e.p("out2.partial").exists());
}

/// kill -9 at random moments of `submit`: a report is always either still a draft or fully
/// queued with every part, never both, never neither.
#[test]
fn submit_survives_kill_9_at_any_moment() {
    let e = Env::new();
    e.with_profile();
    // A 3 MB attachment makes sealing long enough for kills to land inside it (an MP4 header and
    // noise, which only "keep metadata" attaches as it is).
    let big = e.p("video.mp4");
    let mut mp4 = vec![
        0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm',
    ];
    mp4.extend_from_slice(&[0, 0, 0, 0, b'i', b's', b'o', b'm', b'm', b'p', b'4', b'1']);
    mp4.extend((0..3_000_000u32).map(|i| (i % 249) as u8));
    fs::write(&big, &mp4).unwrap();
    let new_draft = || {
        e.ok(&[
            "draft",
            "new",
            "--category",
            "other",
            "--text",
            "x",
            "--district",
            "33.16.01",
            "--keep-metadata",
            big.to_str().unwrap(),
        ])
        .trim()
        .to_string()
    };
    // Measure one whole submit, then kill at moments spread over 1.5 times that.
    let calibration = new_draft();
    let start = std::time::Instant::now();
    e.ok(&["submit", &calibration]);
    let span_us = (start.elapsed().as_micros() as u64 * 3 / 2).max(1);
    let mut outcomes = [0usize; 2];
    for round in 0..20u64 {
        let id = new_draft();
        let mut child = Command::new(env!("CARGO_BIN_EXE_berani"))
            .arg("--home")
            .arg(e.home())
            .args(["submit", &id])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let r = u64::from_le_bytes(berani_core::crypto::random::<8>());
        std::thread::sleep(std::time::Duration::from_micros(r % span_us));
        let _ = child.kill();
        child.wait().unwrap();

        let is_draft = e.run(&["draft", "show", &id]).status.success();
        let outbox: serde_json::Value = serde_json::from_str(&e.ok(&["outbox", "--json"])).unwrap();
        let queued = outbox
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id.as_str());
        assert!(
            is_draft != queued.is_some(),
            "round {round}: draft={is_draft} queued={}",
            queued.is_some()
        );
        if let Some(q) = queued {
            for p in q["parts"].as_array().unwrap() {
                let f = e.home().join(format!("outbox/{id}/{}.age", p["idx"]));
                assert_eq!(fs::metadata(&f).unwrap().len(), p["size"].as_u64().unwrap());
            }
            let doc = e.age_decrypt(&e.home().join(format!("outbox/{id}/1.age")));
            assert_eq!(doc, mp4, "round {round}: sealed video opens whole");
            outcomes[1] += 1;
        } else {
            outcomes[0] += 1;
            // The interrupted draft still submits.
            e.ok(&["submit", &id]);
        }
    }
    println!(
        "kill -9 during submit: {} left as draft, {} queued",
        outcomes[0], outcomes[1]
    );
    // Kills landed both before and after the commit, so both outcomes were checked.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}

/// Serves `body` as `200 application/json` to `n` requests on loopback; returns the port and
/// the request lines it saw.
fn serve_profile(body: Vec<u8>, n: usize) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..n {
            let (mut tcp, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(tcp.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            seen.push(line.trim_end().to_string());
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
            }
            write!(
                tcp,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            tcp.write_all(&body).unwrap();
        }
        seen
    });
    (port, t)
}

#[test]
fn a_profile_is_fetched_from_the_intake_server_and_still_verified() {
    let agency = Env::new();
    let key = agency.with_profile();
    let signed = fs::read(agency.p("profile.jws")).unwrap();

    // Trusted key: fetched from /v1/profile (added to a URL without a path) and installed.
    let (port, server) = serve_profile(signed.clone(), 1);
    let e = Env::new();
    let out = e.ok(&[
        "profile",
        "import",
        &format!("http://127.0.0.1:{port}"),
        "--trust",
        &key,
    ]);
    assert!(out.contains("installed profile v1"), "{out}");
    assert_eq!(server.join().unwrap(), ["GET /v1/profile HTTP/1.1"]);
    assert!(
        e.ok(&["profile", "show"])
            .contains("Dinsos P3A Kabupaten Blora")
    );

    // Another key: refused, nothing installed.
    let (port, server) = serve_profile(signed, 1);
    let other = Env::new();
    let other_key = other.ok(&["profile", "keygen", other.p("k.pem").to_str().unwrap()]);
    let err = other.err(&[
        "profile",
        "import",
        &format!("http://127.0.0.1:{port}/v1/profile"),
        "--trust",
        other_key.trim(),
    ]);
    assert!(err.contains("signature is not valid"), "{err}");
    server.join().unwrap();
    other.err(&["profile", "show"]);

    // Nothing listening: one line, non-zero.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Env::new().err(&[
        "profile",
        "import",
        &format!("http://127.0.0.1:{closed}"),
        "--trust",
        &key,
    ]);
    assert!(err.contains("could not connect"), "{err}");
}

#[test]
fn the_first_profile_import_asks_for_the_key_or_takes_it_from_the_environment() {
    let agency = Env::new();
    let key = agency.with_profile();
    let jws = agency.p("profile.jws");
    let jws = jws.to_str().unwrap();
    let e = Env::new();

    // A fresh home, no --trust: the line says what to pass, in both languages.
    let err = e.err(&["profile", "import", jws]);
    for want in [
        "pass --trust ed25519:KEY, the agency's profile-signing key",
        "BERANI_PROFILE_KEY",
        "tambahkan --trust ed25519:KUNCI, kunci penanda tangan profil dari lembaga",
    ] {
        assert!(err.contains(want), "{want:?} not in {err}");
    }
    e.err(&["profile", "show"]);

    // BERANI_PROFILE_KEY stands in for --trust: a malformed one is named, a right one pins.
    let err = e.err_with(
        &["profile", "import", jws],
        &[("BERANI_PROFILE_KEY", "ed25519:xyz")],
    );
    assert!(err.contains("--trust (or BERANI_PROFILE_KEY)"), "{err}");
    e.err(&["profile", "show"]);
    let o = e.run_with(&["profile", "import", jws], &[("BERANI_PROFILE_KEY", &key)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("installed profile v1"));
    assert!(
        e.ok(&["profile", "show"])
            .contains(&format!("signing key: {key}"))
    );

    // Once a key is pinned, another one from the environment is refused, and an import
    // without any key is checked against the pinned one.
    let other = e.ok(&["profile", "keygen", e.p("other.pem").to_str().unwrap()]);
    let err = e.err_with(
        &["profile", "import", jws],
        &[("BERANI_PROFILE_KEY", other.trim())],
    );
    assert!(err.contains("different profile-signing key"), "{err}");
    assert!(
        e.ok(&["profile", "import", jws])
            .contains("installed profile v1")
    );
}

#[test]
fn sync_drains_nothing_or_says_why_it_stopped() {
    let e = Env::new();
    e.with_profile();
    let out = e.ok(&["sync"]);
    assert!(
        out.contains("delivered 0, failed 0, pending 0, attempts 0"),
        "{out}"
    );
    assert!(out.contains("stopped: done"), "{out}");

    // Queued, and the intake server is unreachable: a normal stop, exit 0, with the reason.
    let id = e.ok(&[
        "draft",
        "new",
        "--category",
        "physical",
        "--district",
        "33.16.09",
        "--text",
        "uji sinkron",
    ]);
    e.ok(&["submit", id.trim()]);
    let out = e.ok(&["sync", "--for", "3"]);
    assert!(out.contains("pending 1"), "{out}");
    assert!(
        out.contains("stopped: offline") || out.contains("stopped: budget"),
        "{out}"
    );
    assert!(out.contains("last problem: could not connect"), "{out}");
    assert!(e.ok(&["outbox"]).contains("queued"));
}

#[test]
fn wipe_needs_yes_then_destroys_key_and_home() {
    let e = Env::new();
    e.with_profile();
    let id = e
        .ok(&[
            "draft",
            "new",
            "--category",
            "other",
            "--text",
            "PENANDA-CLI-WIPE",
            "--district",
            "33.16.01",
        ])
        .trim()
        .to_string();
    e.ok(&["submit", &id]);
    let refused = e.err(&["wipe"]);
    assert!(refused.contains("--yes"), "{refused}");
    assert!(
        e.home().join("berani.db").exists(),
        "untouched without --yes"
    );
    let out = e.ok(&["wipe", "--keep-sending", "--yes"]);
    assert!(out.contains("1 queued report(s) kept"), "{out}");
    assert!(e.ok(&["outbox"]).contains(&id));
    e.ok(&["wipe", "--yes"]);
    assert!(!e.home().join("device.key").exists());
    assert!(!e.ok(&["outbox"]).contains(&id));
}

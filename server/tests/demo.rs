//! `berani-server demo`: a new data folder with a living desk of synthetic cases, made by the
//! real reporter core and the desk's own forms.

mod common;

use std::path::Path;

use common::BIN;

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn demo_fills_a_new_folder_and_keeps_the_text_sealed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let out = std::process::Command::new(BIN)
        .args(["demo", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("admin password: "))
        .expect("an `admin password:` line");
    assert!(password.len() >= 12);
    assert!(stdout.contains(&format!("berani-server serve --data {}", data.display())));

    let db = rusqlite::Connection::open(data.join("berani.db")).unwrap();
    let (cases, synthetic): (i64, i64) = db
        .query_row("SELECT count(*), sum(synthetic) FROM cases", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((cases, synthetic), (25, 25));
    let stages: Vec<String> = db
        .prepare("SELECT DISTINCT stage FROM cases ORDER BY stage")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stages.len(), 7, "every stage: {stages:?}");
    // Overdue, on time and late; months of history; every case counted once.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let overdue: i64 = db
        .query_row(
            "SELECT count(*) FROM cases WHERE assessed_at IS NULL AND due_at < ?1",
            [now],
            |r| r.get(0),
        )
        .unwrap();
    let late: i64 = db
        .query_row(
            "SELECT count(*) FROM cases WHERE assessed_at > due_at",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let on_time: i64 = db
        .query_row(
            "SELECT count(*) FROM cases WHERE assessed_at <= due_at",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        overdue > 0 && late > 0 && on_time > 0,
        "{overdue} {late} {on_time}"
    );
    let (months, counted): (i64, i64) = db
        .query_row(
            "SELECT count(DISTINCT month), sum(count) FROM stats_counts",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(months >= 5, "{months} months");
    assert_eq!(counted, 25);
    let sla: Vec<String> = db
        .prepare("SELECT DISTINCT sla FROM stats_counts ORDER BY sla")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sla, ["breached", "met", "pending"]);
    drop(db);

    // What the reporters wrote and the team noted is sealed: the marker every text starts
    // with is nowhere in clear under the data folder.
    let mut files = Vec::new();
    files_under(&data, &mut files);
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(15).any(|w| w == b"CONTOH SINTETIS"),
            "{} holds report text in clear",
            f.display()
        );
    }

    // The folder is not new any more: a second demo refuses it and changes nothing.
    let again = std::process::Command::new(BIN)
        .args(["demo", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

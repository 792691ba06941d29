//! What the end-to-end benchmarks share: quick mode, the facts every `BENCHMARKS.md` section
//! names (date, machine, compiler), and replacing one section of `BENCHMARKS.md` between its
//! markers, as `core/benches/seal.rs` does.

#![allow(dead_code)]

use std::fs;
use std::io;
use std::path::Path;
use std::process::Command;

/// `BENCHMARKS.md` at the workspace root.
pub const BENCHMARKS_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");

/// True when `BERANI_BENCH_QUICK` is set (and not `0`): a smoke run that writes nothing.
pub fn quick() -> bool {
    std::env::var("BERANI_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// CPU model, `nproc`, OS and architecture.
pub fn machine() -> String {
    let nproc = Command::new("nproc")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(|n| n.to_string())
        })
        .unwrap_or_else(|| "?".into());
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let kb: u64 = s
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(format!(", {:.0} GiB RAM", kb as f64 / (1024.0 * 1024.0)))
        })
        .unwrap_or_default();
    format!(
        "{cpu}, nproc {nproc}{mem}, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// `rustc --version`.
pub fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc (version unknown)".into())
}

/// Now, as `YYYY-MM-DD hh:mm:ss UTC`.
pub fn now_utc() -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::now_utc()
        .format(fmt)
        .unwrap_or_else(|_| "unknown".into())
}

/// ✅ or ❌.
pub fn met(ok: bool) -> &'static str {
    if ok { "✅" } else { "❌" }
}

/// A Markdown builder that appends lines.
#[derive(Default)]
pub struct Md(pub String);

impl Md {
    /// Appends one line.
    pub fn line(&mut self, l: impl AsRef<str>) {
        self.0.push_str(l.as_ref());
        self.0.push('\n');
    }
}

/// Replaces the section `name` of `BENCHMARKS.md` (between `<!-- name:begin -->` and
/// `<!-- name:end -->`) with `section`, or appends it when it is not there yet. Every other
/// section is kept byte for byte.
pub fn write_section(name: &str, section: &str) -> io::Result<()> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let block = format!("{begin}\n{section}{end}\n");
    let text = fs::read_to_string(BENCHMARKS_MD)?;
    let new = match (text.find(&begin), text.find(&end)) {
        (Some(b), Some(e)) if e > b => {
            let mut after = &text[e + end.len()..];
            after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{block}{after}", &text[..b])
        }
        _ => {
            let mut t = text;
            if !t.ends_with('\n') {
                t.push('\n');
            }
            format!("{t}\n{block}")
        }
    };
    let tmp = format!("{BENCHMARKS_MD}.tmp-{name}");
    fs::write(&tmp, new)?;
    fs::rename(&tmp, BENCHMARKS_MD)
}

/// Prints the section and writes it to `BENCHMARKS.md` unless in quick mode.
pub fn publish(name: &str, section: &str, quick: bool) {
    println!("\n{section}");
    if quick {
        eprintln!("quick mode: BENCHMARKS.md not written");
    } else {
        write_section(name, section).expect("writing BENCHMARKS.md");
        eprintln!(
            "section `{name}` written to {}",
            Path::new(BENCHMARKS_MD).display()
        );
    }
}

/// A pseudo-random byte stream (xorshift64), the same for the same seed.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut x = seed | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `q`-quantile (0..=1) of sorted values, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

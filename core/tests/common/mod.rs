//! Shared set-up for the core's integration tests: a reporter home on a real SQLite file, a
//! signed agency profile, and the agency identity that opens sealed parts.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use berani_core::Reporter;
use berani_core::age::Identity;
use berani_core::profile::{self, AgencyProfile, Hotline, SigningKey};
use berani_core::store::KeyFile;
use time::{Duration, OffsetDateTime};

pub struct Agency {
    pub identity: Identity,
    pub signing: SigningKey,
}

impl Agency {
    pub fn new() -> Self {
        Self {
            identity: Identity::generate(),
            signing: SigningKey::generate(),
        }
    }

    pub fn profile(&self, version: u64) -> AgencyProfile {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        AgencyProfile {
            schema_version: 1,
            version,
            agency_name: "Dinsos P3A Kabupaten Blora".into(),
            regency_code: "33.16".into(),
            intake_url: "http://127.0.0.1:9".into(),
            recipients: vec![self.identity.to_public().to_string()],
            tls_spki_sha256: None,
            hotlines: vec![Hotline {
                name: "Dinsos P3A Blora".into(),
                number: "0296531234".into(),
                whatsapp: None,
            }],
            max_attachment_bytes: 5_000_000,
            issued_at: now,
            expires_at: now + Duration::days(30),
            receipt_key: None,
            download_url: None,
        }
    }

    pub fn signed(&self, p: &AgencyProfile) -> Vec<u8> {
        profile::sign(p, &self.signing)
    }
}

pub struct Home {
    pub dir: tempfile::TempDir,
    pub agency: Agency,
}

impl Home {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn key_file(&self) -> KeyFile {
        KeyFile::new(self.dir.path().join("device.key"))
    }

    pub fn open(&self) -> Reporter {
        Reporter::open(&self.data(), &self.key_file()).expect("open reporter")
    }

    /// The reporter's data folder (the key file sits beside it, as a platform keystore would).
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("home")
    }
}

/// A reporter home with the agency profile installed.
pub fn home() -> (Home, Reporter) {
    let h = Home {
        dir: tempfile::tempdir().unwrap(),
        agency: Agency::new(),
    };
    let r = h.open();
    let p = h.agency.profile(1);
    r.import_profile(&h.agency.signed(&p), Some(h.agency.signing.public()))
        .unwrap();
    (h, r)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A real PCM WAV file: `secs` seconds of a tone, with `marker` in a trailing RIFF chunk.
pub fn wav(dir: &Path, secs: u32, marker: &str) -> PathBuf {
    let rate = 8000u32;
    let samples: Vec<u8> = (0..rate * secs)
        .flat_map(|i| {
            let v = ((i as f32 * 440.0 * 2.0 * std::f32::consts::PI / rate as f32).sin() * 8000.0)
                as i16;
            v.to_le_bytes()
        })
        .collect();
    let mut extra = format!("note{marker}").into_bytes();
    if extra.len() % 2 == 1 {
        extra.push(b' ');
    }
    let mut out = Vec::new();
    let riff_len = 4 + (8 + 16) + (8 + samples.len()) + (8 + extra.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(riff_len as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    out.extend_from_slice(&samples);
    out.extend_from_slice(b"LIST");
    out.extend_from_slice(&(extra.len() as u32).to_le_bytes());
    out.extend_from_slice(&extra);
    let p = dir.join("voice.wav");
    fs::write(&p, out).unwrap();
    p
}

/// Every file under `dir`, recursively.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// Files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    all_files(dir)
        .into_iter()
        .filter(|p| {
            let data = fs::read(p).unwrap();
            data.windows(needle.len()).any(|w| w == needle)
        })
        .collect()
}

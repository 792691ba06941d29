//! Generates the gazetteer's registry from the data: one entry per `<regency code>.csv` in
//! `data/gazetteer/`, sorted by code, so shipping another regency is adding its file (see
//! `data/gazetteer/README.md`). `src/gazetteer.rs` includes the generated list.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    let dir =
        Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("data/gazetteer");
    // A directory is scanned for changes, so an added, removed or edited file reruns this.
    println!("cargo:rerun-if-changed=data/gazetteer");
    let mut regencies = Vec::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let name = entry.expect("directory entry").file_name();
        let name = name
            .to_str()
            .expect("file names in data/gazetteer are UTF-8");
        // Hidden files are extract.sh's temporary output.
        let Some(code) = name.strip_suffix(".csv").filter(|_| !name.starts_with('.')) else {
            continue;
        };
        let b = code.as_bytes();
        let is_code =
            b.len() == 5 && b[2] == b'.' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit());
        assert!(
            is_code,
            "data/gazetteer/{name}: a gazetteer file is named by its regency code, like 33.16.csv"
        );
        regencies.push(code.to_string());
    }
    regencies.sort();
    let mut out = String::from("&[\n");
    for code in &regencies {
        let path = dir.join(format!("{code}.csv"));
        let path = path.to_str().expect("the data path is UTF-8");
        writeln!(out, "    ({code:?}, include_str!({path:?})),").expect("a String");
    }
    out.push(']');
    let dest =
        Path::new(&env::var("OUT_DIR").expect("cargo sets it")).join("gazetteer_regencies.rs");
    fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}

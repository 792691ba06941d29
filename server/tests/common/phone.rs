//! A reporter's phone for server tests: the `berani` CLI on its own home folder, with the
//! server's signed profile imported.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{Server, run};

pub struct Phone {
    pub home: PathBuf,
}

impl Phone {
    /// A new home `dir/name` that trusts `server`'s profile-signing key.
    pub fn new(dir: &Path, name: &str, server: &Server) -> Phone {
        let p = Phone {
            home: dir.join(name),
        };
        let key = String::from_utf8(run(&["profile", "pubkey"], &server.data, None).stdout)
            .unwrap()
            .trim()
            .to_string();
        p.ok(&[
            "profile",
            "import",
            &server.url("/v1/profile"),
            "--trust",
            &key,
        ]);
        p
    }

    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new(berani_tests::harness::binary("berani"))
            .arg("--home")
            .arg(&self.home)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.cmd(args);
        assert!(
            o.status.success(),
            "berani {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs a command that must fail; returns its standard error.
    pub fn err(&self, args: &[&str]) -> String {
        let o = self.cmd(args);
        assert!(!o.status.success(), "berani {args:?} should fail");
        String::from_utf8(o.stderr).unwrap()
    }
}

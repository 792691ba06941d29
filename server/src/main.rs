//! `berani-server`: the intake server (work in progress).
fn main() {}

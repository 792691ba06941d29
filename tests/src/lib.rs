//! Test support shared by Berani's end-to-end, fault-injection and interoperability tests.
//!
//! The phone, the intake server and the official tus clients are separate programs that must
//! agree over a bad link. This crate holds what tests need to put them together: a
//! fault-injecting TCP proxy ([`proxy`]) that makes a loopback connection behave like one bar
//! of 2G, an HTTP front that answers scripted statuses ([`fault_http`]), and helpers that run
//! the reference tus peers ([`peers`]: tus-js-client, tuspy, tusd).

pub mod fault_http;
pub mod harness;
pub mod peers;
pub mod proxy;

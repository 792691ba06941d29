//! Test support shared by Berani's end-to-end tests (work in progress).

//! The in-repo `uniffi-bindgen`, pinned with the library it reads, so the generated Kotlin
//! always matches the scaffolding compiled into `libberani_ffi.so`.
//!
//! ```text
//! cargo run -p berani-ffi --features cli --bin uniffi-bindgen -- generate \
//!     --library target/debug/libberani_ffi.so --language kotlin --out-dir OUT
//! ```

fn main() {
    uniffi::uniffi_bindgen_main()
}

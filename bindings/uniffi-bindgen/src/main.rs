//! `cargo run -p uniffi-bindgen -- generate target/release/libshoplook_ffi.so --language kotlin ...`
fn main() {
    uniffi::uniffi_bindgen_main()
}

//! The Rust half of the C sample: the carrier library (its C interface is exported by
//! `lwm2m_carrier_zephyr::capi`) and the entry point zephyr-lang-rust's `main()` calls, which
//! starts the C application.
#![no_std]

// Linked for its exported C functions (lwm2m_carrier_init, ...).
use lwm2m_carrier_zephyr as _;
// Linked for its panic handler and kernel bindings.
use zephyr as _;

extern "C" {
    /// The application's `main()` from src/main.c (renamed by CMakeLists.txt).
    fn lwm2m_carrier_c_sample_main() -> core::ffi::c_int;
}

#[no_mangle]
extern "C" fn rust_main() {
    // SAFETY: a plain C function without arguments, called once from the main thread as Zephyr
    // calls main().
    let _ = unsafe { lwm2m_carrier_c_sample_main() };
}

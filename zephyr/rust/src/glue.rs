//! The C glue of `zephyr/src/lwm2m_carrier_glue.c`: what zephyr-lang-rust has no binding for.

use core::ffi::{c_char, c_int};

extern "C" {
    pub fn lwm2m_carrier_zephyr_nvs_mount() -> c_int;
    pub fn lwm2m_carrier_zephyr_nvs_read(id: u16, buf: *mut u8, len: usize) -> c_int;
    pub fn lwm2m_carrier_zephyr_nvs_write(id: u16, data: *const u8, len: usize) -> c_int;
    pub fn lwm2m_carrier_zephyr_nvs_delete(id: u16) -> c_int;
    pub fn lwm2m_carrier_zephyr_nvs_clear() -> c_int;
    pub fn lwm2m_carrier_zephyr_log(level: c_int, msg: *const c_char);
    pub fn lwm2m_carrier_zephyr_reboot();
    pub fn lwm2m_carrier_zephyr_seed() -> u64;
}

/// Cold reboot through `sys_reboot`.
pub fn reboot() {
    // SAFETY: no arguments; the C function logs and reboots.
    unsafe { lwm2m_carrier_zephyr_reboot() }
}

/// A seed for the engine's message ids and tokens (entropy when the board has it, mixed with
/// the cycle counter).
pub fn seed() -> u64 {
    // SAFETY: no arguments, no state shared with Rust.
    unsafe { lwm2m_carrier_zephyr_seed() }
}

//! AT commands through libmodem, and the `+CEREG` notifications that tell the port when the LTE
//! link is up.
//!
//! `nrf_modem_at_cmd` is synchronous: it returns when the modem answers (milliseconds for the
//! commands used here), waiting in nrf-modem's `nrf_modem_os_timedwait`, which busy-waits. Only
//! the carrier thread sends commands.

use core::ffi::{c_char, c_int, CStr};
use core::sync::atomic::{AtomicU8, Ordering};

use heapless::String;
use lwm2m_carrier_zephyr_modem::at::{self, Registration};
use nrf_modem::nrfxlib_sys as sys;

use crate::wake;

/// A failed command: libmodem's negative errno, or the modem's `+CME ERROR` as a negative
/// number (-5 for a plain `ERROR`).
pub type AtError = i32;

/// Sends `cmd` and returns the answer (truncated to `N` bytes, which must hold the useful part).
pub fn cmd<const N: usize>(cmd: &str) -> Result<String<N>, AtError> {
    let mut buf = [0u8; N];
    let len = c_int::try_from(cmd.len()).map_err(|_| -22)?;
    // SAFETY: `buf` is writable for `N` bytes, which is the length given; the format "%.*s"
    // reads exactly `len` bytes from `cmd`, which is valid for that long (no NUL needed);
    // libmodem is initialised (the port only calls this after a successful init).
    let ret = unsafe {
        sys::nrf_modem_at_cmd(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%.*s".as_ptr(),
            len,
            cmd.as_ptr().cast::<c_char>(),
        )
    };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(N);
    let text = core::str::from_utf8(buf.get(..end).unwrap_or_default()).unwrap_or_default();
    match ret {
        0 => Ok(String::try_from(text).unwrap_or_default()),
        r if r < 0 => Err(r),
        _ => Err(at::cme_error(text)),
    }
}

/// Sends a command that carries a secret (`AT%CMNG` with a PSK): the answer is not kept, and
/// `command`'s bytes are overwritten with zeros afterwards. Never log `command`.
pub fn cmd_secret<const M: usize>(command: &mut String<M>) -> Result<(), AtError> {
    let result = cmd::<64>(command.as_str()).map(|_| ());
    wipe(command);
    result
}

/// Overwrites `s` with zeros (volatile, so that the writes stay) and empties it.
pub fn wipe<const M: usize>(s: &mut String<M>) {
    // SAFETY: zero bytes are valid UTF-8, so the string stays valid while it is overwritten;
    // the vector's pointer and length are those of its initialised bytes.
    unsafe {
        let v = s.as_mut_vec();
        for b in v.iter_mut() {
            core::ptr::write_volatile(b, 0);
        }
        v.clear();
    }
}

/// Last registration status reported by `+CEREG` (see [`status`]).
static REGISTRATION: AtomicU8 = AtomicU8::new(STATUS_NONE);
const STATUS_NONE: u8 = 0;
const STATUS_SEARCHING: u8 = 1;
const STATUS_REGISTERED: u8 = 2;
const STATUS_DENIED: u8 = 3;
const STATUS_SIM_FAILURE: u8 = 4;

/// libmodem's AT notification handler: called in the IPC interrupt, so it only records the
/// registration status and wakes the carrier thread.
///
/// # Safety
///
/// `notif` is a NUL-terminated string that stays valid during the call (libmodem's contract).
unsafe extern "C" fn notification(notif: *const c_char) {
    if notif.is_null() {
        return;
    }
    // SAFETY: non-null, NUL-terminated and valid for the call (the function's contract).
    let text = unsafe { CStr::from_ptr(notif) };
    let Ok(text) = text.to_str() else { return };
    let status = match at::parse_cereg(text) {
        Some(Registration::Registered) => STATUS_REGISTERED,
        Some(Registration::Searching | Registration::Unknown) => STATUS_SEARCHING,
        Some(Registration::Denied) => STATUS_DENIED,
        Some(Registration::SimFailure) => STATUS_SIM_FAILURE,
        None => return,
    };
    REGISTRATION.store(status, Ordering::Release);
    wake::wake();
}

/// Installs the notification handler and subscribes to `+CEREG`.
pub fn subscribe() -> Result<(), AtError> {
    // SAFETY: `notification` has the handler's signature and is ISR-safe (atomics and a
    // semaphore give).
    let r = unsafe { sys::nrf_modem_at_notif_handler_set(Some(notification)) };
    if r != 0 {
        return Err(r);
    }
    cmd::<32>("AT+CEREG=1").map(|_| ())
}

/// The registration as last notified.
pub fn status() -> Option<Registration> {
    match REGISTRATION.load(Ordering::Acquire) {
        STATUS_REGISTERED => Some(Registration::Registered),
        STATUS_SEARCHING => Some(Registration::Searching),
        STATUS_DENIED => Some(Registration::Denied),
        STATUS_SIM_FAILURE => Some(Registration::SimFailure),
        _ => None,
    }
}

/// Forgets the last status (before a new attach).
pub fn reset_status() {
    REGISTRATION.store(STATUS_NONE, Ordering::Release);
}

//! Calls into C: the application's hooks (or their weak defaults from `c/weak_handler.c`) and
//! the errno values of the C library.

use core::ffi::{c_char, c_int, c_void, CStr};

use heapless::String;
use lwm2m_carrier::CarrierEvent;

use crate::types::{
    lwm2m_carrier_event_deferred_t, lwm2m_carrier_event_error_t, lwm2m_carrier_event_t,
};

extern "C" {
    static lwm2m_carrier_capi_errno_ebusy: c_int;
    static lwm2m_carrier_capi_errno_eio: c_int;
    static lwm2m_carrier_capi_errno_enotsup: c_int;

    fn lwm2m_carrier_event_handler(event: *const lwm2m_carrier_event_t) -> c_int;
    fn lwm2m_carrier_memory_free_read() -> c_int;
    fn lwm2m_carrier_utc_time_read() -> i32;
    fn lwm2m_carrier_utc_time_write(time: i32);
    fn lwm2m_carrier_utc_offset_read() -> c_int;
    fn lwm2m_carrier_utc_offset_write(utc_offset: c_int);
    fn lwm2m_carrier_timezone_read() -> *const c_char;
    fn lwm2m_carrier_timezone_write(p_tz: *const c_char);
}

/// `-EINVAL`, `-ENODEV`, `-ENOMEM` are the same everywhere (`SetError::errno`); these are not.
pub fn ebusy() -> i32 {
    // SAFETY: a `const int` defined in c/weak_handler.c, linked into this library; never written.
    -unsafe { lwm2m_carrier_capi_errno_ebusy }
}

pub fn eio() -> i32 {
    // SAFETY: as in `ebusy`.
    -unsafe { lwm2m_carrier_capi_errno_eio }
}

pub fn enotsup() -> i32 {
    // SAFETY: as in `ebusy`.
    -unsafe { lwm2m_carrier_capi_errno_enotsup }
}

/// Hands `event` to the application; `data` points at a struct on this stack frame, valid for
/// the duration of the call as the header promises.
pub fn deliver(event: &CarrierEvent) -> i32 {
    let deferred;
    let error;
    let data: *const c_void = match *event {
        CarrierEvent::Deferred { reason, timeout_s } => {
            deferred = lwm2m_carrier_event_deferred_t { reason: reason as u32, timeout: timeout_s };
            core::ptr::from_ref(&deferred).cast()
        }
        CarrierEvent::Error { code, value } => {
            error = lwm2m_carrier_event_error_t { code: code as u32, value };
            core::ptr::from_ref(&error).cast()
        }
        _ => core::ptr::null(),
    };
    let c_event = lwm2m_carrier_event_t { r#type: event.type_id(), data };
    // SAFETY: the handler receives a valid pointer to `c_event`, whose `data` points at a local
    // that outlives the call. No lock of this library is held here.
    unsafe { lwm2m_carrier_event_handler(&c_event) }
}

/// What the application's hooks say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookValues {
    pub utc_time_s: i64,
    pub utc_offset_min: i32,
    pub timezone: Option<String<TIMEZONE_MAX>>,
    pub memory_free_kb: u32,
}

/// The longest timezone passed between the application and the Device object (an IANA name).
pub const TIMEZONE_MAX: usize = 64;

/// Calls the read hooks. No lock of this library may be held (they are application code).
pub fn read_hooks() -> HookValues {
    // SAFETY: plain C functions without arguments (the application's or the weak defaults).
    let (utc, offset, free, tz) = unsafe {
        (
            lwm2m_carrier_utc_time_read(),
            lwm2m_carrier_utc_offset_read(),
            lwm2m_carrier_memory_free_read(),
            lwm2m_carrier_timezone_read(),
        )
    };
    let timezone = if tz.is_null() {
        None
    } else {
        // SAFETY: the hook returns NULL or a NUL-terminated string valid until the next hook
        // call (header contract); it is copied before any other hook runs.
        match unsafe { CStr::from_ptr(tz) }.to_str() {
            Ok(s) => match String::try_from(s) {
                Ok(s) => Some(s),
                Err(()) => {
                    log::warn!("lwm2m_carrier_timezone_read: longer than {TIMEZONE_MAX} bytes");
                    None
                }
            },
            Err(_) => {
                log::warn!("lwm2m_carrier_timezone_read returned a string that is not UTF-8");
                None
            }
        }
    };
    HookValues {
        utc_time_s: i64::from(utc),
        utc_offset_min: offset,
        timezone,
        memory_free_kb: u32::try_from(free).unwrap_or(0),
    }
}

/// A server wrote the Current Time.
pub fn write_utc_time(unix_s: i64) {
    let t = i32::try_from(unix_s).unwrap_or(if unix_s < 0 { i32::MIN } else { i32::MAX });
    // SAFETY: plain C function taking an integer.
    unsafe { lwm2m_carrier_utc_time_write(t) }
}

/// A server wrote the UTC Offset.
pub fn write_utc_offset(minutes: i32) {
    // SAFETY: plain C function taking an integer.
    unsafe { lwm2m_carrier_utc_offset_write(minutes) }
}

/// A server wrote the Timezone.
pub fn write_timezone(tz: &str) {
    let mut c_tz = [0u8; TIMEZONE_MAX + 1];
    let Some(dst) = c_tz.get_mut(..tz.len()) else {
        log::warn!("timezone written by the server is longer than {TIMEZONE_MAX} bytes");
        return;
    };
    if tz.contains('\0') {
        log::warn!("timezone written by the server contains NUL; not passed on");
        return;
    }
    dst.copy_from_slice(tz.as_bytes());
    // SAFETY: `c_tz` is NUL-terminated (zeroed beyond `tz`, which holds no NUL) and outlives
    // the call.
    unsafe { lwm2m_carrier_timezone_write(c_tz.as_ptr().cast()) }
}

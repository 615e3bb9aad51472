//! The structs of `include/lwm2m_carrier.h`, laid out by the C rules (`#[repr(C)]`).
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_void};

/// `lwm2m_carrier_event_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lwm2m_carrier_event_t {
    /// `LWM2M_CARRIER_EVENT_*`.
    pub r#type: u32,
    /// `lwm2m_carrier_event_deferred_t`, `lwm2m_carrier_event_error_t` or NULL.
    pub data: *const c_void,
}

/// `lwm2m_carrier_event_deferred_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct lwm2m_carrier_event_deferred_t {
    /// `LWM2M_CARRIER_DEFERRED_*`.
    pub reason: u32,
    /// Seconds until the next attempt.
    pub timeout: i32,
}

/// `lwm2m_carrier_event_error_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct lwm2m_carrier_event_error_t {
    /// `LWM2M_CARRIER_ERROR_*`.
    pub code: u32,
    /// Detail of the error.
    pub value: i32,
}

/// `lwm2m_carrier_config_t`. C `bool` is `_Bool`, one byte holding 0 or 1, like Rust `bool`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lwm2m_carrier_config_t {
    /// NUL-terminated URI, or NULL.
    pub bootstrap_uri: *const c_char,
    /// NUL-terminated hex PSK, or NULL.
    pub psk: *const c_char,
    /// NUL-terminated APN, or NULL.
    pub apn: *const c_char,
    pub certification_mode: bool,
}

// The layouts the header promises (checked again from C by tests/c/test_api.c).
const PTR: usize = core::mem::size_of::<*const c_void>();
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    const fn round_up(x: usize, a: usize) -> usize {
        x.div_ceil(a) * a
    }
    assert!(offset_of!(lwm2m_carrier_event_t, r#type) == 0);
    assert!(offset_of!(lwm2m_carrier_event_t, data) == round_up(4, align_of::<*const c_void>()));
    assert!(size_of::<lwm2m_carrier_event_t>() == round_up(round_up(4, PTR) + PTR, PTR));
    assert!(size_of::<lwm2m_carrier_event_deferred_t>() == 8);
    assert!(offset_of!(lwm2m_carrier_event_deferred_t, timeout) == 4);
    assert!(size_of::<lwm2m_carrier_event_error_t>() == 8);
    assert!(offset_of!(lwm2m_carrier_event_error_t, value) == 4);
    assert!(offset_of!(lwm2m_carrier_config_t, psk) == PTR);
    assert!(offset_of!(lwm2m_carrier_config_t, apn) == 2 * PTR);
    assert!(offset_of!(lwm2m_carrier_config_t, certification_mode) == 3 * PTR);
    assert!(size_of::<lwm2m_carrier_config_t>() == 4 * PTR);
    assert!(size_of::<bool>() == 1);
};

//! The Portfolio object (/16) functions of the header. This library has no Portfolio object
//! yet, so on every platform they check their pointers (-EINVAL, logged) and answer -ENOTSUP.
//! No pointer is ever dereferenced.

use core::ffi::{c_char, c_int};

use crate::config::einval;
use crate::ffi;

/// `lwm2m_carrier_identity_read`.
pub fn identity_read(
    instance_id: u16,
    identity_type: u16,
    buffer: *mut c_char,
    buffer_len: *mut u16,
) -> c_int {
    if buffer.is_null() || buffer_len.is_null() {
        return einval("lwm2m_carrier_identity_read", "NULL buffer");
    }
    log::warn!(
        "lwm2m_carrier_identity_read(/16/{}, {}): no Portfolio object",
        instance_id,
        identity_type
    );
    ffi::enotsup()
}

/// `lwm2m_carrier_identity_write`.
pub fn identity_write(instance_id: u16, identity_type: u16, value: *const c_char) -> c_int {
    if value.is_null() {
        return einval("lwm2m_carrier_identity_write", "NULL value");
    }
    log::warn!(
        "lwm2m_carrier_identity_write(/16/{}, {}): no Portfolio object",
        instance_id,
        identity_type
    );
    ffi::enotsup()
}

/// `lwm2m_carrier_portfolio_instance_create`.
pub fn instance_create(instance_id: u16) -> c_int {
    log::warn!("lwm2m_carrier_portfolio_instance_create({}): no Portfolio object", instance_id);
    ffi::enotsup()
}

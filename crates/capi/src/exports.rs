//! The exported C functions of the host build, over [`ActivePlatform`].

use core::ffi::{c_char, c_int};
use std::sync::LazyLock;

use crate::config::{arg_str, einval};
use crate::types::lwm2m_carrier_config_t;
use crate::{config, loopback, state};
use lwm2m_carrier_cabi::portfolio;

/// The platform behind the exported functions. To run on another one (the host port), make
/// this alias depend on a cargo feature, e.g.
/// `#[cfg(feature = "host")] pub type ActivePlatform = lwm2m_carrier_host::capi::Host;`.
pub type ActivePlatform = loopback::Loopback;

static API: LazyLock<state::Api<ActivePlatform>> = LazyLock::new(state::Api::new);

/// `int lwm2m_carrier_init(const lwm2m_carrier_config_t *config)`.
///
/// # Safety
/// `config` is NULL or points at a valid config whose strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_init(config: *const lwm2m_carrier_config_t) -> c_int {
    // SAFETY: forwarded caller contract.
    match unsafe { config::from_c(config) } {
        Ok(config) => API.init(&config),
        Err(why) => einval("lwm2m_carrier_init", why),
    }
}

/// `void lwm2m_carrier_run(void)`: never returns once initialised.
#[no_mangle]
pub extern "C" fn lwm2m_carrier_run() {
    API.run();
}

/// `int lwm2m_carrier_avail_power_sources_set(const uint8_t *, uint8_t)`.
///
/// # Safety
/// `power_sources` is NULL or points at `power_source_count` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_avail_power_sources_set(
    power_sources: *const u8,
    power_source_count: u8,
) -> c_int {
    const WHAT: &str = "lwm2m_carrier_avail_power_sources_set";
    if power_sources.is_null() {
        return einval(WHAT, "NULL list");
    }
    // SAFETY: not NULL; `power_source_count` bytes readable by the caller's contract. Copied
    // before use, so the caller may reuse its buffer.
    let sources =
        unsafe { core::slice::from_raw_parts(power_sources, usize::from(power_source_count)) }
            .to_vec();
    API.set(WHAT, |d| d.avail_power_sources_set(&sources), |_| {})
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_power_source_voltage_set(power_source: u8, value: i32) -> c_int {
    API.set(
        "lwm2m_carrier_power_source_voltage_set",
        |d| d.power_source_voltage_set(power_source, value),
        |_| {},
    )
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_power_source_current_set(power_source: u8, value: i32) -> c_int {
    API.set(
        "lwm2m_carrier_power_source_current_set",
        |d| d.power_source_current_set(power_source, value),
        |_| {},
    )
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_battery_level_set(battery_level: u8) -> c_int {
    API.set("lwm2m_carrier_battery_level_set", |d| d.battery_level_set(battery_level), |_| {})
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_battery_status_set(battery_status: i32) -> c_int {
    API.set(
        "lwm2m_carrier_battery_status_set",
        |d| d.battery_status_set(battery_status),
        |a| a.set_battery_status(battery_status),
    )
}

/// # Safety
/// `device_type` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_device_type_set(device_type: *const c_char) -> c_int {
    const WHAT: &str = "lwm2m_carrier_device_type_set";
    // SAFETY: forwarded caller contract.
    match unsafe { arg_str(WHAT, device_type) } {
        Ok(s) => API.set(WHAT, |d| d.device_type_set(s), |_| {}),
        Err(e) => e,
    }
}

/// # Safety
/// `hardware_version` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_hardware_version_set(
    hardware_version: *const c_char,
) -> c_int {
    const WHAT: &str = "lwm2m_carrier_hardware_version_set";
    // SAFETY: forwarded caller contract.
    match unsafe { arg_str(WHAT, hardware_version) } {
        Ok(s) => API.set(WHAT, |d| d.hardware_version_set(s), |_| {}),
        Err(e) => e,
    }
}

/// # Safety
/// `software_version` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_software_version_set(
    software_version: *const c_char,
) -> c_int {
    const WHAT: &str = "lwm2m_carrier_software_version_set";
    // SAFETY: forwarded caller contract.
    match unsafe { arg_str(WHAT, software_version) } {
        Ok(s) => API.set(WHAT, |d| d.software_version_set(s), |_| {}),
        Err(e) => e,
    }
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_error_code_add(error: i32) -> c_int {
    API.set("lwm2m_carrier_error_code_add", |d| d.error_code_add(error), |_| {})
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_error_code_remove(error: i32) -> c_int {
    API.set("lwm2m_carrier_error_code_remove", |d| d.error_code_remove(error), |_| {})
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_memory_total_set(memory_total: u32) -> c_int {
    API.set(
        "lwm2m_carrier_memory_total_set",
        |d| d.memory_total_set(memory_total),
        |a| a.set_memory_total(memory_total),
    )
}

/// No Portfolio object: -EINVAL for NULL pointers, else -ENOTSUP (`lwm2m_carrier_cabi::portfolio`).
///
/// # Safety
/// No pointer is dereferenced.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_identity_read(
    instance_id: u16,
    identity_type: u16,
    buffer: *mut c_char,
    buffer_len: *mut u16,
) -> c_int {
    portfolio::identity_read(instance_id, identity_type, buffer, buffer_len)
}

/// No Portfolio object: -EINVAL for a NULL value, else -ENOTSUP.
///
/// # Safety
/// No pointer is dereferenced.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_identity_write(
    instance_id: u16,
    identity_type: u16,
    value: *const c_char,
) -> c_int {
    portfolio::identity_write(instance_id, identity_type, value)
}

/// No Portfolio object: -ENOTSUP.
#[no_mangle]
pub extern "C" fn lwm2m_carrier_portfolio_instance_create(instance_id: u16) -> c_int {
    portfolio::instance_create(instance_id)
}

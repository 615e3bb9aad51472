//! The C interface (`include/lwm2m_carrier.h`) on Zephyr: the exported functions of the 0.9.x
//! library, for C applications (cargo feature `capi`; see samples/lwm2m_carrier_c).
//!
//! `lwm2m_carrier_init` builds the carrier in the port's static slot and runs it until the link
//! is up, on the caller's thread; `lwm2m_carrier_run` then runs the loop on that thread forever.
//! Both need the carrier's stack (CONFIG_LWM2M_CARRIER_THREAD_STACK_SIZE), so the application
//! calls them from a thread of its own, as with the 0.9.x library. The Device setters may be
//! called from any thread at any time, before init too: they are checked and queued
//! ([`crate::device`]). Events reach `lwm2m_carrier_event_handler` on the carrier's thread.
//!
//! The C types, the config parsing and the calls into the application are shared with the
//! host build (`lwm2m-carrier-cabi`); the weak defaults of the application's functions are in
//! zephyr/src/lwm2m_carrier_capi.c.
//!
//! The application's time hooks (`lwm2m_carrier_utc_time_read` ...) and
//! `lwm2m_carrier_memory_free_read` are exchanged with the Device object before every step of
//! the loop and at least every [`HOOK_PERIOD_MS`] (what a server wrote goes to the write hooks
//! first). The Portfolio functions return -ENOTSUP, as on the host.

use core::cell::RefCell;
use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicPtr, Ordering};

use critical_section::Mutex;
use lwm2m_carrier::core_engine::coap::Instant;
use lwm2m_carrier::CarrierEvent;
use lwm2m_carrier_cabi::config::{arg_str, einval, from_c};
use lwm2m_carrier_cabi::ffi;
use lwm2m_carrier_cabi::hooks::{call_write_hooks, Synced};
use lwm2m_carrier_cabi::portfolio;
use lwm2m_carrier_cabi::types::lwm2m_carrier_config_t;

use crate::imp::{build_in, step, StartError, ZephyrRunner, RUNNER};
use crate::{config, device, port, InitError};

/// The longest the loop goes without reading the application's time hooks.
pub const HOOK_PERIOD_MS: u64 = 30_000;

/// The runner `lwm2m_carrier_init` built, for `lwm2m_carrier_run`.
static INITIALISED: AtomicPtr<ZephyrRunner> = AtomicPtr::new(core::ptr::null_mut());

/// The time values agreed with the hooks, handed from `lwm2m_carrier_init` to
/// `lwm2m_carrier_run` (which may run on another thread).
static SYNCED: Mutex<RefCell<Option<Synced>>> = Mutex::new(RefCell::new(None));

fn deliver(event: &CarrierEvent) -> i32 {
    ffi::deliver(event)
}

/// `int lwm2m_carrier_init(const lwm2m_carrier_config_t *config)`: NULL = the Kconfig
/// configuration (CONFIG_LWM2M_CARRIER_*). Once per boot: after a successful call, another
/// returns -EBUSY; after a failed one the application may try again.
///
/// # Safety
/// `config` is NULL or points at a valid config whose strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_init(config: *const lwm2m_carrier_config_t) -> c_int {
    const WHAT: &str = "lwm2m_carrier_init";
    let config = if config.is_null() {
        config::from_kconfig()
    } else {
        // SAFETY: not NULL; valid by the caller's contract.
        match unsafe { from_c(config) } {
            Ok(c) => c,
            Err(why) => return einval(WHAT, why),
        }
    };
    let Some(slot) = RUNNER.take() else {
        log::warn!("{}: refused, already initialised", WHAT);
        return ffi::ebusy();
    };
    // On failure the slot goes back, so that the application may call `lwm2m_carrier_init`
    // again (another config, storage fixed).
    match build_in(&mut *slot, deliver, &config) {
        Ok(runner) => {
            runner.port.max_sleep_ms = Some(HOOK_PERIOD_MS);
            let mut synced = Synced::default();
            sync_hooks(runner, &mut synced);
            runner.init();
            critical_section::with(|cs| SYNCED.borrow(cs).replace(Some(synced)));
            INITIALISED.store(runner, Ordering::Release);
            0
        }
        Err(e) => {
            RUNNER.give_back(slot);
            log::error!("{}: {:?}", WHAT, e);
            match e {
                StartError::Storage(errno) => errno,
                StartError::Init(InitError::Identity(_)) => ffi::eio(),
                StartError::Init(_) => einval(WHAT, "configuration refused"),
            }
        }
    }
}

/// `void lwm2m_carrier_run(void)`: never returns after a successful `lwm2m_carrier_init`;
/// returns at once (logged) without one.
#[no_mangle]
pub extern "C" fn lwm2m_carrier_run() {
    let runner = INITIALISED.swap(core::ptr::null_mut(), Ordering::AcqRel);
    if runner.is_null() {
        log::error!("lwm2m_carrier_run: lwm2m_carrier_init has not succeeded");
        return;
    }
    // SAFETY: the pointer is the `&'static mut` runner of the static slot, stored once by
    // `lwm2m_carrier_init` and taken here once (the swap), so this is its only reference.
    let runner = unsafe { &mut *runner };
    let mut synced = critical_section::with(|cs| SYNCED.borrow(cs).take()).unwrap_or_default();
    sync_hooks(runner, &mut synced);
    runner.run_until(|_| true); // start bootstrap or registration
    loop {
        sync_hooks(runner, &mut synced);
        step(runner);
    }
}

/// Exchanges the time values and Memory Free with the application's hooks (on the carrier
/// thread; the hooks run with no lock held).
fn sync_hooks(runner: &mut ZephyrRunner, synced: &mut Synced) {
    let now = Instant::from_millis(port::uptime_ms());
    call_write_hooks(&synced.written(&runner.carrier.registry().device, now));
    let values = ffi::read_hooks();
    runner.carrier.with_registry(now, |r| synced.apply(&mut r.device, now, &values));
}

/// # Safety
/// `power_sources` is NULL or points at `power_source_count` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_avail_power_sources_set(
    power_sources: *const u8,
    power_source_count: u8,
) -> c_int {
    if power_sources.is_null() {
        return einval("lwm2m_carrier_avail_power_sources_set", "NULL list");
    }
    // SAFETY: not NULL; `power_source_count` bytes readable by the caller's contract; copied
    // before this returns.
    let sources =
        unsafe { core::slice::from_raw_parts(power_sources, usize::from(power_source_count)) };
    device::avail_power_sources_set(sources)
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_power_source_voltage_set(power_source: u8, value: i32) -> c_int {
    device::power_source_voltage_set(power_source, value)
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_power_source_current_set(power_source: u8, value: i32) -> c_int {
    device::power_source_current_set(power_source, value)
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_battery_level_set(battery_level: u8) -> c_int {
    device::battery_level_set(battery_level)
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_battery_status_set(battery_status: i32) -> c_int {
    device::battery_status_set(battery_status)
}

/// A string setter: -EINVAL for NULL or non-UTF-8, else `set`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn set_str(what: &str, p: *const c_char, set: fn(&str) -> i32) -> c_int {
    // SAFETY: forwarded caller contract.
    match unsafe { arg_str(what, p) } {
        Ok(s) => set(s),
        Err(errno) => errno,
    }
}

/// # Safety
/// `device_type` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_device_type_set(device_type: *const c_char) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { set_str("lwm2m_carrier_device_type_set", device_type, device::device_type_set) }
}

/// # Safety
/// `hardware_version` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_hardware_version_set(
    hardware_version: *const c_char,
) -> c_int {
    const WHAT: &str = "lwm2m_carrier_hardware_version_set";
    // SAFETY: forwarded caller contract.
    unsafe { set_str(WHAT, hardware_version, device::hardware_version_set) }
}

/// # Safety
/// `software_version` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lwm2m_carrier_software_version_set(
    software_version: *const c_char,
) -> c_int {
    const WHAT: &str = "lwm2m_carrier_software_version_set";
    // SAFETY: forwarded caller contract.
    unsafe { set_str(WHAT, software_version, device::software_version_set) }
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_error_code_add(error: i32) -> c_int {
    device::error_code_add(error)
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_error_code_remove(error: i32) -> c_int {
    device::error_code_remove(error)
}

#[no_mangle]
pub extern "C" fn lwm2m_carrier_memory_total_set(memory_total: u32) -> c_int {
    device::memory_total_set(memory_total)
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

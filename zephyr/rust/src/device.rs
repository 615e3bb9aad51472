//! The application keeps the Device object (/3/0) current from its own threads: each setter
//! checks the value against a shadow copy of the object (so a bad value gets its negative
//! errno at once, as from the C library, and changes nothing), queues the update and wakes the
//! carrier thread, which applies it between two steps (the engine then notifies observers).

use core::cell::RefCell;

use critical_section::Mutex;
use heapless::{Deque, String, Vec};
use lwm2m_carrier::core_engine::coap::Instant;
use lwm2m_carrier::{Carrier, Device, RecordStore, SetError};

use crate::wake;

const ENOMEM: i32 = 12;

/// One change of the Device object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceUpdate {
    AvailPowerSources(Vec<u8, 8>),
    PowerSourceVoltage(u8, i32),
    PowerSourceCurrent(u8, i32),
    BatteryLevel(u8),
    BatteryStatus(i32),
    MemoryFree(u32),
    MemoryTotal(u32),
    ErrorCodeAdd(i32),
    ErrorCodeRemove(i32),
    DeviceType(String<32>),
    HardwareVersion(String<32>),
    SoftwareVersion(String<32>),
}

impl DeviceUpdate {
    fn apply_to(&self, d: &mut Device) -> Result<(), SetError> {
        match self {
            DeviceUpdate::AvailPowerSources(s) => d.avail_power_sources_set(s),
            DeviceUpdate::PowerSourceVoltage(s, v) => d.power_source_voltage_set(*s, *v),
            DeviceUpdate::PowerSourceCurrent(s, v) => d.power_source_current_set(*s, *v),
            DeviceUpdate::BatteryLevel(v) => d.battery_level_set(*v),
            DeviceUpdate::BatteryStatus(v) => d.battery_status_set(*v),
            DeviceUpdate::MemoryFree(v) => d.memory_free_set(*v),
            DeviceUpdate::MemoryTotal(v) => d.memory_total_set(*v),
            DeviceUpdate::ErrorCodeAdd(v) => d.error_code_add(*v),
            DeviceUpdate::ErrorCodeRemove(v) => d.error_code_remove(*v),
            DeviceUpdate::DeviceType(v) => d.device_type_set(v),
            DeviceUpdate::HardwareVersion(v) => d.hardware_version_set(v),
            DeviceUpdate::SoftwareVersion(v) => d.software_version_set(v),
        }
    }
}

struct Pending {
    /// The application's view of the Device object: every setter is checked against it.
    shadow: Option<Device>,
    queue: Deque<DeviceUpdate, 8>,
}

static PENDING: Mutex<RefCell<Pending>> =
    Mutex::new(RefCell::new(Pending { shadow: None, queue: Deque::new() }));

/// Checks `u` against the shadow copy and queues it for the carrier thread: 0, the setter's
/// negative errno (logged with `what`; nothing changes), or -ENOMEM when eight updates are
/// already waiting.
pub fn update(what: &str, u: DeviceUpdate) -> i32 {
    let r = critical_section::with(|cs| {
        let mut guard = PENDING.borrow_ref_mut(cs);
        let p = &mut *guard;
        if p.queue.is_full() {
            return Err(-ENOMEM);
        }
        // Checked in place: interrupts are off here, so no copy of the Device in and out.
        u.apply_to(p.shadow.get_or_insert_with(Device::default)).map_err(|e| e.errno())?;
        p.queue.push_back(u).map_err(|_| -ENOMEM)
    });
    match r {
        Ok(()) => {
            wake::wake_app();
            0
        }
        Err(errno) => {
            log::warn!("{}: refused ({})", what, errno);
            errno
        }
    }
}

fn text(what: &str, v: &str, make: fn(String<32>) -> DeviceUpdate) -> i32 {
    match String::try_from(v) {
        Ok(s) => update(what, make(s)),
        Err(()) => {
            log::warn!("{}: longer than 32 bytes", what);
            SetError::Invalid.errno()
        }
    }
}

/// `lwm2m_carrier_avail_power_sources_set`: the power sources (0 DC ... 7 solar) the other
/// power-source setters refer to.
pub fn avail_power_sources_set(sources: &[u8]) -> i32 {
    const WHAT: &str = "lwm2m_carrier_avail_power_sources_set";
    match Vec::from_slice(sources) {
        Ok(v) => update(WHAT, DeviceUpdate::AvailPowerSources(v)),
        Err(()) => {
            log::warn!("{}: more than 8 power sources", WHAT);
            SetError::Invalid.errno()
        }
    }
}

/// `lwm2m_carrier_power_source_voltage_set` (mV).
pub fn power_source_voltage_set(source: u8, mv: i32) -> i32 {
    update("lwm2m_carrier_power_source_voltage_set", DeviceUpdate::PowerSourceVoltage(source, mv))
}

/// `lwm2m_carrier_power_source_current_set` (mA).
pub fn power_source_current_set(source: u8, ma: i32) -> i32 {
    update("lwm2m_carrier_power_source_current_set", DeviceUpdate::PowerSourceCurrent(source, ma))
}

/// `lwm2m_carrier_battery_level_set` (percent).
pub fn battery_level_set(percent: u8) -> i32 {
    update("lwm2m_carrier_battery_level_set", DeviceUpdate::BatteryLevel(percent))
}

/// `lwm2m_carrier_battery_status_set`.
pub fn battery_status_set(status: i32) -> i32 {
    update("lwm2m_carrier_battery_status_set", DeviceUpdate::BatteryStatus(status))
}

/// Memory Free (kB), read by the server as /3/0/10.
pub fn memory_free_set(kb: u32) -> i32 {
    update("memory_free", DeviceUpdate::MemoryFree(kb))
}

/// `lwm2m_carrier_memory_total_set` (kB).
pub fn memory_total_set(kb: u32) -> i32 {
    update("lwm2m_carrier_memory_total_set", DeviceUpdate::MemoryTotal(kb))
}

/// `lwm2m_carrier_error_code_add`.
pub fn error_code_add(code: i32) -> i32 {
    update("lwm2m_carrier_error_code_add", DeviceUpdate::ErrorCodeAdd(code))
}

/// `lwm2m_carrier_error_code_remove`.
pub fn error_code_remove(code: i32) -> i32 {
    update("lwm2m_carrier_error_code_remove", DeviceUpdate::ErrorCodeRemove(code))
}

/// `lwm2m_carrier_device_type_set`.
pub fn device_type_set(v: &str) -> i32 {
    text("lwm2m_carrier_device_type_set", v, DeviceUpdate::DeviceType)
}

/// `lwm2m_carrier_hardware_version_set`.
pub fn hardware_version_set(v: &str) -> i32 {
    text("lwm2m_carrier_hardware_version_set", v, DeviceUpdate::HardwareVersion)
}

/// `lwm2m_carrier_software_version_set`.
pub fn software_version_set(v: &str) -> i32 {
    text("lwm2m_carrier_software_version_set", v, DeviceUpdate::SoftwareVersion)
}

/// Applies the queued updates (carrier thread). Returns how many were applied.
pub fn apply<S: RecordStore>(carrier: &mut Carrier<S>, now: Instant) -> usize {
    let mut n = 0;
    while let Some(u) = critical_section::with(|cs| PENDING.borrow_ref_mut(cs).queue.pop_front()) {
        let r = carrier.with_registry(now, |reg| u.apply_to(&mut reg.device));
        // Checked against the shadow already: a refusal here means the two diverged.
        if r.is_err() {
            log::warn!("device update refused: {:?}", u);
        }
        n += 1;
    }
    n
}

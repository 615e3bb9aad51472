//! The application keeps the Device object (/3/0) current from its own threads: each setter
//! queues an update and wakes the carrier thread, which applies it between two steps (the
//! engine then notifies observers). Values are checked when queued, as the C setters do.

use core::cell::RefCell;

use critical_section::Mutex;
use heapless::{Deque, String, Vec};
use lwm2m_carrier::core_engine::coap::Instant;
use lwm2m_carrier::{Carrier, RecordStore};

use crate::wake;

const EINVAL: i32 = 22;
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

static QUEUE: Mutex<RefCell<Deque<DeviceUpdate, 8>>> = Mutex::new(RefCell::new(Deque::new()));

/// Queues `u` for the carrier thread: 0, or -ENOMEM when eight updates are already waiting.
pub fn update(u: DeviceUpdate) -> i32 {
    let queued = critical_section::with(|cs| QUEUE.borrow_ref_mut(cs).push_back(u).is_ok());
    if queued {
        wake::wake_app();
        0
    } else {
        -ENOMEM
    }
}

/// `lwm2m_carrier_battery_level_set`.
pub fn battery_level_set(percent: u8) -> i32 {
    if percent > 100 {
        return -EINVAL;
    }
    update(DeviceUpdate::BatteryLevel(percent))
}

/// `lwm2m_carrier_avail_power_sources_set`: the power sources (0 DC ... 7 solar) the other
/// power-source setters refer to.
pub fn avail_power_sources_set(sources: &[u8]) -> i32 {
    match Vec::from_slice(sources) {
        Ok(v) => update(DeviceUpdate::AvailPowerSources(v)),
        Err(_) => -EINVAL,
    }
}

/// `lwm2m_carrier_power_source_voltage_set` (mV).
pub fn power_source_voltage_set(source: u8, mv: i32) -> i32 {
    update(DeviceUpdate::PowerSourceVoltage(source, mv))
}

/// `lwm2m_carrier_memory_free` (kB), read by the server as /3/0/10.
pub fn memory_free_set(kb: u32) -> i32 {
    update(DeviceUpdate::MemoryFree(kb))
}

/// `lwm2m_carrier_software_version_set`.
pub fn software_version_set(v: &str) -> i32 {
    match String::try_from(v) {
        Ok(s) => update(DeviceUpdate::SoftwareVersion(s)),
        Err(_) => -ENOMEM,
    }
}

/// Applies the queued updates (carrier thread). Returns how many were applied.
pub fn apply<S: RecordStore>(carrier: &mut Carrier<S>, now: Instant) -> usize {
    let mut n = 0;
    while let Some(u) = critical_section::with(|cs| QUEUE.borrow_ref_mut(cs).pop_front()) {
        let r = carrier.with_registry(now, |reg| {
            let d = &mut reg.device;
            match &u {
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
        });
        if r.is_err() {
            log::warn!("device update refused: {:?}", u);
        }
        n += 1;
    }
    n
}

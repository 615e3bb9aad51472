//! lwm2m-carrier sample: the carrier runs in its own thread; this application prints every
//! event by name, answers REBOOT (agrees at once) and keeps the Device object current.
#![no_std]
// Kconfig symbols become cfgs through zephyr-build.
#![allow(unexpected_cfgs)]

#[cfg(CONFIG_LWM2M_CARRIER)]
use lwm2m_carrier_zephyr::{device, CarrierEvent};
use zephyr::printkln;
use zephyr::time::{sleep, Duration};

#[cfg(CONFIG_LWM2M_CARRIER)]
fn on_event(event: &CarrierEvent) -> i32 {
    match event {
        CarrierEvent::Deferred { reason, timeout_s } => {
            printkln!("{} reason {:?} timeout {} s", event.name(), reason, timeout_s)
        }
        CarrierEvent::Error { code, value } => {
            printkln!("{} code {:?} value {}", event.name(), code, value)
        }
        CarrierEvent::Reboot => printkln!("{}: rebooting now", event.name()),
        _ => printkln!("{}", event.name()),
    }
    // 0 = go ahead (for REBOOT: reboot now).
    0
}

/// Without the carrier (CONFIG_LWM2M_CARRIER=n): the same application shell, for the size
/// figures.
#[cfg(not(CONFIG_LWM2M_CARRIER))]
#[no_mangle]
extern "C" fn rust_main() {
    printkln!("lwm2m-carrier sample on {} (carrier disabled)", zephyr::kconfig::CONFIG_BOARD);
    loop {
        sleep(Duration::secs(30));
    }
}

#[cfg(CONFIG_LWM2M_CARRIER)]
#[no_mangle]
extern "C" fn rust_main() {
    printkln!("lwm2m-carrier sample on {}", zephyr::kconfig::CONFIG_BOARD);
    lwm2m_carrier_zephyr::start(on_event);

    let _ = device::software_version_set("lwm2m-carrier-sample 0.1.0");
    // Powered by its internal battery (power source 1).
    let _ = device::avail_power_sources_set(&[1]);
    // Keep the Device object current: a battery that drains slowly, and the free heap.
    let mut level: u8 = 100;
    loop {
        let _ = device::battery_level_set(level);
        let _ = device::power_source_voltage_set(1, 3000 + i32::from(level) * 12);
        level = if level <= 5 { 100 } else { level - 1 };
        sleep(Duration::secs(30));
    }
}

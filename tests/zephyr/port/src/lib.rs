//! Twister suite of the lwm2m-carrier Zephyr port on qemu_cortex_m3: the k_timer/k_sem wait,
//! NVS records in the carrier's partition, the carrier thread reaching READY over the simulated
//! modem, and the records surviving a simulated reboot (the partition mounted again).
#![no_std]
// Kconfig symbols become cfgs through zephyr-build.
#![allow(unexpected_cfgs)]

use core::sync::atomic::{AtomicU32, Ordering};

use lwm2m_carrier::RecordStore;
use lwm2m_carrier_zephyr::port::uptime_ms;
use lwm2m_carrier_zephyr::{wake, CarrierEvent, NvsStore};
use zephyr::printkln;
use zephyr::time::{sleep, Duration};

static EVENTS: AtomicU32 = AtomicU32::new(0);
static READY: AtomicU32 = AtomicU32::new(0);

fn on_event(e: &CarrierEvent) -> i32 {
    printkln!("event {}", e.name());
    EVENTS.fetch_add(1, Ordering::SeqCst);
    if *e == CarrierEvent::Ready {
        READY.store(1, Ordering::SeqCst);
    }
    0
}

fn check(ok: bool, what: &str) -> bool {
    if ok {
        printkln!("PASS {}", what);
    } else {
        printkln!("FAIL {}", what);
    }
    ok
}

/// The wait of the port's loop: a k_timer gives the semaphore after the delay.
fn test_timer() -> bool {
    let t0 = uptime_ms();
    wake::sleep(Some(50));
    let dt = uptime_ms() - t0;
    // A wake-up given before the sleep returns at once.
    wake::wake();
    let t1 = uptime_ms();
    wake::sleep(Some(10_000));
    let dt2 = uptime_ms() - t1;
    check((50..200).contains(&dt) && dt2 < 50, "timer")
}

/// NVS records in the carrier's id range; ids outside it are refused.
fn test_nvs() -> bool {
    let Ok(mut s) = NvsStore::mount() else { return check(false, "nvs (mount)") };
    let ok_write = s.write(0xCAF0, b"persisted").is_ok();
    let mut buf = [0u8; 16];
    let ok_read = s.read(0xCAF0, &mut buf) == Ok(9) && &buf[..9] == b"persisted";
    let refused = s.write(0x1234, b"x").is_err();
    check(ok_write && ok_read && refused, "nvs")
}

/// The carrier thread runs next to this one and reaches READY.
fn test_thread() -> bool {
    lwm2m_carrier_zephyr::start(on_event);
    let t0 = uptime_ms();
    while READY.load(Ordering::SeqCst) == 0 && uptime_ms() - t0 < 60_000 {
        sleep(Duration::millis(100));
    }
    check(READY.load(Ordering::SeqCst) == 1, "thread")
}

/// A simulated reboot: the partition is mounted afresh and the records are still there (the
/// carrier's bootstrap record in slot 0xCA10 or 0xCA11, and the test record).
fn test_remount() -> bool {
    let Ok(mut s) = NvsStore::mount() else { return check(false, "remount (mount)") };
    let mut buf = [0u8; 512];
    let test = s.read(0xCAF0, &mut buf) == Ok(9);
    let bootstrap = s.read(0xCA10, &mut buf).is_ok() || s.read(0xCA11, &mut buf).is_ok();
    check(test && bootstrap, "remount")
}

#[cfg(CONFIG_THREAD_ANALYZER)]
extern "C" {
    /// Zephyr's thread analyzer (CONFIG_THREAD_ANALYZER): prints each thread's stack use.
    fn thread_analyzer_print(cpu: core::ffi::c_uint);
}

/// The deepest stack each thread has used so far, the carrier thread's included:
/// after READY it has been through bootstrap, registration and the records' writes.
fn report_stacks() {
    // SAFETY: a plain kernel function; it walks the thread list under the kernel's own lock.
    #[cfg(CONFIG_THREAD_ANALYZER)]
    unsafe {
        thread_analyzer_print(0)
    };
}

#[no_mangle]
extern "C" fn rust_main() {
    let results = [test_timer(), test_nvs(), test_thread(), test_remount()];
    report_stacks();
    if results.iter().all(|r| *r) {
        printkln!("All tests passed ({} events)", EVENTS.load(Ordering::SeqCst));
    } else {
        printkln!("Some tests failed");
    }
}

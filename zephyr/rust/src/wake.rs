//! How the carrier thread sleeps: on a `k_sem`, given by a `k_timer` at the carrier's next
//! deadline, by the application (a setter changed the device object), or by the modem (data or
//! a result arrived).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use zephyr::raw::{k_timer, k_timer_init, k_timer_start, k_timer_stop};
use zephyr::sys::sync::Semaphore;
use zephyr::time::{Duration, Forever, NoWait, Timeout};

static SEM: Semaphore = Semaphore::new(0, 1);
static APP_WAKE: AtomicBool = AtomicBool::new(false);
static TIMER_READY: AtomicBool = AtomicBool::new(false);

struct TimerCell(UnsafeCell<k_timer>);

// SAFETY: the k_timer is only touched through the kernel's k_timer_* calls, which lock
// internally; Rust never reads or writes its fields.
unsafe impl Sync for TimerCell {}

// SAFETY: an all-zero k_timer is the state of a static C `struct k_timer` before k_timer_init
// (null pointers, None callbacks, zero counters); it is initialised before its first start.
static TIMER: TimerCell = TimerCell(UnsafeCell::new(unsafe { core::mem::zeroed() }));

unsafe extern "C" fn expired(_timer: *mut k_timer) {
    SEM.give();
}

fn timer() -> *mut k_timer {
    let t = TIMER.0.get();
    if !TIMER_READY.swap(true, Ordering::AcqRel) {
        // SAFETY: `t` points to a static k_timer that is not running (first use); the expiry
        // function only gives a semaphore, which is allowed in ISR context.
        unsafe { k_timer_init(t, Some(expired), None) };
    }
    t
}

/// Wakes the carrier thread from another thread or an ISR.
pub fn wake() {
    SEM.give();
}

/// Wakes the carrier thread and reports `Input::Wake` (the application changed something).
pub fn wake_app() {
    APP_WAKE.store(true, Ordering::Release);
    SEM.give();
}

/// Takes the application's wake-up, if one is pending.
pub fn take_app_wake() -> bool {
    APP_WAKE.swap(false, Ordering::AcqRel)
}

/// Sleeps until a wake-up or `ms` milliseconds (`None`: no deadline).
pub fn sleep(ms: Option<u64>) {
    let t = timer();
    if let Some(ms) = ms {
        let d: Timeout = Duration::millis(ms.max(1)).into();
        let period: Timeout = NoWait.into();
        // SAFETY: `t` is the initialised static timer; a one-shot start replaces any earlier one.
        unsafe { k_timer_start(t, d.0, period.0) };
    }
    let _ = SEM.take(Forever);
    // SAFETY: stopping an initialised timer is always allowed, running or not.
    unsafe { k_timer_stop(t) };
}

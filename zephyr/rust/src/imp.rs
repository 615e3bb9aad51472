//! The port proper, compiled when CONFIG_LWM2M_CARRIER=y.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use lwm2m_carrier::{Carrier, CarrierConfig, Runner};
use lwm2m_carrier_zephyr_modem::Modem;

use crate::{config, device, glue, logger, port, CarrierEvent, InitError, NvsStore, ZephyrPort};

/// The modem of this build.
#[cfg(CONFIG_LWM2M_CARRIER_SIMULATED_MODEM)]
pub type PlatformModem = lwm2m_carrier_zephyr_modem::SimModem;

#[cfg(CONFIG_LWM2M_CARRIER_SIMULATED_MODEM)]
fn platform_modem() -> PlatformModem {
    lwm2m_carrier_zephyr_modem::SimModem::new(zephyr::kconfig::CONFIG_LWM2M_CARRIER_SIMULATED_IMEI)
}

/// The modem of this build.
#[cfg(all(not(CONFIG_LWM2M_CARRIER_SIMULATED_MODEM), CONFIG_LWM2M_CARRIER_NRF_MODEM))]
pub type PlatformModem = crate::nrf::NrfModem;

#[cfg(all(not(CONFIG_LWM2M_CARRIER_SIMULATED_MODEM), CONFIG_LWM2M_CARRIER_NRF_MODEM))]
fn platform_modem() -> PlatformModem {
    crate::nrf::NrfModem::new()
}

#[cfg(not(any(CONFIG_LWM2M_CARRIER_SIMULATED_MODEM, CONFIG_LWM2M_CARRIER_NRF_MODEM)))]
compile_error!(
    "lwm2m-carrier: no modem for this board: enable CONFIG_LWM2M_CARRIER_SIMULATED_MODEM, or \
     build a non-secure nRF91 image (CONFIG_LWM2M_CARRIER_NRF_MODEM), see docs/zephyr.md"
);

/// The application's event handler: called on the carrier thread; for REBOOT a non-zero
/// return postpones the reboot.
pub type Handler = fn(&CarrierEvent) -> i32;

/// The runner of this build.
pub type ZephyrRunner = Runner<ZephyrPort<PlatformModem>, Handler>;

/// Why the carrier did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    /// The NVS partition could not be mounted (negative errno).
    Storage(i32),
    Init(InitError),
}

/// Builds the carrier over this build's modem and NVS (`lwm2m_carrier_init` without the
/// waiting) in `slot`: for applications and tests that drive the loop themselves. Kept out of
/// line so that its temporaries leave the stack before the loop runs.
#[inline(never)]
pub fn build_in<'a>(
    slot: &'a mut MaybeUninit<ZephyrRunner>,
    handler: Handler,
    config: &CarrierConfig,
) -> Result<&'a mut ZephyrRunner, StartError> {
    logger::init();
    let store = NvsStore::mount().map_err(StartError::Storage)?;
    let mut modem = platform_modem();
    let identity = modem.identity();
    // Written straight into the static slot and configured there: `Carrier::new` returns the
    // carrier (about 10 KB) by value through a `Result`, whose copies overflowed the thread's
    // stack on qemu_cortex_m3.
    let runner = slot.write(Runner::new(
        Carrier::blank(store, glue::seed()),
        ZephyrPort::new(modem),
        handler,
    ));
    runner.carrier.configure(config, &identity).map_err(StartError::Init)?;
    log::info!("carrier created: endpoint {}", runner.carrier.endpoint());
    Ok(runner)
}

/// Applies the application's pending device updates, then runs one step of the loop.
pub fn step(runner: &mut ZephyrRunner) {
    let now = port::uptime_ms();
    if device::apply(
        &mut runner.carrier,
        lwm2m_carrier::core_engine::coap::Instant::from_millis(now),
    ) > 0
    {
        runner.drain();
    }
    runner.step();
}

/// `lwm2m_carrier_init` + `lwm2m_carrier_run`, forever (the carrier thread's body).
pub fn run(runner: &mut ZephyrRunner) -> ! {
    runner.init();
    run_forever(runner)
}

/// `lwm2m_carrier_run`: start bootstrap or registration, then the loop, forever.
pub fn run_forever(runner: &mut ZephyrRunner) -> ! {
    runner.run_until(|_| true);
    loop {
        step(runner);
    }
}

#[zephyr::thread(stack_size = zephyr::kconfig::CONFIG_LWM2M_CARRIER_THREAD_STACK_SIZE as usize)]
fn carrier_thread(handler: Handler) {
    let Some(slot) = RUNNER.take() else {
        log::error!("carrier already started");
        return;
    };
    match build_in(slot, handler, &config::from_kconfig()) {
        Ok(runner) => run(runner),
        Err(e) => log::error!("carrier not started: {:?}", e),
    }
}

/// The runner of the carrier thread (about 11 KB): in a static rather than on the thread's
/// stack, which then only holds the frames of one step.
pub(crate) struct RunnerSlot {
    taken: AtomicBool,
    runner: UnsafeCell<MaybeUninit<ZephyrRunner>>,
}

// SAFETY: `take` hands out the only reference, once (the atomic swap), so the cell is never
// shared between threads.
unsafe impl Sync for RunnerSlot {}

impl RunnerSlot {
    // A shared `&'static self` handing out `&mut` is what the atomic makes sound here.
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn take(&'static self) -> Option<&'static mut MaybeUninit<ZephyrRunner>> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the swap above succeeds once, so this is the only reference ever made.
        Some(unsafe { &mut *self.runner.get() })
    }

    /// Returns the slot after a failed start, so that a later start may use it again. Takes
    /// the caller's only reference, so nothing can use the old contents afterwards (they are
    /// overwritten, never dropped: `MaybeUninit` does not drop).
    pub(crate) fn give_back(&'static self, slot: &'static mut MaybeUninit<ZephyrRunner>) {
        let _ = slot;
        self.taken.store(false, Ordering::Release);
    }
}

pub(crate) static RUNNER: RunnerSlot =
    RunnerSlot { taken: AtomicBool::new(false), runner: UnsafeCell::new(MaybeUninit::uninit()) };

/// Starts the carrier thread with the application's `handler`. Call once.
pub fn start(handler: Handler) {
    let thread = carrier_thread(handler);
    thread.set_priority(zephyr::kconfig::CONFIG_LWM2M_CARRIER_THREAD_PRIORITY as core::ffi::c_int);
    thread.start();
}

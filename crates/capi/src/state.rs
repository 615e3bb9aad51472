//! The process-wide library instance behind the C functions, and the loop that drives it.
//!
//! # Locking
//!
//! One `std::sync::Mutex` guards the carrier, its port (the non-blocking half) and the
//! application's Device values. The thread of `lwm2m_carrier_init`/`lwm2m_carrier_run` owns
//! the platform's [`Waiter`] (taken out of the instance) and turns the loop like this:
//!
//! 1. lock: `Runner::drain`, read the next deadline; unlock;
//! 2. deliver the collected events to the application (no lock held);
//! 3. `Waiter::wait_ready(deadline)`, no lock held: setters on other threads run freely and
//!    call the [`Waker`], which ends this wait early so their changes go out at once;
//! 4. lock: `Runner::step` (the shared loop body) whose `Port::wait` is a non-blocking poll
//!    (see [`Polled`]); unlock; deliver its events.
//!
//! Events are never delivered with the lock held, so the handler may call setters. The runner's
//! handler only collects them; a REBOOT is answered "postpone" there and, when the application
//! answers 0, accepted afterwards with `Carrier::reboot_response(now, true)` (the carrier keeps
//! a postponed reboot pending, so the late acceptance is honoured).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use lwm2m_carrier::{CarrierConfig, CarrierEvent, EventHandler, Port, Runner};
use lwm2m_carrier_core::coap::Instant;
use lwm2m_carrier_core::objects::{Device, SetError};

use crate::ffi;
use crate::platform::{Parts, Platform, PlatformError, Polled, Waiter, Waker};
use lwm2m_carrier_cabi::hooks::{self, Synced};

/// The longest the loop sleeps: the time hooks and Memory Free are read at least this often.
pub const SYNC_PERIOD: Duration = Duration::from_secs(30);

/// The runner's event handler: collects for delivery outside the lock.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    events: Vec<CarrierEvent>,
}

impl EventHandler for Collector {
    fn on_event(&mut self, event: &CarrierEvent) -> i32 {
        self.events.push(*event);
        // Postpone for now; the application's answer is applied after delivery.
        i32::from(*event == CarrierEvent::Reboot)
    }
}

/// The Device values the application set, kept outside the carrier: set before init they are
/// applied at init, and a new init (a new carrier) gets them again.
#[derive(Debug, Default)]
pub(crate) struct AppValues {
    /// A Device object holding the application's values; also validates every setter call.
    device: Device,
    /// Not readable back from `Device`.
    battery_status: Option<i32>,
    memory_total_kb: Option<u32>,
}

impl AppValues {
    fn apply_to(&self, d: &mut Device) {
        let a = &self.device;
        let sources: Vec<u8> = a.power_sources().iter().map(|p| p.source).collect();
        let mut results = vec![d.avail_power_sources_set(&sources)];
        for p in a.power_sources() {
            results.push(d.power_source_voltage_set(p.source, p.voltage_mv));
            results.push(d.power_source_current_set(p.source, p.current_ma));
        }
        results.push(d.battery_level_set(a.battery_level()));
        if let Some(s) = self.battery_status {
            results.push(d.battery_status_set(s));
        }
        results.push(d.device_type_set(a.device_type()));
        results.push(d.hardware_version_set(a.hardware_version()));
        results.push(d.software_version_set(a.software_version()));
        for &e in a.error_codes() {
            results.push(d.error_code_add(e.into()));
        }
        if let Some(kb) = self.memory_total_kb {
            results.push(d.memory_total_set(kb));
        }
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            log::error!("applying the application's Device values failed: {e:?}");
        }
    }
}

type RunnerOf<P> = Runner<Polled<<P as Platform>::Port>, Collector>;

struct Instance<P: Platform> {
    runner: RunnerOf<P>,
    /// `None` while the init or run thread uses it outside the lock.
    waiter: Option<P::Waiter>,
    waker: Waker,
    synced: Synced,
}

impl<P: Platform> Instance<P> {
    fn now(&mut self) -> Instant {
        self.runner.port.now()
    }

    fn take_events(&mut self) -> Vec<CarrierEvent> {
        std::mem::take(&mut self.runner.handler.events)
    }

    /// Drains the runner and tells how long the loop may sleep.
    fn drain_and_timeout(&mut self) -> Duration {
        self.runner.drain();
        let now = self.now();
        self.runner.carrier.poll_at().map_or(SYNC_PERIOD, |deadline| {
            Duration::from_millis(deadline.saturating_since(now)).min(SYNC_PERIOD)
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Idle,
    Initializing,
    Running,
}

pub(crate) struct State<P: Platform> {
    instance: Option<Instance<P>>,
    app: AppValues,
    busy: Busy,
}

/// The library instance of one platform.
pub struct Api<P: Platform> {
    state: Mutex<State<P>>,
}

impl<P: Platform> Default for Api<P> {
    fn default() -> Self {
        Api::new()
    }
}

impl<P: Platform> std::fmt::Debug for Api<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

impl<P: Platform> Api<P> {
    pub fn new() -> Self {
        Api {
            state: Mutex::new(State {
                instance: None,
                app: AppValues::default(),
                busy: Busy::Idle,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<P>> {
        // Nothing under the lock calls application code, so a poisoned lock only means a bug
        // in this library panicked: carry on with the state as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the instance under the lock, if there is one.
    fn with_instance<R>(&self, f: impl FnOnce(&mut Instance<P>) -> R) -> Option<R> {
        self.lock().instance.as_mut().map(f)
    }

    /// `lwm2m_carrier_init`: returns 0 or a negative errno.
    pub fn init(&self, config: &CarrierConfig) -> i32 {
        {
            let mut st = self.lock();
            if st.busy != Busy::Idle {
                log::warn!("lwm2m_carrier_init: refused, the library is {:?}", st.busy);
                return ffi::ebusy();
            }
            st.busy = Busy::Initializing;
        }
        let result = self.init_inner(config);
        self.lock().busy = Busy::Idle;
        result
    }

    fn init_inner(&self, config: &CarrierConfig) -> i32 {
        // The platform may be slow (modem, storage): no lock held.
        let Parts { carrier, port, mut waiter, waker } = match P::make(config) {
            Ok(parts) => parts,
            Err(e) => {
                log::warn!("lwm2m_carrier_init: {e:?}");
                return match e {
                    PlatformError::Carrier(lwm2m_carrier::InitError::Identity(_))
                    | PlatformError::Io => ffi::eio(),
                    PlatformError::Carrier(_) => SetError::Invalid.errno(),
                };
            }
        };
        {
            let mut st = self.lock();
            let mut runner = Runner::new(carrier, Polled(port), Collector::default());
            let now = runner.port.now();
            let app = &st.app;
            runner.carrier.with_registry(now, |r| app.apply_to(&mut r.device));
            runner.carrier.init(now);
            // Replaces (drops) a previous instance, as a reboot would.
            st.instance = Some(Instance { runner, waiter: None, waker, synced: Synced::default() });
        }
        loop {
            let turn = self.with_instance(|i| {
                let done = i.runner.carrier.init_done();
                let timeout = i.drain_and_timeout();
                (done, timeout, i.take_events())
            });
            let Some((done, timeout, events)) = turn else { return ffi::eio() };
            self.deliver(events);
            if done {
                break;
            }
            waiter.wait_ready(timeout);
            let events = self.with_instance(|i| {
                i.runner.step();
                i.take_events()
            });
            self.deliver(events.unwrap_or_default());
        }
        self.with_instance(|i| i.waiter = Some(waiter));
        self.sync_hooks();
        0
    }

    /// `lwm2m_carrier_run`: never returns once initialised.
    pub fn run(&self) {
        let (mut waiter, events) = {
            let mut st = self.lock();
            if st.busy != Busy::Idle {
                log::warn!("lwm2m_carrier_run: refused, the library is {:?}", st.busy);
                return;
            }
            let Some(inst) = st.instance.as_mut() else {
                log::error!("lwm2m_carrier_run: lwm2m_carrier_init has not succeeded");
                return;
            };
            let Some(waiter) = inst.waiter.take() else { return };
            let now = inst.now();
            inst.runner.carrier.run(now);
            inst.runner.drain();
            let events = inst.take_events();
            st.busy = Busy::Running;
            (waiter, events)
        };
        self.deliver(events);
        while self.turn(&mut waiter) {}
        log::error!("lwm2m_carrier_run: the instance vanished");
    }

    /// One turn of the run loop (see the module documentation). False if there is no instance.
    fn turn(&self, waiter: &mut P::Waiter) -> bool {
        self.sync_hooks();
        let Some((timeout, events)) =
            self.with_instance(|i| (i.drain_and_timeout(), i.take_events()))
        else {
            return false;
        };
        self.deliver(events);
        waiter.wait_ready(timeout);
        let Some(events) = self.with_instance(|i| {
            i.runner.step();
            i.take_events()
        }) else {
            return false;
        };
        self.deliver(events);
        true
    }

    /// Hands events to the application, in order, with no lock held.
    fn deliver(&self, events: Vec<CarrierEvent>) {
        let mut queue = VecDeque::from(events);
        while let Some(event) = queue.pop_front() {
            let answer = ffi::deliver(&event);
            if event == CarrierEvent::Reboot && answer == 0 {
                let more = self.with_instance(|i| {
                    let now = i.now();
                    i.runner.carrier.reboot_response(now, true);
                    i.runner.drain();
                    i.take_events()
                });
                queue.extend(more.unwrap_or_default());
            }
        }
    }

    /// Exchanges Current Time, UTC Offset, Timezone and Memory Free with the application's
    /// hooks ([`hooks`]): first what servers wrote goes to the write hooks, then the read hooks'
    /// values go into the Device object. Called on the init/run thread only, the hooks without
    /// the lock.
    fn sync_hooks(&self) {
        let written = self.with_instance(|i| {
            let now = i.now();
            i.synced.written(&i.runner.carrier.registry().device, now)
        });
        let Some(written) = written else { return };
        hooks::call_write_hooks(&written);
        let values = ffi::read_hooks();
        self.with_instance(|i| {
            let now = i.now();
            let synced = &mut i.synced;
            i.runner.carrier.with_registry(now, |r| synced.apply(&mut r.device, now, &values));
        });
    }

    /// A Device setter: validated against the application's copy, then applied to the running
    /// carrier (if any), which is woken so a change is reported at once.
    pub(crate) fn set(
        &self,
        what: &str,
        op: impl Fn(&mut Device) -> Result<(), SetError>,
        record: impl FnOnce(&mut AppValues),
    ) -> i32 {
        let mut st = self.lock();
        if let Err(e) = op(&mut st.app.device) {
            log::warn!("{what}: refused ({e:?})");
            return e.errno();
        }
        record(&mut st.app);
        if let Some(inst) = st.instance.as_mut() {
            let now = inst.now();
            if let Err(e) = inst.runner.carrier.with_registry(now, |r| op(&mut r.device)) {
                log::error!("{what}: accepted by the copy, refused by the carrier ({e:?})");
                return e.errno();
            }
            inst.waker.wake();
        }
        0
    }
}

impl AppValues {
    pub(crate) fn set_battery_status(&mut self, status: i32) {
        self.battery_status = Some(status);
    }

    pub(crate) fn set_memory_total(&mut self, kb: u32) {
        self.memory_total_kb = Some(kb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::Loopback;

    fn device<R>(api: &Api<Loopback>, f: impl FnOnce(&Device, Instant) -> R) -> R {
        api.with_instance(|i| {
            let now = i.now();
            f(&i.runner.carrier.registry().device, now)
        })
        .expect("initialised")
    }

    /// Values set before init reach the carrier's Device object, and survive a re-init; the
    /// time hooks (here the weak C defaults) are exchanged both ways.
    #[test]
    fn values_before_init_and_time_hooks() {
        let api = Api::<Loopback>::new();
        assert_eq!(api.set("t", |d| d.battery_level_set(42), |_| {}), 0);
        assert_eq!(api.set("t", |d| d.battery_level_set(101), |_| {}), -22);
        assert_eq!(api.set("t", |d| d.avail_power_sources_set(&[1, 5]), |_| {}), 0);
        assert_eq!(api.set("t", |d| d.power_source_voltage_set(1, 3900), |_| {}), 0);
        assert_eq!(api.set("t", |d| d.power_source_voltage_set(2, 1), |_| {}), -19);
        assert_eq!(api.set("t", |d| d.device_type_set("Probe"), |_| {}), 0);
        assert_eq!(api.set("t", |d| d.error_code_add(4), |_| {}), 0);

        assert_eq!(api.init(&CarrierConfig::default()), 0);
        let check = |api: &Api<Loopback>| {
            device(api, |d, _| {
                assert_eq!(d.battery_level(), 42);
                assert_eq!(d.device_type(), "Probe");
                assert_eq!(d.error_codes(), &[4]);
                let p = d.power_sources();
                assert_eq!(p.len(), 2);
                assert_eq!((p[0].source, p[0].voltage_mv), (1, 3900));
            });
        };
        check(&api);
        assert_eq!(api.init(&CarrierConfig::default()), 0);
        check(&api);

        // Read hooks went in: the weak defaults give the host's time and offset 0.
        let host_now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
                as i64;
        device(&api, |d, now| {
            assert!(d.current_time(now).abs_diff(host_now) <= 2);
            assert_eq!(d.utc_offset(), "+00:00");
        });

        // A server writes: the write hooks get it, and the next read gives it back.
        api.with_instance(|i| {
            let now = i.now();
            i.runner.carrier.with_registry(now, |r| {
                r.device.current_time_set(1_000_000_000, now);
                r.device.utc_offset_set("UTC+05:30").unwrap();
                r.device.timezone_set("Asia/Kolkata").unwrap();
            });
        });
        api.sync_hooks();
        device(&api, |d, now| {
            assert!(d.current_time(now).abs_diff(1_000_000_000) <= 2);
            assert_eq!(d.utc_offset(), "+05:30");
            assert_eq!(d.timezone(), "Asia/Kolkata");
        });
    }

    #[test]
    fn reboot_is_postponed_until_the_application_answers() {
        let mut c = Collector::default();
        assert_eq!(c.on_event(&CarrierEvent::Reboot), 1);
        assert_eq!(c.on_event(&CarrierEvent::Ready), 0);
        assert_eq!(c.events, [CarrierEvent::Reboot, CarrierEvent::Ready]);
    }
}

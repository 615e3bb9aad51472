//! What the C interface needs from a platform, and the adapter that lets the shared `Runner`
//! step without blocking while the process-wide lock is held.
//!
//! A platform's `Port` is split in two halves for the C interface:
//!
//! - the `Port` itself (time, actions, sends, and a `wait` that the C interface only ever calls
//!   with a deadline of "now", as a non-blocking poll), which lives under the lock together
//!   with the carrier; and
//! - a [`Waiter`], which blocks until the port probably has something (a datagram, the result
//!   of an action) or a [`Waker`] fires, without consuming anything. It is used by the thread
//!   of `lwm2m_carrier_init`/`lwm2m_carrier_run` with the lock released.
//!
//! This is the classic reactor split (readiness outside, I/O inside). A socket port implements
//! `Waiter` with `poll(2)` on its sockets plus a wake pipe; the loopback port with a condvar.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lwm2m_carrier::{Carrier, CarrierConfig, InitError, Input, Port, PortAction};
use lwm2m_carrier_core::coap::Instant;
use lwm2m_carrier_core::ConnId;

/// Blocks the library's thread until its port may have an input.
pub trait Waiter {
    /// Returns when the port probably has an input, when the [`Waker`] of this waiter was
    /// called, or after `timeout`. Spurious returns are fine. Must not consume inputs.
    fn wait_ready(&mut self, timeout: Duration);
}

/// Interrupts a [`Waiter`] (from a setter, on any thread): the port's next `wait` returns
/// `Input::Wake` unless it has something else.
#[derive(Clone)]
pub struct Waker(Arc<dyn Fn() + Send + Sync>);

impl Waker {
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        Waker(Arc::new(wake))
    }

    pub fn wake(&self) {
        (self.0)();
    }
}

impl fmt::Debug for Waker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Waker")
    }
}

/// Why a platform could not build the carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformError {
    /// The carrier refused the configuration or the modem's identity.
    Carrier(InitError),
    /// The platform itself failed (modem, storage).
    Io,
}

/// What `Platform::make` returns: a carrier over the platform's store and the two halves of
/// its port.
pub struct Parts<P: Platform + ?Sized> {
    pub carrier: Carrier<<P::Port as Port>::Store>,
    pub port: P::Port,
    pub waiter: P::Waiter,
    pub waker: Waker,
}

impl<P: Platform + ?Sized> fmt::Debug for Parts<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parts").finish_non_exhaustive()
    }
}

/// A platform the C interface can run on (the loopback one here; the host one later).
pub trait Platform: 'static {
    type Port: Port + Send;
    type Waiter: Waiter + Send;

    /// Reads the modem identity, opens storage and builds the carrier for `config`. Called by
    /// every successful `lwm2m_carrier_init`; a second call replaces the first instance.
    fn make(config: &CarrierConfig) -> Result<Parts<Self>, PlatformError>;
}

/// The platform's port with `wait` turned into a non-blocking poll: the blocking part is the
/// [`Waiter`], outside the lock. Everything else is passed through.
#[derive(Debug)]
pub struct Polled<P>(pub P);

impl<P: Port> Port for Polled<P> {
    type Store = P::Store;

    fn now(&mut self) -> Instant {
        self.0.now()
    }

    fn act(&mut self, action: PortAction, carrier: &Carrier<Self::Store>) {
        self.0.act(action, carrier);
    }

    fn send(&mut self, conn: ConnId, datagram: &[u8]) {
        self.0.send(conn, datagram);
    }

    fn wait(&mut self, _deadline: Option<Instant>, buf: &mut [u8]) -> Input {
        let now = self.0.now();
        self.0.wait(Some(now), buf)
    }
}

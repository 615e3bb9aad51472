//! The sans-IO LwM2M 1.0 client engine of lwm2m-carrier.
//!
//! No I/O, no clock, no threads, no heap: the engine is fed datagrams, connection results and
//! the current time, and hands back datagrams, actions and the next deadline. The same inputs
//! always give the same outputs, so every scenario replays on a virtual clock.
//!
//! A driver (the runner of each port) does, after every input and whenever `poll_at` is reached:
//!
//! ```text
//! engine.handle_timeout(now);
//! loop {
//!     let mut progressed = false;
//!     while let Some((conn, datagram)) = engine.poll_transmit(now) { send(conn, datagram); progressed = true; }
//!     while let Some(action) = engine.poll_action(now) { carry_out(action); progressed = true; }
//!     if !progressed { break; }
//! }
//! sleep_until(engine.poll_at());
//! ```
#![no_std]
#![forbid(unsafe_code)]

mod accounts;
pub mod attributes;
pub mod carrier;
pub mod config;
mod engine;
pub mod event;
mod hash;
mod message;
pub mod observe;
mod request;
mod session;

pub use config::Config;
pub use engine::{update_margin_s, Engine};
pub use event::{Action, ConnId, Event, Failure};
pub use lwm2m_coap as coap;
pub use lwm2m_formats as formats;
pub use lwm2m_objects as objects;

/// Feeds arbitrary bytes to a registered engine as a server request and as a response, for the
/// fuzzers and the corpus replay: it must never panic.
pub fn fuzz_datagram(data: &[u8]) {
    let Some(config) = Config::new("urn:imei:000000000000000") else { return };
    let mut engine = Engine::new(config, fuzz_registry(), 1);
    let now = lwm2m_coap::Instant::from_millis(0);
    engine.start(now);
    engine.handle_connected(now, ConnId(0));
    while engine.poll_transmit(now).is_some() {}
    engine.handle_datagram(now, ConnId(0), data);
    while engine.poll_transmit(now).is_some() {}
    while engine.poll_action(now).is_some() {}
    let later = lwm2m_coap::Instant::from_millis(1_000_000);
    engine.handle_timeout(later);
    while engine.poll_transmit(later).is_some() {}
}

/// A registry with one management server account, as after a bootstrap.
fn fuzz_registry() -> lwm2m_objects::Registry {
    let mut registry = lwm2m_objects::Registry::new();
    accounts::provision_for_tests(&mut registry);
    registry
}

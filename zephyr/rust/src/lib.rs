//! The Zephyr port of lwm2m-carrier, on zephyr-lang-rust.
//!
//! - The carrier loop (`lwm2m_carrier::Runner`) runs in its own thread ([`start`]), next to the
//!   application, at CONFIG_LWM2M_CARRIER_THREAD_PRIORITY with
//!   CONFIG_LWM2M_CARRIER_THREAD_STACK_SIZE of stack.
//! - Time is the kernel uptime; the thread sleeps on a `k_sem` that a `k_timer` gives at the
//!   carrier's next deadline ([`wake`]).
//! - Records are NVS entries 0xCA00-0xCAFF in their own partition ([`store`]).
//! - `log` goes to Zephyr logging under the `lwm2m_carrier` source ([`logger`]).
//! - The modem is simulated (CONFIG_LWM2M_CARRIER_SIMULATED_MODEM: qemu, native_sim) or the
//!   nRF91 modem through the `nrf-modem` crate (CONFIG_LWM2M_CARRIER_NRF_MODEM).
//!
//! With CONFIG_LWM2M_CARRIER=n the crate is empty, so that an application can measure or ship
//! an image without the carrier while keeping the dependency.
#![no_std]
// Kconfig symbols become cfgs through zephyr-build; rustc cannot know them all in advance.
#![allow(unexpected_cfgs)]

#[cfg(all(CONFIG_LWM2M_CARRIER, feature = "capi"))]
pub mod capi;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub mod config;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub mod device;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub mod glue;
#[cfg(CONFIG_LWM2M_CARRIER)]
mod imp;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub mod logger;
#[cfg(all(CONFIG_LWM2M_CARRIER, CONFIG_LWM2M_CARRIER_NRF_MODEM))]
pub mod nrf;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub mod port;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub mod store;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub mod wake;

#[cfg(CONFIG_LWM2M_CARRIER)]
pub use imp::*;
pub use lwm2m_carrier::{CarrierEvent, DeferredReason, ErrorCode, InitError};
pub use lwm2m_carrier_zephyr_modem as modem;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub use port::ZephyrPort;
#[cfg(CONFIG_LWM2M_CARRIER)]
pub use store::NvsStore;

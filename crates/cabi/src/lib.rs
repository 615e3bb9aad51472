//! The pieces of the C interface (`include/lwm2m_carrier.h`) that do not depend on the
//! platform: the C types ([`types`]), `lwm2m_carrier_config_t` parsing and argument checks
//! ([`config`]), and the calls into the application: its event handler and time hooks, with
//! the errno values of the C environment ([`ffi`]), and the exchange of the time values with
//! those hooks ([`hooks`]), and the Portfolio functions ([`portfolio`]).
//!
//! The symbols [`ffi`] calls (`lwm2m_carrier_event_handler`, the time hooks,
//! `lwm2m_carrier_capi_errno_*`) come from the application or from the port's C file of weak
//! defaults: crates/capi/c/weak_handler.c on the host, zephyr/src/lwm2m_carrier_capi.c on
//! Zephyr.
#![no_std]

pub mod config;
pub mod ffi;
pub mod hooks;
pub mod portfolio;
pub mod types;

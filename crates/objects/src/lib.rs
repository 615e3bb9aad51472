//! LwM2M 1.0 object model and the standard objects 0-5 (Security, Server, Access Control,
//! Device, Connectivity Monitoring, Firmware Update), behind the [`Registry`] the engine calls
//! for Read/Write/Execute/Create/Delete/Discover with the access rules applied.
//!
//! `no_std`, no heap: every string and list has a fixed capacity (see the constants of each
//! object module). Keys are never printed by `Debug`.
//!
//! # What the engine does with it
//!
//! - Builds one [`Registry`] at start-up and puts the factory Bootstrap-Server account into
//!   `registry.security` ([`SecurityInstance`], `bootstrap = true`); the port fills the Device
//!   and Connectivity Monitoring objects through their setters.
//! - Maps each request to one call with a [`Ctx`] ([`Caller::Bootstrap`] on the bootstrap
//!   connection, [`Caller::Server`] with the server's Short Server ID otherwise): GET →
//!   [`Registry::read`] (Accept option) or [`Registry::discover`] (Accept 40), PUT →
//!   [`Registry::write`] with `replace = true`, POST on a resource → [`Registry::execute`], POST
//!   on an object → [`Registry::create`], POST on an instance → `write` with `replace = false`,
//!   DELETE → [`Registry::delete`]. `Ok` maps to 2.05/2.04/2.01/2.02; `Err(code)` is the response.
//! - For Block2 renders the read again into a `WindowSink` per block (rendering is
//!   deterministic); for notifications compares [`Registry::numeric_value`] with gt/lt/st.
//! - After every operation, and after calling setters, drains [`Registry::take_effect`]:
//!   [`Effect::Changed`] feeds Observe (and an Update when it overlaps `/1/x/1` or `/1/x/7`),
//!   the other effects are actions (reboot, update trigger, FOTA, ...).
//! - On Bootstrap-Finish calls [`Registry::bootstrap_finish_check`]; Register/Update payloads
//!   come from [`Registry::write_registration_links`].
#![no_std]
#![forbid(unsafe_code)]

pub mod acl;
pub mod attrs;
pub mod conn_mon;
pub mod device;
pub mod firmware;
mod fuzz;
pub mod model;
pub mod registry;
pub mod security;
pub mod server;
pub mod vecs;

pub use acl::{Acl, AclInstance};
pub use attrs::{Attr, Attrs};
pub use conn_mon::ConnMon;
pub use device::Device;
pub use firmware::{Firmware, FwState};
pub use fuzz::fuzz_operation;
pub use model::{Caller, Ctx, Effect, Kind, Object, Ops, ResourceDef, SetError, Value};
pub use registry::{AttrSource, NoAttrs, Registry};
pub use security::{Security, SecurityInstance};
pub use server::{Server, ServerInstance};

#[cfg(test)]
mod tests;

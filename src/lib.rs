//! lwm2m-carrier: an open replacement for the nRF91 LwM2M carrier library.
//!
//! The application sees events (`CarrierEvent`) and a few setters; LwM2M stays inside. The
//! protocol and the carrier's rules live in `lwm2m-carrier-core` (sans-IO); this crate adds the
//! runner that drives them over a platform `Port`.
#![no_std]
#![forbid(unsafe_code)]

pub mod port;
pub mod runner;

pub use lwm2m_carrier_core as core_engine;
pub use lwm2m_carrier_core::carrier::{
    Carrier, CarrierConfig, CarrierEvent, ConnectError, DeferredReason, DeviceIdentity, ErrorCode,
    InitError, LinkError, PortAction, RecordStore, StoreError,
};
pub use lwm2m_carrier_core::objects::{Device, SetError};
pub use port::{Input, Port};
pub use runner::{EventHandler, Runner};

//! lwm2m-carrier: an open replacement for the nRF91 LwM2M carrier library.
#![no_std]
#![forbid(unsafe_code)]

pub use lwm2m_carrier_core as core_engine;

//! Carrier policy on top of the LwM2M engine: identity, retry schedule, persisted records and
//! the lifecycle the application sees as events.

pub mod bootstrap_record;
pub mod events;
pub mod fota;
pub mod identity;
pub mod lifecycle;
pub mod records;
pub mod retry;
pub mod store;

pub use events::{CarrierEvent, DeferredReason, ErrorCode};
pub use lifecycle::{
    Carrier, CarrierConfig, ConnectError, DeviceIdentity, InitError, LinkError, PortAction,
};
pub use store::{RecordStore, StoreError};

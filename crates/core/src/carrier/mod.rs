//! Carrier policy on top of the LwM2M engine: identity, retry schedule, persisted records and
//! the lifecycle the application sees as events.

pub mod identity;
pub mod records;
pub mod retry;
pub mod store;

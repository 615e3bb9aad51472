//! The C interface of lwm2m-carrier (`include/lwm2m_carrier.h`): a drop-in for the 0.9.x
//! carrier library API.
//!
//! The exported functions ([`exports`]) over the host platform; the parts every port shares
//! (C types, config parsing, calls into the application) are in `lwm2m-carrier-cabi`.
//!
//! One process-wide instance ([`state::Api`]) over the platform [`ActivePlatform`]; the
//! locking and threading design is described in [`state`]. The application's hooks
//! (`lwm2m_carrier_event_handler`, time hooks, `lwm2m_carrier_memory_free_read`) have weak
//! defaults in `c/weak_handler.c`, built into this library by `build.rs`.
//!
//! Choices where the reference leaves room:
//! - Setters before `lwm2m_carrier_init` succeed (with the same validation) and their values are
//!   applied when the library starts, and again after a re-init.
//! - `lwm2m_carrier_init` may be called again until `lwm2m_carrier_run` runs (a new instance, as
//!   after a reboot); afterwards it returns -EBUSY.
//! - The Portfolio object (/16) does not exist in this library yet: the identity and portfolio
//!   functions validate their pointers and return -ENOTSUP.

pub use lwm2m_carrier_cabi::{config, ffi, types};

mod exports;
pub mod loopback;
pub mod platform;
pub mod state;

pub use exports::ActivePlatform;
pub use platform::{Parts, Platform, PlatformError, Polled, Waiter, Waker};
pub use types::{
    lwm2m_carrier_config_t, lwm2m_carrier_event_deferred_t, lwm2m_carrier_event_error_t,
    lwm2m_carrier_event_t,
};

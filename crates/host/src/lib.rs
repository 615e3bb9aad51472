//! Host (std) port of lwm2m-carrier: the transport and storage parts.
//!
//! - [`uri`]: `coap://` / `coaps://` server URIs, resolved with std.
//! - [`transport`]: one [`Transport`] over plain UDP ([`plain`]) or DTLS 1.2 PSK ([`dtls`],
//!   OpenSSL), client side; a one-session-at-a-time [`DtlsServer`] for in-process test servers.
//! - [`file_store`]: [`FileStore`], the core's `RecordStore` as one file per record with
//!   atomic replacement, like Zephyr's NVS.
#![forbid(unsafe_code)]

mod datagram;
pub mod dtls;
pub mod error;
pub mod file_store;
pub mod plain;
pub mod psk;
pub mod transport;
pub mod uri;

pub use dtls::{DtlsConfig, DtlsConnection, DtlsServer};
pub use error::TransportError;
pub use file_store::FileStore;
pub use plain::PlainTransport;
pub use psk::{Psk, PskError, PskLookup};
pub use transport::{Security, Transport};
pub use uri::{Host, Scheme, ServerUri, UriError};

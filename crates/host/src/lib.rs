//! Host (std) port of lwm2m-carrier: the transport and storage parts.
//!
//! - [`uri`]: `coap://` / `coaps://` server URIs, resolved with std.
//! - [`transport`]: one [`Transport`] over plain UDP ([`plain`]) or DTLS 1.2 PSK ([`dtls`],
//!   OpenSSL), client side; a one-session-at-a-time [`DtlsServer`] for in-process test servers.
//! - [`file_store`]: [`FileStore`], the core's `RecordStore` as one file per record with
//!   atomic replacement, like Zephyr's NVS.
//! - [`port`]: [`HostPort`], the runner's `Port` on std: real time, a simulated [`modem`],
//!   connections on threads ([`connection`]), a [`Waker`] for other threads.
//! - [`servers`]: in-process DTLS-PSK bootstrap and management test servers (the scripted
//!   servers of lwm2m-testkit), with their persisted [`server_settings`].
//! - [`cli`], [`logger`], [`traffic`]: the pieces of the `lwm2m-carrier-sim` binary.
#![forbid(unsafe_code)]

pub mod cli;
mod connection;
mod datagram;
pub mod dtls;
pub mod error;
pub mod file_store;
pub mod logger;
pub mod modem;
pub mod plain;
pub mod port;
pub mod psk;
pub mod server_settings;
pub mod servers;
pub mod traffic;
pub mod transport;
pub mod uri;

pub use dtls::{DtlsConfig, DtlsConnection, DtlsServer};
pub use error::TransportError;
pub use file_store::FileStore;
pub use modem::{Modem, ModemConfig, ModemFaults};
pub use plain::PlainTransport;
pub use port::{HostPort, HostPortConfig, Waker};
pub use psk::{Psk, PskError, PskLookup};
pub use server_settings::ServerSettings;
pub use servers::{ServerState, ServersConfig, TestServers};
pub use transport::{Security, Transport};
pub use uri::{Host, Scheme, ServerUri, UriError};

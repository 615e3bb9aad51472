//! One transport type for the runner: plain UDP for `coap://`, DTLS-PSK for `coaps://`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::dtls::{DtlsConfig, DtlsConnection};
use crate::error::TransportError;
use crate::plain::PlainTransport;
use crate::psk::Psk;

/// How to secure a connection (the Security object's mode, as far as the host supports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// NoSec: plain CoAP.
    NoSec,
    /// Pre-shared key DTLS.
    Psk(Psk),
}

/// A connection to one server.
#[derive(Debug)]
pub enum Transport {
    /// `coap://`
    Plain(PlainTransport),
    /// `coaps://`
    Dtls(DtlsConnection),
}

impl Transport {
    /// Opens a connection to `server`; for PSK this includes the whole handshake.
    pub fn connect(
        server: SocketAddr,
        security: &Security,
        config: &DtlsConfig,
    ) -> Result<Transport, TransportError> {
        match security {
            Security::NoSec => PlainTransport::connect_to(server).map(Transport::Plain),
            Security::Psk(psk) => {
                DtlsConnection::connect_to(server, psk, config).map(Transport::Dtls)
            }
        }
    }

    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        match self {
            Transport::Plain(t) => t.peer_addr(),
            Transport::Dtls(t) => t.peer_addr(),
        }
    }

    /// Sends one CoAP message.
    pub fn send(&mut self, data: &[u8]) -> Result<(), TransportError> {
        match self {
            Transport::Plain(t) => t.send(data),
            Transport::Dtls(t) => t.send(data),
        }
    }

    /// Waits up to `timeout` for one CoAP message; `Ok(None)` on timeout.
    pub fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<Option<usize>, TransportError> {
        match self {
            Transport::Plain(t) => t.recv(buf, timeout),
            Transport::Dtls(t) => t.recv(buf, timeout),
        }
    }

    /// Closes the connection (close_notify for DTLS).
    pub fn close(&mut self) -> Result<(), TransportError> {
        match self {
            Transport::Plain(t) => t.close(),
            Transport::Dtls(t) => t.close(),
        }
    }
}

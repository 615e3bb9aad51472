//! The one error type of the transports (plain UDP and DTLS).

use std::fmt;
use std::io;

/// Why a transport operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// The DTLS handshake got no answer from the peer within the configured total time.
    Timeout,
    /// The peer rejected the handshake (alert: unknown PSK identity, handshake failure, ...),
    /// or answered but never completed it within the total time. DTLS drops records that fail
    /// to decrypt without an alert, so a wrong PSK shows up as the second case.
    HandshakeFailed(String),
    /// The peer closed the session (close_notify) or `close` was called.
    Closed,
    /// A TLS error after the handshake (bad record, internal OpenSSL error).
    Tls(String),
    /// Socket error.
    Io(io::Error),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Timeout => f.write_str("DTLS handshake timed out (no answer)"),
            TransportError::HandshakeFailed(why) => write!(f, "DTLS handshake failed: {why}"),
            TransportError::Closed => f.write_str("connection closed"),
            TransportError::Tls(why) => write!(f, "TLS error: {why}"),
            TransportError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for TransportError {
    fn from(e: io::Error) -> Self {
        TransportError::Io(e)
    }
}

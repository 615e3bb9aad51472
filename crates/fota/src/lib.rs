//! Sans-IO resumable firmware download over HTTP(S) for the LwM2M carrier library.
//!
//! `no_std`, no heap, no `unsafe`, no I/O, no clock: the caller (the carrier runner on a port)
//! executes the [`download::Action`]s of a [`Download`] (connect, send, close) over its own
//! TCP/TLS sockets, feeds back what happened (connected, bytes received, peer closed, timeouts)
//! with the current time, and hands the machine a [`DfuSink`] that stores the image.
//!
//! - [`uri`]: Package URI parsing (`http://`, `https://`, IPv6 literals, bounded lengths).
//! - [`http`]: request writer and a chunking-independent, bounded HTTP/1.1 response parser
//!   (fuzz entry point [`http::fuzz_response`]).
//! - [`download`]: the download state machine (Range requests, resume, redirects, retries).
//! - [`sink`]: the [`DfuSink`] trait, the CRC-32 test image format, [`sink::MemSink`] and (feature
//!   `std`) `sink::FileSink`.
//!
//! Errors map onto the carrier library's `LWM2M_CARRIER_ERROR_FOTA_*` codes
//! ([`FotaError::error_code`]) and the Firmware Update object's Update Result /5/0/5
//! ([`FotaError::update_result`]).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod download;
pub mod http;
pub mod sink;
pub mod uri;

pub use download::{Action, Config, ConnectErrorKind, Download, Status};
pub use lwm2m_coap::Instant;
pub use sink::{DfuError, DfuSink};

use http::HttpError;
use uri::UriError;

/// `LWM2M_CARRIER_ERROR_*` values of the FOTA errors (the `code` of an ERROR event).
pub mod error_code {
    /// The image was refused (integrity, size, type).
    pub const FOTA_PKG: u32 = 4;
    /// Protocol error: the server's HTTP is not usable (no Range support, bad headers, ...).
    pub const FOTA_PROTO: u32 = 5;
    /// Could not connect (DNS, refused, timeout, TLS).
    pub const FOTA_CONN: u32 = 6;
    /// The connection was lost and resuming failed.
    pub const FOTA_CONN_LOST: u32 = 7;
    /// Applying the update failed.
    pub const FOTA_FAIL: u32 = 8;
}

/// Firmware Update object /5/0/5 Update Result values (OMA LwM2M 1.0 E.6).
pub mod update_result {
    /// Firmware updated successfully.
    pub const SUCCESS: u8 = 1;
    /// Not enough flash memory.
    pub const NO_STORAGE: u8 = 2;
    /// Out of RAM during download.
    pub const OUT_OF_MEMORY: u8 = 3;
    /// Connection lost during download.
    pub const CONNECTION_LOST: u8 = 4;
    /// Integrity check failure.
    pub const INTEGRITY_FAILURE: u8 = 5;
    /// Unsupported package type.
    pub const UNSUPPORTED_PACKAGE: u8 = 6;
    /// Invalid URI.
    pub const INVALID_URI: u8 = 7;
    /// Firmware update failed.
    pub const UPDATE_FAILED: u8 = 8;
    /// Unsupported protocol.
    pub const UNSUPPORTED_PROTOCOL: u8 = 9;
}

/// Why the server's answer could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtoError {
    /// The response is not valid HTTP/1.x, too large, or uses a transfer coding.
    Http(HttpError),
    /// A status other than 200, 206, 3xx redirect, 404/410 or 416.
    Status(u16),
    /// 200 OK to a request resuming from an offset > 0: the server ignores Range.
    RangeIgnored,
    /// 206 without a usable `Content-Range: bytes a-b/total`.
    MissingContentRange,
    /// Content-Range does not start at the requested offset, exceeds the requested range, or the
    /// total length changed between responses.
    RangeMismatch,
    /// Content-Length disagrees with Content-Range, or a 200 without Content-Length.
    LengthMismatch,
    /// 416 Range Not Satisfiable (other than "already complete").
    RangeNotSatisfiable,
    /// Bytes after the end of a response that nothing asked for.
    UnexpectedData,
    /// A redirect without a usable Location.
    BadRedirect,
    /// More redirects than [`Config::max_redirects`].
    TooManyRedirects,
}

/// Why a download (or the update) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FotaError {
    /// The Package URI (or a redirect target) is not a valid URI.
    InvalidUri(UriError),
    /// The URI's scheme is neither `http` nor `https`.
    UnsupportedProtocol,
    /// The first connection of the download failed.
    Connect(ConnectErrorKind),
    /// The connection was lost mid-download and the bounded resume attempts failed.
    ConnectionLost,
    /// The server's answers were not usable.
    Protocol(ProtoError),
    /// 404 Not Found or 410 Gone.
    NotFound(u16),
    /// The sink refused the image (size, integrity, type, storage).
    Package(DfuError),
    /// Applying the verified image failed.
    UpdateFailed(DfuError),
}

impl FotaError {
    /// The `LWM2M_CARRIER_ERROR_FOTA_*` code (see [`error_code`]).
    ///
    /// Invalid or unsupported URIs and 404 are protocol errors (FOTA_PROTO); a failed first
    /// connection (DNS, refused, timeout, TLS) is FOTA_CONN.
    pub fn error_code(&self) -> u32 {
        match self {
            FotaError::InvalidUri(_)
            | FotaError::UnsupportedProtocol
            | FotaError::Protocol(_)
            | FotaError::NotFound(_) => error_code::FOTA_PROTO,
            FotaError::Connect(_) => error_code::FOTA_CONN,
            FotaError::ConnectionLost => error_code::FOTA_CONN_LOST,
            FotaError::Package(_) => error_code::FOTA_PKG,
            FotaError::UpdateFailed(_) => error_code::FOTA_FAIL,
        }
    }

    /// The /5/0/5 Update Result (see [`update_result`]).
    ///
    /// - invalid URI, unresolvable host, 404/410 → 7 (invalid URI)
    /// - unsupported scheme, unusable server HTTP (Range ignored, bad headers, chunked, 416,
    ///   redirect loops) → 9 (unsupported protocol)
    /// - refused, timeout, TLS failure, connection lost → 4 (connection lost)
    /// - sink refusals by kind: no space 2, out of RAM 3, integrity 5, unsupported 6, other 8
    /// - apply failure → 8 (update failed)
    pub fn update_result(&self) -> u8 {
        use update_result as r;
        match self {
            FotaError::InvalidUri(_) | FotaError::NotFound(_) => r::INVALID_URI,
            FotaError::Connect(ConnectErrorKind::Dns) => r::INVALID_URI,
            FotaError::UnsupportedProtocol | FotaError::Protocol(_) => r::UNSUPPORTED_PROTOCOL,
            FotaError::Connect(_) | FotaError::ConnectionLost => r::CONNECTION_LOST,
            FotaError::Package(e) => match e {
                DfuError::NoSpace => r::NO_STORAGE,
                DfuError::OutOfMemory => r::OUT_OF_MEMORY,
                DfuError::Integrity => r::INTEGRITY_FAILURE,
                DfuError::Unsupported => r::UNSUPPORTED_PACKAGE,
                _ => r::UPDATE_FAILED,
            },
            FotaError::UpdateFailed(_) => r::UPDATE_FAILED,
        }
    }

    /// The error for a URI the downloader cannot use.
    pub fn from_uri(e: UriError) -> FotaError {
        match e {
            UriError::UnsupportedScheme => FotaError::UnsupportedProtocol,
            e => FotaError::InvalidUri(e),
        }
    }
}

/// Applies a verified image through the sink, mapping failure to [`FotaError::UpdateFailed`]
/// (FOTA_FAIL, result 8). The carrier calls this on /5/0/2 Execute, then reboots.
pub fn apply<S: DfuSink + ?Sized>(sink: &mut S) -> Result<(), FotaError> {
    sink.apply().map_err(FotaError::UpdateFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_object_and_c_header() {
        use lwm2m_objects::firmware::result as obj;
        assert_eq!(update_result::SUCCESS, obj::SUCCESS);
        assert_eq!(update_result::NO_STORAGE, obj::NO_STORAGE);
        assert_eq!(update_result::OUT_OF_MEMORY, obj::OUT_OF_MEMORY);
        assert_eq!(update_result::CONNECTION_LOST, obj::CONNECTION_LOST);
        assert_eq!(update_result::INTEGRITY_FAILURE, obj::INTEGRITY_FAILURE);
        assert_eq!(update_result::UNSUPPORTED_PACKAGE, obj::UNSUPPORTED_PACKAGE);
        assert_eq!(update_result::INVALID_URI, obj::INVALID_URI);
        assert_eq!(update_result::UPDATE_FAILED, obj::UPDATE_FAILED);
        assert_eq!(update_result::UNSUPPORTED_PROTOCOL, obj::UNSUPPORTED_PROTOCOL);

        let cases = [
            (FotaError::Connect(ConnectErrorKind::Dns), 6, 7),
            (FotaError::Connect(ConnectErrorKind::Refused), 6, 4),
            (FotaError::Connect(ConnectErrorKind::Timeout), 6, 4),
            (FotaError::Connect(ConnectErrorKind::Tls), 6, 4),
            (FotaError::ConnectionLost, 7, 4),
            (FotaError::Protocol(ProtoError::RangeIgnored), 5, 9),
            (FotaError::Protocol(ProtoError::Http(HttpError::TransferCoding)), 5, 9),
            (FotaError::NotFound(404), 5, 7),
            (FotaError::InvalidUri(UriError::BadHost), 5, 7),
            (FotaError::from_uri(UriError::UnsupportedScheme), 5, 9),
            (FotaError::Package(DfuError::Integrity), 4, 5),
            (FotaError::Package(DfuError::NoSpace), 4, 2),
            (FotaError::Package(DfuError::OutOfMemory), 4, 3),
            (FotaError::Package(DfuError::Unsupported), 4, 6),
            (FotaError::UpdateFailed(DfuError::Io), 8, 8),
        ];
        for (e, code, result) in cases {
            assert_eq!((e.error_code(), e.update_result()), (code, result), "{e:?}");
        }
    }

    #[test]
    fn apply_maps_failure() {
        let mut buf = [0u8; 8];
        let mut s = sink::MemSink::new(&mut buf);
        assert_eq!(apply(&mut s), Err(FotaError::UpdateFailed(DfuError::NotReady)));
    }
}

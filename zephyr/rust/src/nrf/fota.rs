//! The firmware download's connection: one non-blocking TCP socket (TLS 1.2 for `https`, the
//! server verified against the CA in security tag 11) through libmodem. The HTTP itself is the
//! carrier's (`lwm2m-fota`, sans-IO); this only moves bytes.
//!
//! Results reach the carrier through `NrfModem::poll`: `FotaConnected` or `FotaConnectFailed`,
//! then `FotaData` (received bytes in the poll buffer) and `FotaClosed` (peer closed, or the
//! connection broke). The downloader keeps its own I/O timeout, so there is no deadline here.

use core::ffi::c_int;

use heapless::Vec;
use lwm2m_carrier::core_engine::carrier::fota::ConnectErrorKind;
use lwm2m_carrier::core_engine::carrier::lifecycle::SEC_TAG_FOTA_CA;
use lwm2m_carrier::Input;
use nrf_modem::nrfxlib_sys as sys;

use super::sock;

/// Room for one unsent HTTP request (the downloader's requests are at most 384 bytes).
const TX_LEN: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    /// `nrf_connect` returned EINPROGRESS: the TCP (and TLS) handshake runs.
    Connecting {
        fd: c_int,
        tls: bool,
    },
    Open {
        fd: c_int,
    },
}

/// The firmware download's connection.
#[derive(Debug)]
pub struct FotaConn {
    state: State,
    /// Request bytes the socket did not take yet.
    tx: Vec<u8, TX_LEN>,
}

/// What a failed connect means for the download (as the host tests map a TCP connect): no
/// route or refused is `Refused`, a timeout `Timeout`; on a TLS socket every other failure
/// (certificate not trusted, wrong host name, handshake alert) is `Tls`.
pub fn connect_kind(err: i32, tls: bool) -> ConnectErrorKind {
    let refused = [
        sys::NRF_ECONNREFUSED,
        sys::NRF_ENETUNREACH,
        sys::NRF_EHOSTUNREACH,
        sys::NRF_ENETDOWN,
        sys::NRF_EHOSTDOWN,
    ];
    if err == sys::NRF_ETIMEDOUT as i32 {
        ConnectErrorKind::Timeout
    } else if refused.iter().any(|&e| e as i32 == err) || !tls {
        ConnectErrorKind::Refused
    } else {
        ConnectErrorKind::Tls
    }
}

impl FotaConn {
    pub const fn new() -> FotaConn {
        FotaConn { state: State::Closed, tx: Vec::new() }
    }

    /// Whether request bytes wait for room in the open socket (`poll_at` then retries).
    pub fn has_unsent(&self) -> bool {
        matches!(self.state, State::Open { .. }) && !self.tx.is_empty()
    }

    /// Resolves `host` (blocking DNS through the modem) and starts connecting. The immediate
    /// result, if any, is returned; otherwise it comes from [`FotaConn::poll`].
    pub fn connect(&mut self, host: &str, port: u16, tls: bool) -> Option<Input> {
        self.close();
        log::info!("firmware server {}:{}{}", host, port, if tls { " (TLS)" } else { "" });
        let Ok((addr, _)) = sock::resolve(host, port, sys::NRF_SOCK_STREAM) else {
            return Some(Input::FotaConnectFailed(ConnectErrorKind::Dns));
        };
        let tls_cfg = tls.then_some((SEC_TAG_FOTA_CA, host));
        match sock::open_stream(&addr, tls_cfg) {
            Ok(sock::Started::Open(fd)) => {
                self.state = State::Open { fd };
                Some(Input::FotaConnected)
            }
            Ok(sock::Started::Handshaking(fd)) => {
                self.state = State::Connecting { fd, tls };
                None
            }
            Err(e) => {
                log::warn!("firmware server: connect failed, errno {}", e);
                Some(Input::FotaConnectFailed(connect_kind(e, tls)))
            }
        }
    }

    /// Queues `data` and writes what the socket takes. `Some(FotaClosed)` when the connection
    /// broke (or the request does not fit the queue).
    pub fn send(&mut self, data: &[u8]) -> Option<Input> {
        if !matches!(self.state, State::Open { .. }) {
            // Nothing to send on: the downloader learns of the closed connection otherwise.
            return None;
        }
        if self.tx.extend_from_slice(data).is_err() {
            log::warn!("firmware server: request of {} bytes too long", data.len());
            self.close();
            return Some(Input::FotaClosed);
        }
        self.flush()
    }

    fn flush(&mut self) -> Option<Input> {
        let State::Open { fd } = self.state else { return None };
        match sock::send_some(fd, &self.tx) {
            Ok(n) => {
                let n = n.min(self.tx.len());
                // Keep the unsent tail at the front.
                self.tx.copy_within(n.., 0);
                self.tx.truncate(self.tx.len() - n);
                None
            }
            Err(e) => {
                log::warn!("firmware server: send failed, errno {}", e);
                self.close();
                Some(Input::FotaClosed)
            }
        }
    }

    /// A connect result, received bytes (into `buf`) or the end of the connection, if any.
    pub fn poll(&mut self, buf: &mut [u8]) -> Option<Input> {
        match self.state {
            State::Closed => None,
            State::Connecting { fd, tls } => match sock::handshake(fd) {
                sock::Handshake::Done => {
                    self.state = State::Open { fd };
                    Some(Input::FotaConnected)
                }
                sock::Handshake::Failed(e) => {
                    log::warn!("firmware server: connect failed, errno {}", e);
                    self.close();
                    Some(Input::FotaConnectFailed(connect_kind(e, tls)))
                }
                sock::Handshake::Pending => None,
            },
            State::Open { fd } => {
                if !self.tx.is_empty() {
                    if let Some(closed) = self.flush() {
                        return Some(closed);
                    }
                }
                match sock::recv_stream(fd, buf) {
                    sock::Stream::Data(len) => Some(Input::FotaData { len }),
                    sock::Stream::Empty => None,
                    sock::Stream::Closed => {
                        self.close();
                        Some(Input::FotaClosed)
                    }
                    sock::Stream::Failed(e) => {
                        // Reset, link lost: the downloader resumes or reports FOTA_CONN_LOST.
                        log::warn!("firmware server: receive failed, errno {}", e);
                        self.close();
                        Some(Input::FotaClosed)
                    }
                }
            }
        }
    }

    /// Drops the connection, whatever its state.
    pub fn close(&mut self) {
        if let State::Connecting { fd, .. } | State::Open { fd } = self.state {
            sock::close(fd);
        }
        self.state = State::Closed;
        self.tx.clear();
    }
}

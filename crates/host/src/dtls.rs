//! DTLS 1.2 with pre-shared keys over UDP, client and server, on OpenSSL.
//!
//! OpenSSL runs over `DatagramIo` (through the openssl crate's custom BIO) rather than owning
//! the socket, so that time stays with us: every handshake step blocks on the socket for at
//! most [`POLL_INTERVAL`], and each call back into OpenSSL lets its DTLS timer retransmit the
//! last flight when due (RFC 6347 4.2.4: 1 s doubling). The whole handshake gives up after
//! [`DtlsConfig::handshake_timeout`].

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssl::error::ErrorStack;
use openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslStream, SslVerifyMode,
    SslVersion,
};

use crate::datagram::{is_client_hello, Backlog, DatagramIo};
use crate::error::TransportError;
use crate::psk::{Psk, PskLookup};

/// Cipher suites offered and accepted, in OpenSSL names, most preferred first. CCM8 is the
/// LwM2M 1.0 mandatory suite and the only one tinydtls peers speak; GCM and CBC-SHA256 cover
/// GnuTLS/OpenSSL/mbed TLS peers built without CCM.
pub const DEFAULT_CIPHERS: &str =
    "PSK-AES128-CCM8:PSK-AES128-GCM-SHA256:PSK-AES128-CCM:PSK-AES128-CBC-SHA256";

/// How long one blocking socket read inside the handshake lasts. Short enough that OpenSSL's
/// retransmission timer (1 s and up) fires close to on time.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// DTLS settings shared by client and server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtlsConfig {
    /// Total time allowed for a handshake, retransmissions included.
    pub handshake_timeout: Duration,
    /// Largest datagram OpenSSL may send (handshake flights are fragmented to fit).
    pub mtu: u32,
    /// OpenSSL cipher list; see [`DEFAULT_CIPHERS`].
    pub ciphers: String,
}

impl Default for DtlsConfig {
    fn default() -> Self {
        DtlsConfig {
            handshake_timeout: Duration::from_secs(30),
            mtu: 1280,
            ciphers: DEFAULT_CIPHERS.to_owned(),
        }
    }
}

impl DtlsConfig {
    /// The default config with another total handshake time.
    pub fn with_handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = t;
        self
    }

    /// The default config with another cipher list.
    pub fn with_ciphers(mut self, ciphers: &str) -> Self {
        self.ciphers = ciphers.to_owned();
        self
    }
}

/// An established DTLS session with one peer.
#[derive(Debug)]
pub struct DtlsConnection {
    stream: SslStream<DatagramIo>,
    closed: bool,
}

impl DtlsConnection {
    /// Client handshake over `socket`, which must already be `connect`ed to the server.
    pub fn connect(
        socket: UdpSocket,
        psk: &Psk,
        config: &DtlsConfig,
    ) -> Result<DtlsConnection, TransportError> {
        let peer = socket.peer_addr()?;
        let mut builder = base_context(config).map_err(tls_setup)?;
        let psk = psk.clone();
        builder.set_psk_client_callback(move |_ssl, _hint, identity_out, key_out| {
            // OpenSSL wants the identity as a C string.
            let (id, key) = (psk.identity(), psk.key());
            if id.len() >= identity_out.len() || key.len() > key_out.len() {
                return Ok(0); // aborts the handshake locally
            }
            identity_out[..id.len()].copy_from_slice(id);
            identity_out[id.len()] = 0;
            key_out[..key.len()].copy_from_slice(key);
            Ok(key.len())
        });
        let mut ssl = Ssl::new(&builder.build()).map_err(tls_setup)?;
        ssl.set_connect_state();
        ssl.set_mtu(config.mtu).map_err(tls_setup)?;
        let io = DatagramIo::connected(socket, peer);
        let stream = SslStream::new(ssl, io).map_err(tls_setup)?;
        handshake(stream, config.handshake_timeout)
    }

    /// Binds an ephemeral local port of the right address family, connects it to `server`
    /// and runs the client handshake.
    pub fn connect_to(
        server: SocketAddr,
        psk: &Psk,
        config: &DtlsConfig,
    ) -> Result<DtlsConnection, TransportError> {
        let socket = crate::plain::bind_ephemeral_for(server)?;
        socket.connect(server)?;
        DtlsConnection::connect(socket, psk, config)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.stream.get_ref().peer()
    }

    /// The negotiated cipher suite (OpenSSL name, e.g. `PSK-AES128-CCM8`).
    pub fn cipher(&self) -> Option<&'static str> {
        self.stream.ssl().current_cipher().map(|c| c.name())
    }

    /// The PSK identity the client used (on the server side: which client this is).
    pub fn psk_identity(&self) -> Option<Vec<u8>> {
        self.stream.ssl().psk_identity().map(<[u8]>::to_vec)
    }

    /// Sends one datagram's worth of application data as one record.
    pub fn send(&mut self, data: &[u8]) -> Result<(), TransportError> {
        if self.closed {
            return Err(TransportError::Closed);
        }
        match self.stream.ssl_write(data) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.after_handshake_error(e)),
        }
    }

    /// Waits up to `timeout` for one record of application data; `Ok(None)` if none came.
    /// A record longer than `buf` is truncated to it (give at least the MTU).
    pub fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<Option<usize>, TransportError> {
        if self.closed {
            return Err(TransportError::Closed);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            self.stream.get_ref().set_read_timeout(left)?;
            match self.stream.ssl_read(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if is_retry(&e) => {
                    if self.stream.get_ref().superseded() {
                        self.closed = true;
                        return Err(TransportError::Closed);
                    }
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(self.after_handshake_error(e)),
            }
        }
    }

    /// Sends close_notify (once); later calls to `send`/`recv` return `Closed`.
    pub fn close(&mut self) -> Result<(), TransportError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        match self.stream.shutdown() {
            Ok(_) => Ok(()),
            Err(e) if is_retry(&e) => Ok(()),
            Err(e) => match e.into_io_error() {
                Ok(io) => Err(TransportError::Io(io)),
                Err(e) => Err(TransportError::Tls(e.to_string())),
            },
        }
    }

    fn after_handshake_error(&mut self, e: openssl::ssl::Error) -> TransportError {
        if e.code() == ErrorCode::ZERO_RETURN {
            self.closed = true;
            return TransportError::Closed;
        }
        match e.into_io_error() {
            Ok(io) => TransportError::Io(io),
            Err(e) => TransportError::Tls(e.to_string()),
        }
    }
}

impl Drop for DtlsConnection {
    fn drop(&mut self) {
        // Tell the peer, as the modem does when a socket is closed.
        let _ = self.close();
    }
}

/// A DTLS server on one UDP socket, serving one client session at a time. Used by the
/// in-process test servers of the simulator.
#[derive(Debug)]
pub struct DtlsServer {
    socket: UdpSocket,
    context: SslContext,
    config: DtlsConfig,
    backlog: Backlog,
}

impl DtlsServer {
    /// Serves DTLS on `socket` (bound, not connected); `lookup` maps identities to keys.
    pub fn new(
        socket: UdpSocket,
        lookup: PskLookup,
        config: DtlsConfig,
    ) -> Result<DtlsServer, TransportError> {
        let mut builder = base_context(&config).map_err(tls_setup)?;
        builder.set_psk_server_callback(move |_ssl, identity, key_out| {
            let identity = identity.unwrap_or_default();
            match lookup.key_for(identity) {
                Some(key) if key.len() <= key_out.len() => {
                    key_out[..key.len()].copy_from_slice(&key);
                    Ok(key.len())
                }
                _ => {
                    log::info!(
                        "dtls server: unknown PSK identity {:?}",
                        String::from_utf8_lossy(identity)
                    );
                    Ok(0) // unknown_psk_identity alert
                }
            }
        });
        Ok(DtlsServer {
            socket,
            context: builder.build(),
            config,
            backlog: Arc::new(Mutex::new(None)),
        })
    }

    /// Binds `addr` and serves DTLS there.
    pub fn bind(
        addr: SocketAddr,
        lookup: PskLookup,
        config: DtlsConfig,
    ) -> Result<DtlsServer, TransportError> {
        DtlsServer::new(UdpSocket::bind(addr)?, lookup, config)
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.socket.local_addr()?)
    }

    /// Waits up to `wait` for a ClientHello, then runs the handshake with that client
    /// (bounded by the config's handshake timeout). `Ok(None)`: nobody knocked. An `Err` is
    /// that one handshake failing; the server stays usable.
    ///
    /// Datagrams that are not a ClientHello (leftovers of an ended session) are ignored.
    pub fn accept(&mut self, wait: Duration) -> Result<Option<DtlsConnection>, TransportError> {
        let Some((peer, hello)) = self.next_client_hello(wait)? else {
            return Ok(None);
        };
        log::debug!("dtls server: ClientHello from {peer}");
        let mut ssl = Ssl::new(&self.context).map_err(tls_setup)?;
        ssl.set_accept_state();
        ssl.set_mtu(self.config.mtu).map_err(tls_setup)?;
        let io = DatagramIo::filtered(self.socket.try_clone()?, peer, hello, self.backlog.clone());
        let stream = SslStream::new(ssl, io).map_err(tls_setup)?;
        handshake(stream, self.config.handshake_timeout).map(Some)
    }

    fn next_client_hello(
        &mut self,
        wait: Duration,
    ) -> Result<Option<(SocketAddr, Vec<u8>)>, TransportError> {
        if let Some(parked) = self.backlog.lock().ok().and_then(|mut slot| slot.take()) {
            return Ok(Some(parked));
        }
        let deadline = Instant::now() + wait;
        let mut buf = vec![0u8; 65_535];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.socket.set_read_timeout(Some(left))?;
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) if is_client_hello(&buf[..n]) => {
                    return Ok(Some((from, buf[..n].to_vec())));
                }
                Ok((_, from)) => log::debug!("dtls server: ignoring stray datagram from {from}"),
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Context settings common to both sides: DTLS 1.2 only, PSK suites only, fixed MTU.
fn base_context(config: &DtlsConfig) -> Result<SslContextBuilder, ErrorStack> {
    let mut b = SslContextBuilder::new(SslMethod::dtls())?;
    b.set_min_proto_version(Some(SslVersion::DTLS1_2))?;
    b.set_max_proto_version(Some(SslVersion::DTLS1_2))?;
    b.set_cipher_list(&config.ciphers)?;
    // Our BIO cannot ask the kernel for the path MTU; `set_mtu` on each session instead.
    b.set_options(SslOptions::NO_QUERY_MTU | SslOptions::NO_TICKET);
    b.set_verify(SslVerifyMode::NONE);
    Ok(b)
}

/// Drives the handshake to completion or failure, in `POLL_INTERVAL` steps.
fn handshake(
    mut stream: SslStream<DatagramIo>,
    total: Duration,
) -> Result<DtlsConnection, TransportError> {
    let deadline = Instant::now() + total;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(stalled(&stream, total));
        }
        stream.get_ref().set_read_timeout(left.min(POLL_INTERVAL))?;
        match stream.do_handshake() {
            Ok(()) => {
                stream.get_mut().set_established();
                let conn = DtlsConnection { stream, closed: false };
                log::debug!(
                    "dtls: session with {} established ({})",
                    conn.peer_addr(),
                    conn.cipher().unwrap_or("?")
                );
                return Ok(conn);
            }
            Err(e) if is_retry(&e) => {}
            Err(e) => return Err(handshake_error(e)),
        }
    }
}

/// The handshake ran out of time: no answer at all is a `Timeout`; an answer but no finish
/// means the peer dropped our Finished, which with PSK is almost always a wrong key.
fn stalled(stream: &SslStream<DatagramIo>, total: Duration) -> TransportError {
    let io = stream.get_ref();
    if io.received() == 0 {
        log::info!("dtls: no answer from {} within {total:?}", io.peer());
        TransportError::Timeout
    } else {
        TransportError::HandshakeFailed(format!(
            "{} answered but did not complete the handshake within {total:?} \
             (wrong PSK? state {})",
            io.peer(),
            stream.ssl().state_string_long()
        ))
    }
}

fn handshake_error(e: openssl::ssl::Error) -> TransportError {
    if e.code() == ErrorCode::ZERO_RETURN {
        return TransportError::HandshakeFailed("peer closed during the handshake".into());
    }
    match e.into_io_error() {
        Ok(io) => TransportError::Io(io),
        // The error stack names the alert, e.g. "tlsv1 alert unknown psk identity".
        Err(e) => TransportError::HandshakeFailed(e.to_string()),
    }
}

/// OpenSSL wants more input (our read timed out) or the peer's data was not application data.
fn is_retry(e: &openssl::ssl::Error) -> bool {
    matches!(e.code(), ErrorCode::WANT_READ | ErrorCode::WANT_WRITE)
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}

fn tls_setup(e: ErrorStack) -> TransportError {
    TransportError::Tls(format!("OpenSSL setup: {e}"))
}

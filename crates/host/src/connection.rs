//! One connection of the host port: a worker thread that resolves the URI and opens the
//! transport (a DTLS handshake blocks for up to its timeout, so it must not run on the
//! carrier's thread), then stays as the connection's I/O thread. It owns the transport:
//! datagrams it receives go to the port's input channel, datagrams the port queues go out.
//!
//! The port ends a connection by dropping its sender of outgoing datagrams; the thread sees
//! the channel disconnected, closes the transport (close_notify, as the modem does when a
//! socket is closed) and exits.

use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread;
use std::time::Duration;

use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::ConnectError;

use crate::dtls::DtlsConfig;
use crate::error::TransportError;
use crate::port::PortMsg;
use crate::transport::{Security, Transport};
use crate::uri::ServerUri;

/// How long one receive blocks before the thread looks for datagrams to send. It bounds the
/// extra send latency; a few ms of CPU wake-ups per second is fine for a simulator.
const IO_POLL: Duration = Duration::from_millis(5);
/// Consecutive receive errors after which the connection is considered dead.
const MAX_ERRORS: u32 = 20;
/// Receive buffer: larger than any datagram the carrier accepts, so nothing is truncated.
const RX_BUF: usize = 2048;

/// What connection threads report to the port. `serial` tells this connection from an
/// earlier one that used the same `ConnId`.
#[derive(Debug)]
pub(crate) enum ConnEvent {
    Connected {
        conn: ConnId,
        serial: u64,
    },
    ConnectFailed {
        conn: ConnId,
        serial: u64,
        error: ConnectError,
    },
    Datagram {
        conn: ConnId,
        serial: u64,
        data: Vec<u8>,
    },
    /// The peer closed the session or the socket failed.
    Lost {
        conn: ConnId,
        serial: u64,
    },
}

/// Everything a connection thread needs.
#[derive(Debug)]
pub(crate) struct ConnectRequest {
    pub conn: ConnId,
    pub serial: u64,
    pub uri: String,
    pub security: Security,
    pub dtls: DtlsConfig,
}

/// Starts the connection thread.
pub(crate) fn spawn(req: ConnectRequest, events: Sender<PortMsg>, outgoing: Receiver<Vec<u8>>) {
    let (conn, serial) = (req.conn, req.serial);
    let name = format!("conn{}-{}", conn.0, serial);
    let to_port = events.clone();
    let spawned = thread::Builder::new().name(name).spawn(move || run(req, &to_port, &outgoing));
    if let Err(e) = spawned {
        // Without a thread there is no connection; report it like an unreachable server.
        log::error!("cannot start a connection thread: {e}");
        let error = ConnectError::NoRoute;
        let _ = events.send(PortMsg::Conn(ConnEvent::ConnectFailed { conn, serial, error }));
    }
}

fn run(req: ConnectRequest, events: &Sender<PortMsg>, outgoing: &Receiver<Vec<u8>>) {
    let (conn, serial) = (req.conn, req.serial);
    let report = |e: ConnEvent| events.send(PortMsg::Conn(e)).is_ok();
    let mut transport = match open(&req) {
        Ok(t) => t,
        Err(error) => {
            report(ConnEvent::ConnectFailed { conn, serial, error });
            return;
        }
    };
    if !report(ConnEvent::Connected { conn, serial }) {
        return;
    }
    let mut buf = vec![0u8; RX_BUF];
    let mut errors = 0;
    loop {
        if !send_queued(&mut transport, outgoing, conn) {
            let _ = transport.close();
            return;
        }
        match transport.recv(&mut buf, IO_POLL) {
            Ok(Some(n)) => {
                errors = 0;
                let data = buf.get(..n).unwrap_or_default().to_vec();
                if !report(ConnEvent::Datagram { conn, serial, data }) {
                    // The port is gone (a reboot): what it queued before going, such as the
                    // reply to the request that asked for the reboot, still goes out.
                    send_queued(&mut transport, outgoing, conn);
                    let _ = transport.close();
                    return;
                }
            }
            Ok(None) => errors = 0,
            Err(TransportError::Closed) => {
                log::info!("conn {}: closed by the server", conn.0);
                report(ConnEvent::Lost { conn, serial });
                return;
            }
            Err(e) => {
                errors += 1;
                log::debug!("conn {}: receive error: {e}", conn.0);
                if errors >= MAX_ERRORS {
                    log::warn!("conn {}: giving up after repeated errors: {e}", conn.0);
                    report(ConnEvent::Lost { conn, serial });
                    return;
                }
                thread::sleep(IO_POLL);
            }
        }
    }
}

/// Sends every datagram queued so far; false once the port dropped its sender.
fn send_queued(transport: &mut Transport, outgoing: &Receiver<Vec<u8>>, conn: ConnId) -> bool {
    loop {
        match outgoing.try_recv() {
            Ok(d) => {
                if let Err(e) = transport.send(&d) {
                    // A failed send is a lost datagram; CoAP retransmits.
                    log::debug!("conn {}: send failed: {e}", conn.0);
                }
            }
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => return false,
        }
    }
}

/// Resolves and connects. Name or address trouble is NoRoute; anything in the handshake
/// (no answer, refusal, wrong key, which is silence in DTLS) is Handshake.
fn open(req: &ConnectRequest) -> Result<Transport, ConnectError> {
    let uri = ServerUri::parse(&req.uri).map_err(|e| {
        log::warn!("conn {}: bad server URI {:?}: {e}", req.conn.0, req.uri);
        ConnectError::NoRoute
    })?;
    let addr = uri.resolve().map_err(|e| {
        log::info!("conn {}: {}: {e}", req.conn.0, req.uri);
        ConnectError::NoRoute
    })?;
    log::info!("conn {}: connecting to {} ({addr})", req.conn.0, req.uri);
    Transport::connect(addr, &req.security, &req.dtls).map_err(|e| {
        log::info!("conn {}: {}: {e}", req.conn.0, req.uri);
        match e {
            TransportError::Io(_) => ConnectError::NoRoute,
            _ => ConnectError::Handshake,
        }
    })
}

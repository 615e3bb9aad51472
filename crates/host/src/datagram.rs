//! The byte pipe OpenSSL's DTLS engine reads and writes: one `write` is one UDP datagram, one
//! `read` returns one whole datagram. Read timeouts surface as `WouldBlock`, which the openssl
//! crate's BIO turns into "retry", so the handshake and read loops in `dtls` keep control of
//! time (and OpenSSL's retransmission timer fires on the next call).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One ClientHello put aside by a server-side session for the server's next `accept`.
pub(crate) type Backlog = Arc<Mutex<Option<(SocketAddr, Vec<u8>)>>>;

/// A UDP socket bound to one peer, either through `connect` (client) or by filtering
/// `recv_from` (server: the listening socket stays unconnected so that it can take the next
/// client after this session).
#[derive(Debug)]
pub(crate) struct DatagramIo {
    socket: UdpSocket,
    peer: SocketAddr,
    connected: bool,
    /// A datagram already read by the caller (the server's first ClientHello).
    pending: Option<Vec<u8>>,
    /// Datagrams delivered to OpenSSL; tells "peer silent" from "peer answered" on timeout.
    received: u64,
    /// Server side: where ClientHellos that are not for this session go.
    backlog: Option<Backlog>,
    /// Server side: set once the handshake is over; a ClientHello from the peer after that
    /// means it restarted and the session is dead.
    established: bool,
    superseded: bool,
}

impl DatagramIo {
    /// Client side: `socket` is already connected to `peer`.
    pub(crate) fn connected(socket: UdpSocket, peer: SocketAddr) -> DatagramIo {
        DatagramIo {
            socket,
            peer,
            connected: true,
            pending: None,
            received: 0,
            backlog: None,
            established: false,
            superseded: false,
        }
    }

    /// Server side: an unconnected socket, the peer's address and its first datagram.
    pub(crate) fn filtered(
        socket: UdpSocket,
        peer: SocketAddr,
        first: Vec<u8>,
        backlog: Backlog,
    ) -> DatagramIo {
        DatagramIo {
            socket,
            peer,
            connected: false,
            pending: Some(first),
            received: 0,
            backlog: Some(backlog),
            established: false,
            superseded: false,
        }
    }

    pub(crate) fn set_established(&mut self) {
        self.established = true;
    }

    /// True once the peer started a new handshake on this (server-side) session.
    pub(crate) fn superseded(&self) -> bool {
        self.superseded
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// How long the next `read` may block; zero is not allowed by std, so at least 1 ms.
    pub(crate) fn set_read_timeout(&self, t: Duration) -> io::Result<()> {
        self.socket.set_read_timeout(Some(t.max(Duration::from_millis(1))))
    }
}

impl DatagramIo {
    /// Server side: decides whether a datagram from `from` goes to this session's OpenSSL.
    /// ClientHellos that start another session are parked in the backlog instead.
    fn filter(&mut self, from: SocketAddr, datagram: &[u8]) -> io::Result<()> {
        let hello = is_client_hello(datagram);
        let ours = from == self.peer;
        if ours && !(hello && self.established) {
            return Ok(());
        }
        if hello {
            if ours {
                log::info!("dtls: {from} started a new handshake; ending its old session");
                self.superseded = true;
            }
            if let Some(backlog) = &self.backlog {
                if let Ok(mut slot) = backlog.lock() {
                    *slot = Some((from, datagram.to_vec()));
                }
            }
        } else {
            log::debug!("dtls: dropping datagram from {from}, serving {}", self.peer);
        }
        Err(io::ErrorKind::WouldBlock.into())
    }
}

/// A DTLS record carrying a ClientHello in epoch 0: content type 22 (handshake), version
/// 0xFEFF or 0xFEFD, epoch 0, handshake type 1 right after the 13-byte record header.
pub(crate) fn is_client_hello(d: &[u8]) -> bool {
    matches!(d, [22, 0xFE, 0xFF | 0xFD, 0, 0, _, _, _, _, _, _, _, _, 1, ..])
}

/// Errors that mean "nothing arrived (yet)" for a datagram socket. ConnectionRefused is the
/// ICMP port-unreachable of an earlier send: for UDP that is just loss, the peer may still
/// come up, and the modem this mimics never reports it.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
            | io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionRefused
    )
}

impl Read for DatagramIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(first) = self.pending.take() {
            let n = first.len().min(buf.len());
            buf[..n].copy_from_slice(&first[..n]);
            self.received += 1;
            return Ok(n);
        }
        let result = if self.connected {
            self.socket.recv(buf)
        } else {
            match self.socket.recv_from(buf) {
                Ok((n, from)) => self.filter(from, &buf[..n]).map(|()| n),
                Err(e) => Err(e),
            }
        };
        match result {
            Ok(n) => {
                self.received += 1;
                Ok(n)
            }
            Err(e) if is_transient(&e) => Err(io::ErrorKind::WouldBlock.into()),
            Err(e) => Err(e),
        }
    }
}

impl Write for DatagramIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = if self.connected {
            self.socket.send(buf)
        } else {
            self.socket.send_to(buf, self.peer)
        };
        match result {
            Ok(n) => Ok(n),
            // A pending ICMP error from an earlier datagram: count this one as lost.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(buf.len()),
            Err(e) => Err(e),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_client_hello;

    #[test]
    fn recognises_client_hello_records() {
        let mut hello = vec![22, 0xFE, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 1, 0, 0];
        assert!(is_client_hello(&hello));
        hello[2] = 0xFD; // DTLS 1.2 record version
        assert!(is_client_hello(&hello));
        hello[4] = 1; // epoch 1: an encrypted renegotiation, not a new session
        assert!(!is_client_hello(&hello));
        hello[4] = 0;
        hello[13] = 2; // ServerHello
        assert!(!is_client_hello(&hello));
        assert!(!is_client_hello(&[23, 0xFE, 0xFD, 0, 1]));
        assert!(!is_client_hello(&[]));
        assert!(!is_client_hello(&hello[..13]));
    }
}

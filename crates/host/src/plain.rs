//! CoAP without security (`coap://`): a connected UDP socket with the same interface as
//! [`DtlsConnection`](crate::dtls::DtlsConnection).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use crate::error::TransportError;

/// A UDP socket connected to one server.
#[derive(Debug)]
pub struct PlainTransport {
    socket: UdpSocket,
    peer: SocketAddr,
    closed: bool,
}

impl PlainTransport {
    /// Binds an ephemeral port and connects it to `server`.
    pub fn connect_to(server: SocketAddr) -> Result<PlainTransport, TransportError> {
        let socket = bind_ephemeral_for(server)?;
        socket.connect(server)?;
        PlainTransport::new(socket)
    }

    /// Wraps a socket already connected to the server.
    pub fn new(socket: UdpSocket) -> Result<PlainTransport, TransportError> {
        let peer = socket.peer_addr()?;
        Ok(PlainTransport { socket, peer, closed: false })
    }

    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Sends one datagram.
    pub fn send(&mut self, data: &[u8]) -> Result<(), TransportError> {
        if self.closed {
            return Err(TransportError::Closed);
        }
        match self.socket.send(data) {
            Ok(_) => Ok(()),
            // ICMP port unreachable from an earlier datagram: UDP loss, not a failure.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits up to `timeout` for one datagram; `Ok(None)` if none came.
    pub fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<Option<usize>, TransportError> {
        if self.closed {
            return Err(TransportError::Closed);
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            self.socket.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            match self.socket.recv(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    if left.is_zero() {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Marks the transport closed (UDP has nothing to send).
    pub fn close(&mut self) -> Result<(), TransportError> {
        self.closed = true;
        Ok(())
    }
}

/// An unconnected socket on an ephemeral port of the same family as `peer`.
pub(crate) fn bind_ephemeral_for(peer: SocketAddr) -> io::Result<UdpSocket> {
    match peer {
        SocketAddr::V4(_) => UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_and_timeout() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut t = PlainTransport::connect_to(server.local_addr().unwrap()).unwrap();
        t.send(b"ping").unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        server.send_to(b"pong", from).unwrap();
        assert_eq!(t.recv(&mut buf, Duration::from_secs(2)).unwrap(), Some(4));
        assert_eq!(&buf[..4], b"pong");
        let start = std::time::Instant::now();
        assert_eq!(t.recv(&mut buf, Duration::from_millis(100)).unwrap(), None);
        assert!(start.elapsed() >= Duration::from_millis(100));
        t.close().unwrap();
        assert!(matches!(t.send(b"x"), Err(TransportError::Closed)));
    }

    #[test]
    fn unreachable_port_is_loss_not_error() {
        // Grab a free port, then free it so nothing listens there.
        let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut t = PlainTransport::connect_to(port).unwrap();
        t.send(b"a").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(t.recv(&mut buf, Duration::from_millis(50)).unwrap(), None);
        t.send(b"b").unwrap();
    }
}

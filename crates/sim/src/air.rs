//! What crossed the air between the device and its servers: every CoAP datagram the simulated
//! port carried, in both directions, with its size and the CoAP header fields needed to count
//! request/response round trips. Figures are CoAP-level (the UDP payload inside DTLS); the DTLS
//! record overhead is estimated per datagram, the DTLS handshakes are not included.

use crate::port::Target;

/// DTLS 1.2 record overhead per datagram with an AES-CCM-8 PSK suite (the nRF91 modem's
/// TLS_PSK_WITH_AES_128_CCM_8): 13-byte record header + 8-byte explicit nonce + 8-byte tag.
pub const DTLS_RECORD_OVERHEAD: usize = 13 + 8 + 8;

/// Direction of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Device to server.
    Up,
    /// Server to device.
    Down,
}

/// One datagram on the air.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// Virtual time, ms.
    pub at_ms: u64,
    pub dir: Dir,
    pub target: Target,
    /// CoAP message length (UDP payload inside DTLS).
    pub len: usize,
    /// CoAP type: 0 CON, 1 NON, 2 ACK, 3 RST (`None` if not CoAP).
    pub mtype: Option<u8>,
    /// CoAP code as `class << 5 | detail`.
    pub code: u8,
    pub mid: u16,
    /// A datagram with the same direction, type and message id was seen before: a
    /// retransmission (its bytes count, its round trip does not).
    pub retransmission: bool,
    /// The datagram itself.
    pub bytes: Vec<u8>,
}

impl Datagram {
    fn parse(at_ms: u64, dir: Dir, target: Target, bytes: &[u8]) -> Datagram {
        let coap = bytes.len() >= 4 && bytes[0] >> 6 == 1;
        Datagram {
            at_ms,
            dir,
            target,
            len: bytes.len(),
            mtype: coap.then(|| (bytes[0] >> 4) & 3),
            code: if coap { bytes[1] } else { 0 },
            mid: if coap { u16::from_be_bytes([bytes[2], bytes[3]]) } else { 0 },
            retransmission: false,
            bytes: bytes.to_vec(),
        }
    }

    /// A confirmable message (request or notification): each one that is acknowledged or
    /// answered is one round trip.
    pub fn is_con(&self) -> bool {
        self.mtype == Some(0)
    }

    /// A request (GET, POST, PUT, DELETE, ...).
    pub fn is_request(&self) -> bool {
        self.code != 0 && self.code >> 5 == 0
    }

    /// "2.05"-style code.
    pub fn code_str(&self) -> String {
        format!("{}.{:02}", self.code >> 5, self.code & 0x1f)
    }
}

/// Totals over a stretch of traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AirStats {
    pub datagrams_sent: usize,
    pub datagrams_recv: usize,
    pub bytes_sent: usize,
    pub bytes_recv: usize,
    /// Request/response round trips: confirmable messages (either direction, retransmissions
    /// excluded) plus non-confirmable requests answered by the peer.
    pub round_trips: usize,
    /// Datagrams that were retransmissions (included in the datagram and byte counts).
    pub retransmissions: usize,
}

impl AirStats {
    /// Totals of `log`.
    pub fn of(log: &[Datagram]) -> AirStats {
        let mut s = AirStats::default();
        for d in log {
            match d.dir {
                Dir::Up => {
                    s.datagrams_sent += 1;
                    s.bytes_sent += d.len;
                }
                Dir::Down => {
                    s.datagrams_recv += 1;
                    s.bytes_recv += d.len;
                }
            }
            if d.retransmission {
                s.retransmissions += 1;
            } else if d.is_con() || (d.mtype == Some(1) && d.is_request()) {
                s.round_trips += 1;
            }
        }
        s
    }

    /// Bytes sent with the DTLS record overhead of every datagram added.
    pub fn dtls_bytes_sent(&self) -> usize {
        self.bytes_sent + self.datagrams_sent * DTLS_RECORD_OVERHEAD
    }

    /// Bytes received with the DTLS record overhead of every datagram added.
    pub fn dtls_bytes_recv(&self) -> usize {
        self.bytes_recv + self.datagrams_recv * DTLS_RECORD_OVERHEAD
    }
}

/// The traffic log of a port.
#[derive(Debug, Clone, Default)]
pub struct AirLog {
    pub datagrams: Vec<Datagram>,
    /// DTLS sessions opened (each would cost a handshake, whose bytes are not counted).
    pub handshakes: usize,
}

impl AirLog {
    pub(crate) fn record(&mut self, at_ms: u64, dir: Dir, target: Target, bytes: &[u8]) {
        let mut d = Datagram::parse(at_ms, dir, target, bytes);
        d.retransmission = d.mtype.is_some_and(|t| t <= 1)
            && self.datagrams.iter().any(|p| {
                p.dir == d.dir && p.target == d.target && p.mtype == d.mtype && p.mid == d.mid
            });
        self.datagrams.push(d);
    }

    pub fn stats(&self) -> AirStats {
        AirStats::of(&self.datagrams)
    }

    /// Forgets everything logged so far.
    pub fn clear(&mut self) {
        self.datagrams.clear();
        self.handshakes = 0;
    }
}

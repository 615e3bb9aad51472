//! One connection to one server: where it is in the protocol, the confirmable request in flight
//! and the last reply (kept for duplicate requests).

use heapless::{String, Vec};
use lwm2m_coap::{Instant, Retransmission, Rng, Token, TransmissionParams};

use crate::config::MAX_DATAGRAM;
use crate::event::ConnId;

/// A datagram buffer.
#[derive(Clone)]
pub struct Datagram {
    pub bytes: [u8; MAX_DATAGRAM],
    pub len: usize,
}

impl Datagram {
    pub const fn new() -> Datagram {
        Datagram { bytes: [0; MAX_DATAGRAM], len: 0 }
    }

    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl core::fmt::Debug for Datagram {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Datagram({} bytes)", self.len)
    }
}

/// Which server this session talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Bootstrap { security_instance: u16 },
    Server { security_instance: u16, short_id: u16 },
}

impl Role {
    pub fn security_instance(&self) -> u16 {
        match *self {
            Role::Bootstrap { security_instance } | Role::Server { security_instance, .. } => {
                security_instance
            }
        }
    }
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Unused slot.
    Idle,
    /// Waiting for the port to open the connection.
    Connecting,
    /// Bootstrap-Request to send or in flight.
    BootstrapRequest,
    /// Bootstrap-Request acknowledged: serving the bootstrap server until Bootstrap-Finish.
    BootstrapServing { deadline: Instant },
    /// Register to send or in flight.
    Registering,
    /// Registered; `update_at` is when the next Update is due.
    Registered { update_at: Instant },
    /// De-register to send or in flight; the session closes afterwards.
    Deregistering,
    /// Disabled by the server (/1/x/4) until `until`.
    Disabled { until: Instant },
}

/// What a confirmable request we sent was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exchange {
    BootstrapRequest,
    Register,
    Update,
    Deregister,
    /// A confirmable notification of observation slot `obs`.
    Notify {
        obs: usize,
    },
}

/// The request in flight (NSTART = 1: one per server, RFC 7252 §4.7).
#[derive(Debug, Clone)]
pub struct Inflight {
    pub exchange: Exchange,
    pub mid: u16,
    pub token: Token,
    pub retransmission: Retransmission,
    /// An empty ACK came: the answer follows as a separate response; stop retransmitting.
    pub acknowledged: bool,
    /// Give up waiting for a separate response at this time.
    pub separate_deadline: Instant,
    /// The retransmission timer fired: send `request` again.
    pub resend: bool,
}

/// Empty messages owed to the peer (ACKs of separate responses, RSTs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Ack(u16),
    Rst(u16),
}

/// The Location-Path of a registration, segment by segment exactly as the server sent it:
/// echoed back as Uri-Path options in Update and De-register. Some servers put a '/' inside a
/// single segment (lwm2m-node-lib answers `rd/1` as one option); echoing keeps them working.
#[derive(Debug, Clone, Default)]
pub struct Location {
    bytes: heapless::Vec<u8, 32>,
    /// End offset of each segment in `bytes`.
    ends: heapless::Vec<u8, 4>,
}

impl Location {
    pub const fn new() -> Location {
        Location { bytes: heapless::Vec::new(), ends: heapless::Vec::new() }
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// Appends a segment; false when it does not fit.
    #[inline(never)]
    pub fn push(&mut self, segment: &[u8]) -> bool {
        let fits = self.bytes.extend_from_slice(segment).is_ok();
        fits && u8::try_from(self.bytes.len()).is_ok_and(|end| self.ends.push(end).is_ok())
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn segments(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0usize;
        self.ends.iter().map(move |&end| {
            let seg = self.bytes.get(start..usize::from(end)).unwrap_or_default();
            start = usize::from(end);
            seg
        })
    }
}

/// What changed since the last registration, to put in the next Update (LwM2M 1.0 §5.3.2:
/// only changed parameters are sent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateNeeds {
    pub due: bool,
    pub lifetime: bool,
    pub binding: bool,
    pub links: bool,
}

impl UpdateNeeds {
    pub fn any(&self) -> bool {
        self.due || self.lifetime || self.binding || self.links
    }
}

/// One server connection.
#[derive(Debug)]
pub struct Session {
    pub conn: ConnId,
    pub role: Option<Role>,
    pub phase: Phase,
    pub inflight: Option<Inflight>,
    /// The bytes of the request in flight, for retransmission.
    pub request: Datagram,
    /// The last reply we sent and the message id it answered (duplicate requests get it again).
    pub reply: Datagram,
    pub reply_mid: Option<u16>,
    /// Token of the request `reply` answers: a message id reused with another token is a new
    /// request (a peer reusing ids too early), not a duplicate.
    pub reply_token: lwm2m_coap::Token,
    pub reply_pending: bool,
    /// Bootstrap-Finish was accepted: once its reply is out, the session closes.
    pub finish_bootstrap_after_reply: bool,
    pub control: Vec<Control, 4>,
    /// Location-Path of the registration.
    pub location: Location,
    pub lifetime_s: u32,
    pub binding: String<4>,
    pub links_hash: u32,
    pub update: UpdateNeeds,
    /// Deregister, then do this next.
    pub after_deregister: AfterDeregister,
}

/// What follows a de-registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterDeregister {
    Close,
    Bootstrap,
    Disable { timeout_s: u32 },
}

impl Session {
    pub const fn new(conn: ConnId) -> Session {
        Session {
            conn,
            role: None,
            phase: Phase::Idle,
            inflight: None,
            request: Datagram::new(),
            reply: Datagram::new(),
            reply_mid: None,
            reply_token: lwm2m_coap::Token::EMPTY,
            reply_pending: false,
            finish_bootstrap_after_reply: false,
            control: Vec::new(),
            location: Location::new(),
            lifetime_s: 0,
            binding: String::new(),
            links_hash: 0,
            update: UpdateNeeds { due: false, lifetime: false, binding: false, links: false },
            after_deregister: AfterDeregister::Close,
        }
    }

    /// Forget everything but the slot number.
    pub fn reset(&mut self) {
        *self = Session::new(self.conn);
    }

    pub fn short_id(&self) -> Option<u16> {
        match self.role {
            Some(Role::Server { short_id, .. }) => Some(short_id),
            _ => None,
        }
    }

    pub fn is_registered(&self) -> bool {
        matches!(self.phase, Phase::Registered { .. })
    }

    /// The request buffer holds a new confirmable request: wait for its answer. The token is
    /// borrowed (from the caller's local or its observation) and copied only into place here.
    pub fn begin_inflight(
        &mut self,
        now: Instant,
        tx: &TransmissionParams,
        rng: &mut Rng,
        exchange: Exchange,
        mid: u16,
        token: &Token,
    ) {
        let retransmission = Retransmission::start(now, tx, rng);
        self.inflight = Some(Inflight {
            exchange,
            mid,
            token: *token,
            retransmission,
            acknowledged: false,
            separate_deadline: now,
            resend: false,
        });
    }

    pub fn queue_control(&mut self, c: Control) {
        // A full queue drops the oldest: the peer retransmits what it misses.
        lwm2m_objects::vecs::push_evicting(&mut self.control, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_keeps_segments_as_sent() {
        let mut l = Location::new();
        assert!(l.push(b"rd/1"));
        assert!(l.segments().eq([b"rd/1".as_slice()]));
        l.clear();
        assert!(l.push(b"rd") && l.push(b"5a3f"));
        assert!(l.segments().eq([b"rd".as_slice(), b"5a3f".as_slice()]));
        // Too many or too long: refused, not truncated silently.
        assert!(l.push(b"x") && l.push(b"y"));
        assert!(!l.push(b"z"));
        let mut long = Location::new();
        assert!(!long.push(&[b'a'; 33]));
    }
}

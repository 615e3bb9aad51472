//! One connection to one server: where it is in the protocol, the confirmable request in flight
//! and the last reply (kept for duplicate requests).

use heapless::{Deque, String};
use lwm2m_coap::{Instant, Retransmission, Token};

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
    pub reply_pending: bool,
    /// Bootstrap-Finish was accepted: once its reply is out, the session closes.
    pub finish_bootstrap_after_reply: bool,
    pub control: Deque<Control, 4>,
    /// Location-Path segments of the registration, joined with '/'.
    pub location: String<32>,
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
            reply_pending: false,
            finish_bootstrap_after_reply: false,
            control: Deque::new(),
            location: String::new(),
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

    pub fn queue_control(&mut self, c: Control) {
        // A full queue drops the oldest: the peer retransmits what it misses.
        if self.control.is_full() {
            self.control.pop_front();
        }
        let _ = self.control.push_back(c);
    }
}

//! A scripted LwM2M peer inside the image: the bootstrap server and the device-management server
//! that the simulated modem's sockets reach.
//!
//! It shares no code with the client's codec: CoAP headers and options are read and written by
//! hand here, and the bootstrap writes are canned TLV bytes (OMA LwM2M 1.0 TS, 6.4.3). It only
//! knows the happy path: Bootstrap-Request, two writes, Bootstrap-Finish; Register, Update,
//! De-register. Everything else gets 4.04 Not Found (requests) or is ignored (responses).

use heapless::Vec;

/// The bootstrap server the simulated modem reaches (use it as the bootstrap URI).
pub const BS_URI: &str = "coaps://bootstrap.sim:5684";
/// The device-management server the bootstrap points at.
pub const DM_URI: &str = "coaps://dm.sim:5684";
/// The bootstrap PSK "provisioned in the modem" (security tag 25). Test value, not a secret.
pub const BS_PSK: [u8; 16] = [0x11; 16];
/// The device-management PSK the bootstrap server hands out. Test value, not a secret.
pub const DM_PSK: [u8; 16] = [0x22; 16];
/// Short server id of the management server (Verizon's management server uses the same).
pub const DM_SSID: u8 = 102;
/// Location the management server gives the registration.
pub const DM_LOCATION: &str = "5a3f";
/// Registration lifetime written by the bootstrap server (s).
pub const DM_LIFETIME_S: u32 = 86_400;

/// Largest datagram the peer builds.
pub const MAX_PEER_DATAGRAM: usize = 160;
/// A datagram from the peer.
pub type PeerDatagram = Vec<u8, MAX_PEER_DATAGRAM>;

const TYPE_CON: u8 = 0;
const TYPE_ACK: u8 = 2;
const CODE_POST: u8 = 0x02;
const CODE_PUT: u8 = 0x03;
const CODE_DELETE: u8 = 0x04;
const CODE_CREATED: u8 = 0x41; // 2.01
const CODE_DELETED: u8 = 0x42; // 2.02
const CODE_CHANGED: u8 = 0x44; // 2.04
const CODE_NOT_FOUND: u8 = 0x84; // 4.04
const OPT_LOCATION_PATH: u16 = 8;
const OPT_URI_PATH: u16 = 11;
const OPT_CONTENT_FORMAT: u16 = 12;
const OPT_URI_QUERY: u16 = 15;
const FORMAT_TLV: u16 = 11542;

/// The fixed part of a CoAP message (RFC 7252, 3) and where its options start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub kind: u8,
    pub code: u8,
    pub mid: u16,
    pub token: &'a [u8],
    /// Options and payload.
    pub rest: &'a [u8],
}

/// Reads the CoAP header; `None` for anything that is not CoAP version 1.
pub fn header(d: &[u8]) -> Option<Header<'_>> {
    let (&b0, tail) = d.split_first()?;
    if b0 >> 6 != 1 {
        return None;
    }
    let tkl = usize::from(b0 & 0x0f);
    if tkl > 8 || tail.len() < 3 + tkl {
        return None;
    }
    let (fixed, tail) = tail.split_at(3);
    let (token, rest) = tail.split_at(tkl);
    Some(Header {
        kind: (b0 >> 4) & 3,
        code: fixed[0],
        mid: u16::from_be_bytes([fixed[1], fixed[2]]),
        token,
        rest,
    })
}

/// Iterates over the options of `rest` as (number, value) until the payload marker.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
    number: u16,
}

impl<'a> Options<'a> {
    pub fn new(rest: &'a [u8]) -> Options<'a> {
        Options { rest, number: 0 }
    }

    fn ext(&mut self, nibble: u8) -> Option<u16> {
        match nibble {
            0..=12 => Some(u16::from(nibble)),
            13 => {
                let (&b, t) = self.rest.split_first()?;
                self.rest = t;
                Some(u16::from(b) + 13)
            }
            14 => {
                let b = self.rest.get(..2)?;
                let v = u16::from_be_bytes([b[0], b[1]]).checked_add(269)?;
                self.rest = self.rest.get(2..)?;
                Some(v)
            }
            _ => None,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let (&b, t) = self.rest.split_first()?;
        if b == 0xff {
            return None;
        }
        self.rest = t;
        let delta = self.ext(b >> 4)?;
        let len = usize::from(self.ext(b & 0x0f)?);
        self.number = self.number.checked_add(delta)?;
        let value = self.rest.get(..len)?;
        self.rest = self.rest.get(len..)?;
        Some((self.number, value))
    }
}

/// Builds one CoAP message by hand.
struct Builder {
    out: PeerDatagram,
    last: u16,
}

impl Builder {
    fn new(kind: u8, code: u8, mid: u16, token: &[u8]) -> Builder {
        let mut out = PeerDatagram::new();
        let tkl = token.len().min(8) as u8;
        let _ = out.push(0x40 | (kind << 4) | tkl);
        let _ = out.push(code);
        let _ = out.extend_from_slice(&mid.to_be_bytes());
        let _ = out.extend_from_slice(token.get(..usize::from(tkl)).unwrap_or(&[]));
        Builder { out, last: 0 }
    }

    /// Adds an option (numbers in ascending order, values shorter than 13 bytes).
    fn option(mut self, number: u16, value: &[u8]) -> Builder {
        let delta = number - self.last;
        self.last = number;
        let len = value.len() as u8;
        if delta < 13 {
            let _ = self.out.push(((delta as u8) << 4) | len);
        } else {
            let _ = self.out.push(0xd0 | len);
            let _ = self.out.push((delta - 13) as u8);
        }
        let _ = self.out.extend_from_slice(value);
        self
    }

    fn payload(mut self, p: &[u8]) -> Builder {
        let _ = self.out.push(0xff);
        let _ = self.out.extend_from_slice(p);
        self
    }

    fn done(self) -> PeerDatagram {
        self.out
    }
}

/// A TLV resource with a value of up to 255 bytes (8-bit id, 8-bit length field).
fn tlv(out: &mut Vec<u8, 128>, id: u8, value: &[u8]) {
    let _ = out.push(0xc8);
    let _ = out.push(id);
    let _ = out.push(value.len() as u8);
    let _ = out.extend_from_slice(value);
}

/// Security instance 1: the management server, PSK mode, identity = endpoint name.
pub fn security_tlv(endpoint: &[u8]) -> Vec<u8, 128> {
    let mut v = Vec::new();
    tlv(&mut v, 0, DM_URI.as_bytes());
    tlv(&mut v, 1, &[0]); // Bootstrap-Server: false
    tlv(&mut v, 2, &[0]); // Security Mode: PSK
    tlv(&mut v, 3, endpoint); // Public Key or Identity
    tlv(&mut v, 5, &DM_PSK); // Secret Key
    tlv(&mut v, 10, &[DM_SSID]); // Short Server ID
    v
}

/// Server instance 0: the management server's registration parameters.
pub fn server_tlv() -> Vec<u8, 128> {
    let mut v = Vec::new();
    tlv(&mut v, 0, &[DM_SSID]);
    tlv(&mut v, 1, &DM_LIFETIME_S.to_be_bytes());
    tlv(&mut v, 6, &[0]); // Notification Storing: false
    tlv(&mut v, 7, b"U");
    v
}

/// Where the bootstrap server is in its script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BsStep {
    /// Waiting for Bootstrap-Request.
    Idle,
    /// Our request `mid` (0: Write /0/1, 1: Write /1/0, 2: Finish) is out; waiting for its ACK.
    Sent {
        step: u8,
        mid: u16,
    },
    Done,
}

/// What the peer has seen, for the tests and the sample's log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PeerStats {
    pub bootstrap_requests: u16,
    pub bootstrap_finished: bool,
    pub registrations: u16,
    pub updates: u16,
    pub deregistrations: u16,
}

/// The bootstrap and management servers behind the simulated sockets.
#[derive(Debug)]
pub struct ScriptedPeer {
    bs: BsStep,
    bs_token: [u8; 2],
    next_mid: u16,
    endpoint: Vec<u8, 64>,
    pub stats: PeerStats,
}

impl Default for ScriptedPeer {
    fn default() -> Self {
        Self::new()
    }
}

/// Which server a socket reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Bootstrap,
    Management,
}

impl Server {
    /// The server behind `uri`, if the peer plays it.
    pub fn of_uri(uri: &str) -> Option<Server> {
        match uri {
            BS_URI => Some(Server::Bootstrap),
            DM_URI => Some(Server::Management),
            _ => None,
        }
    }

    /// The PSK the server expects in the DTLS handshake.
    pub fn psk(self) -> &'static [u8] {
        match self {
            Server::Bootstrap => &BS_PSK,
            Server::Management => &DM_PSK,
        }
    }
}

impl ScriptedPeer {
    pub fn new() -> ScriptedPeer {
        ScriptedPeer {
            bs: BsStep::Idle,
            bs_token: [0xb5, 0x00],
            next_mid: 0x5000,
            endpoint: Vec::new(),
            stats: PeerStats::default(),
        }
    }

    fn mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    /// The bootstrap server's next request after step `step` was acknowledged.
    fn bs_request(&mut self, step: u8) -> Option<PeerDatagram> {
        let mid = self.mid();
        self.bs_token[1] = step;
        let token = self.bs_token;
        let msg = match step {
            0 => Builder::new(TYPE_CON, CODE_PUT, mid, &token)
                .option(OPT_URI_PATH, b"0")
                .option(OPT_URI_PATH, b"1")
                .option(OPT_CONTENT_FORMAT, &FORMAT_TLV.to_be_bytes())
                .payload(&security_tlv(&self.endpoint))
                .done(),
            1 => Builder::new(TYPE_CON, CODE_PUT, mid, &token)
                .option(OPT_URI_PATH, b"1")
                .option(OPT_URI_PATH, b"0")
                .option(OPT_CONTENT_FORMAT, &FORMAT_TLV.to_be_bytes())
                .payload(&server_tlv())
                .done(),
            2 => Builder::new(TYPE_CON, CODE_POST, mid, &token).option(OPT_URI_PATH, b"bs").done(),
            _ => return None,
        };
        self.bs = BsStep::Sent { step, mid };
        Some(msg)
    }

    /// Handles a datagram the device sent to `server`; returns the peer's answers (an ACK and
    /// possibly a request of its own), in order.
    pub fn handle(&mut self, server: Server, d: &[u8]) -> Vec<PeerDatagram, 2> {
        let mut out = Vec::new();
        let Some(h) = header(d) else { return out };
        let is_request = (1..=31).contains(&h.code);
        if !is_request {
            // An ACK of one of our requests: the bootstrap script moves on.
            if let (Server::Bootstrap, BsStep::Sent { step, mid }) = (server, self.bs) {
                if h.kind == TYPE_ACK && h.mid == mid && h.code >> 5 == 2 {
                    if step == 2 {
                        self.bs = BsStep::Done;
                        self.stats.bootstrap_finished = true;
                    } else if let Some(r) = self.bs_request(step + 1) {
                        let _ = out.push(r);
                    }
                }
            }
            return out;
        }
        let mut path: Vec<&[u8], 4> = Vec::new();
        let mut endpoint: Option<&[u8]> = None;
        for (n, v) in Options::new(h.rest) {
            match n {
                OPT_URI_PATH => {
                    let _ = path.push(v);
                }
                OPT_URI_QUERY => {
                    if let Some(ep) = v.strip_prefix(b"ep=") {
                        endpoint = Some(ep);
                    }
                }
                _ => {}
            }
        }
        let ack = |code: u8| Builder::new(TYPE_ACK, code, h.mid, h.token);
        let loc = DM_LOCATION.as_bytes();
        let reply = match (server, h.code, path.as_slice()) {
            (Server::Bootstrap, CODE_POST, [b"bs"]) => {
                self.stats.bootstrap_requests += 1;
                self.endpoint.clear();
                let _ = self.endpoint.extend_from_slice(endpoint.unwrap_or(&[]));
                let fresh = self.bs == BsStep::Idle || self.bs == BsStep::Done;
                let _ = out.push(ack(CODE_CHANGED).done());
                if fresh {
                    if let Some(r) = self.bs_request(0) {
                        let _ = out.push(r);
                    }
                }
                return out;
            }
            (Server::Management, CODE_POST, [b"rd"]) => {
                self.stats.registrations += 1;
                ack(CODE_CREATED)
                    .option(OPT_LOCATION_PATH, b"rd")
                    .option(OPT_LOCATION_PATH, loc)
                    .done()
            }
            (Server::Management, CODE_POST, [b"rd", l]) if *l == loc => {
                self.stats.updates += 1;
                ack(CODE_CHANGED).done()
            }
            (Server::Management, CODE_DELETE, [b"rd", l]) if *l == loc => {
                self.stats.deregistrations += 1;
                ack(CODE_DELETED).done()
            }
            _ => ack(CODE_NOT_FOUND).done(),
        };
        if h.kind == TYPE_CON {
            let _ = out.push(reply);
        }
        out
    }
}

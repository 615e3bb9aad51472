//! Scripted LwM2M management server: the registration interface (Register, Update,
//! De-register) plus server-initiated device-management and observe requests (through
//! [`Endpoint`], which this type dereferences to).

use std::ops::{Deref, DerefMut};

use crate::endpoint::{Endpoint, Reply};
use crate::msg::{opt, Code, Received};

/// What the server knows about one registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// Registration id (the second Location-Path segment).
    pub id: String,
    /// `ep=`.
    pub endpoint: String,
    /// `lt=`.
    pub lifetime: Option<u32>,
    /// `lwm2m=`.
    pub lwm2m: Option<String>,
    /// `b=`.
    pub binding: Option<String>,
    /// `sms=`.
    pub sms: Option<String>,
    /// The registration link list (payload of Register or of the latest Update carrying one).
    pub links: String,
    /// Number of accepted Updates.
    pub updates: u32,
    /// False after De-register.
    pub active: bool,
}

/// The management server. See the crate docs for an example.
#[derive(Debug)]
pub struct ManagementServer {
    ep: Endpoint,
    state: MgmtState,
}

#[derive(Debug)]
struct MgmtState {
    registrations: Vec<Registration>,
    refuse_register: Option<Code>,
    refuse_update: Option<Code>,
    next_id: u32,
    id_prefix: String,
}

impl Default for ManagementServer {
    fn default() -> Self {
        ManagementServer::new()
    }
}

impl Deref for ManagementServer {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.ep
    }
}

impl DerefMut for ManagementServer {
    fn deref_mut(&mut self) -> &mut Endpoint {
        &mut self.ep
    }
}

impl ManagementServer {
    /// A server with default settings: accepts registrations, ids `"r1"`, `"r2"`, ...
    pub fn new() -> ManagementServer {
        ManagementServer::with_endpoint(Endpoint::new(0x6000, 0x5E44_0000))
    }

    /// A server with a configured endpoint (message id / token seeds).
    pub fn with_endpoint(ep: Endpoint) -> ManagementServer {
        ManagementServer {
            ep,
            state: MgmtState {
                registrations: Vec::new(),
                refuse_register: None,
                refuse_update: None,
                next_id: 1,
                id_prefix: "r".into(),
            },
        }
    }

    /// Processes one datagram from the client and returns what to send back now.
    pub fn handle(&mut self, datagram: &[u8]) -> Vec<Vec<u8>> {
        let state = &mut self.state;
        self.ep.handle_with(datagram, &mut |r| state.on_request(r))
    }

    /// Answer Register with `code` (e.g. 4.03) instead of 2.01; `None` accepts again.
    pub fn refuse_registration(&mut self, code: Option<Code>) {
        self.state.refuse_register = code;
    }
    /// Answer Update with `code` (e.g. 4.04) instead of 2.04; `None` accepts again.
    pub fn refuse_update(&mut self, code: Option<Code>) {
        self.state.refuse_update = code;
    }
    /// Registration ids are `prefix` followed by a counter (default `"r"`).
    pub fn set_registration_id_prefix(&mut self, prefix: &str) {
        self.state.id_prefix = prefix.into();
    }
    /// The most recent registration (active or not).
    pub fn registration(&self) -> Option<&Registration> {
        self.state.registrations.last()
    }
    /// All registrations in creation order.
    pub fn registrations(&self) -> &[Registration] {
        &self.state.registrations
    }
    /// Is there an active registration?
    pub fn is_registered(&self) -> bool {
        self.state.registrations.iter().any(|r| r.active)
    }
}

impl MgmtState {
    fn on_request(&mut self, r: &Received) -> Reply {
        let path: Vec<&str> = r.path.iter().map(String::as_str).collect();
        match (r.code, path.as_slice()) {
            (Code::POST, ["rd"]) => self.register(r),
            (Code::POST, ["rd", id]) => self.update(id, r),
            (Code::DELETE, ["rd", id]) => match self.find(id) {
                Some(reg) => {
                    reg.active = false;
                    Reply::code(Code::DELETED)
                }
                None => Reply::code(Code::NOT_FOUND),
            },
            (_, ["rd", ..]) => Reply::code(Code::METHOD_NOT_ALLOWED),
            _ => Reply::code(Code::NOT_FOUND),
        }
    }

    fn find(&mut self, id: &str) -> Option<&mut Registration> {
        self.registrations.iter_mut().find(|reg| reg.active && reg.id == id)
    }

    fn register(&mut self, r: &Received) -> Reply {
        if let Some(code) = self.refuse_register {
            return Reply::code(code);
        }
        let Some(endpoint) = r.query("ep").filter(|e| !e.is_empty()) else {
            return Reply::code(Code::BAD_REQUEST);
        };
        let lifetime = match r.query("lt").map(str::parse::<u32>) {
            Some(Err(_)) => return Reply::code(Code::BAD_REQUEST),
            Some(Ok(v)) => Some(v),
            None => None,
        };
        // A new registration of the same endpoint replaces the old one.
        for reg in self.registrations.iter_mut().filter(|reg| reg.endpoint == endpoint) {
            reg.active = false;
        }
        let id = format!("{}{}", self.id_prefix, self.next_id);
        self.next_id += 1;
        self.registrations.push(Registration {
            id: id.clone(),
            endpoint: endpoint.to_string(),
            lifetime,
            lwm2m: r.query("lwm2m").map(String::from),
            binding: r.query("b").map(String::from),
            sms: r.query("sms").map(String::from),
            links: r.payload_str(),
            updates: 0,
            active: true,
        });
        Reply {
            code: Code::CREATED,
            options: vec![
                (opt::LOCATION_PATH, b"rd".to_vec()),
                (opt::LOCATION_PATH, id.into_bytes()),
            ],
            payload: Vec::new(),
        }
    }

    fn update(&mut self, id: &str, r: &Received) -> Reply {
        let refuse = self.refuse_update;
        let Some(reg) = self.find(id) else {
            return Reply::code(Code::NOT_FOUND);
        };
        if let Some(code) = refuse {
            return Reply::code(code);
        }
        if let Some(lt) = r.query("lt") {
            match lt.parse() {
                Ok(v) => reg.lifetime = Some(v),
                Err(_) => return Reply::code(Code::BAD_REQUEST),
            }
        }
        if let Some(b) = r.query("b") {
            reg.binding = Some(b.to_string());
        }
        if let Some(s) = r.query("sms") {
            reg.sms = Some(s.to_string());
        }
        if !r.payload.is_empty() {
            reg.links = r.payload_str();
        }
        reg.updates += 1;
        Reply::code(Code::CHANGED)
    }
}

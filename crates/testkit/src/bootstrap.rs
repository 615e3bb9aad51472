//! Scripted LwM2M bootstrap server: answers Bootstrap-Request, then runs a script of
//! bootstrap operations one CON request at a time.

use std::ops::{Deref, DerefMut};

use crate::endpoint::{Endpoint, Reply, Request, RequestHandle, Response};
use crate::msg::{cf, Code, Received};
use crate::tlv;

/// One scripted bootstrap operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootstrapOp {
    /// Bootstrap-Delete (DELETE) of a path; `"/"` deletes everything deletable.
    Delete(String),
    /// Bootstrap-Write (PUT).
    Write {
        /// Target path.
        path: String,
        /// Content-Format of the payload.
        content_format: u16,
        /// Payload.
        payload: Vec<u8>,
    },
    /// Bootstrap-Discover (GET, Accept link format).
    Discover(String),
    /// Bootstrap-Finish (POST /bs).
    Finish,
}

impl BootstrapOp {
    /// Delete `/`.
    pub fn delete_all() -> BootstrapOp {
        BootstrapOp::Delete("/".into())
    }
    /// Write `/0/{instance}` with an object-instance TLV built from `s`.
    pub fn write_security(instance: u16, s: &SecurityInstance) -> BootstrapOp {
        BootstrapOp::Write {
            path: format!("/0/{instance}"),
            content_format: cf::TLV,
            payload: s.to_tlv(instance),
        }
    }
    /// Write `/1/{instance}` with an object-instance TLV built from `s`.
    pub fn write_server(instance: u16, s: &ServerInstance) -> BootstrapOp {
        BootstrapOp::Write {
            path: format!("/1/{instance}"),
            content_format: cf::TLV,
            payload: s.to_tlv(instance),
        }
    }
    fn to_request(&self) -> Request {
        match self {
            BootstrapOp::Delete(p) => Request::delete(p),
            BootstrapOp::Write { path, content_format, payload } => {
                Request::put(path).body(*content_format, payload.clone())
            }
            BootstrapOp::Discover(p) => Request::get(p).accept(cf::LINK_FORMAT),
            BootstrapOp::Finish => Request::post("/bs"),
        }
    }
}

/// Resources of a Security object (0) instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityInstance {
    /// 0: LwM2M Server URI.
    pub uri: String,
    /// 1: Bootstrap-Server.
    pub bootstrap: bool,
    /// 2: Security Mode (0 PSK, 3 NoSec).
    pub security_mode: i64,
    /// 3: Public Key or Identity (the PSK identity).
    pub identity: Vec<u8>,
    /// 4: Server Public Key (omitted when empty).
    pub server_public_key: Vec<u8>,
    /// 5: Secret Key (the PSK).
    pub secret_key: Vec<u8>,
    /// 10: Short Server ID.
    pub short_server_id: Option<u16>,
    /// 11: Client Hold Off Time.
    pub client_hold_off: Option<i64>,
    /// 12: Bootstrap-Server Account Timeout.
    pub bootstrap_timeout: Option<i64>,
}

impl SecurityInstance {
    /// A PSK (mode 0) instance for a management server.
    pub fn psk(uri: &str, short_server_id: u16, identity: &[u8], key: &[u8]) -> SecurityInstance {
        SecurityInstance {
            uri: uri.into(),
            bootstrap: false,
            security_mode: 0,
            identity: identity.to_vec(),
            server_public_key: Vec::new(),
            secret_key: key.to_vec(),
            short_server_id: Some(short_server_id),
            client_hold_off: None,
            bootstrap_timeout: None,
        }
    }
    /// A PSK instance for a bootstrap server (resource 1 true, no short server id).
    pub fn bootstrap_psk(uri: &str, identity: &[u8], key: &[u8]) -> SecurityInstance {
        SecurityInstance {
            bootstrap: true,
            short_server_id: None,
            client_hold_off: Some(0),
            ..SecurityInstance::psk(uri, 0, identity, key)
        }
    }
    /// The object-instance TLV (resources in id order).
    pub fn to_tlv(&self, instance: u16) -> Vec<u8> {
        let mut r = vec![
            tlv::encode_str(0, &self.uri),
            tlv::encode_bool(1, self.bootstrap),
            tlv::encode_int(2, self.security_mode),
            tlv::encode_opaque(3, &self.identity),
        ];
        if !self.server_public_key.is_empty() {
            r.push(tlv::encode_opaque(4, &self.server_public_key));
        }
        r.push(tlv::encode_opaque(5, &self.secret_key));
        if let Some(id) = self.short_server_id {
            r.push(tlv::encode_int(10, i64::from(id)));
        }
        if let Some(v) = self.client_hold_off {
            r.push(tlv::encode_int(11, v));
        }
        if let Some(v) = self.bootstrap_timeout {
            r.push(tlv::encode_int(12, v));
        }
        tlv::encode_object_instance(instance, &r)
    }
}

/// Resources of a Server object (1) instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInstance {
    /// 0: Short Server ID.
    pub short_server_id: u16,
    /// 1: Lifetime (s).
    pub lifetime: i64,
    /// 2: Default Minimum Period.
    pub default_pmin: Option<i64>,
    /// 3: Default Maximum Period.
    pub default_pmax: Option<i64>,
    /// 5: Disable Timeout.
    pub disable_timeout: Option<i64>,
    /// 6: Notification Storing When Disabled or Offline.
    pub notification_storing: bool,
    /// 7: Binding.
    pub binding: String,
}

impl ServerInstance {
    /// A UDP server instance with default periods unset.
    pub fn new(short_server_id: u16, lifetime: i64) -> ServerInstance {
        ServerInstance {
            short_server_id,
            lifetime,
            default_pmin: None,
            default_pmax: None,
            disable_timeout: None,
            notification_storing: true,
            binding: "U".into(),
        }
    }
    /// The object-instance TLV (resources in id order).
    pub fn to_tlv(&self, instance: u16) -> Vec<u8> {
        let mut r = vec![
            tlv::encode_int(0, i64::from(self.short_server_id)),
            tlv::encode_int(1, self.lifetime),
        ];
        if let Some(v) = self.default_pmin {
            r.push(tlv::encode_int(2, v));
        }
        if let Some(v) = self.default_pmax {
            r.push(tlv::encode_int(3, v));
        }
        if let Some(v) = self.disable_timeout {
            r.push(tlv::encode_int(5, v));
        }
        r.push(tlv::encode_bool(6, self.notification_storing));
        r.push(tlv::encode_str(7, &self.binding));
        tlv::encode_object_instance(instance, &r)
    }
}

/// The outcome of one scripted operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootstrapResult {
    /// The operation.
    pub op: BootstrapOp,
    /// The client's response code ([`Code::EMPTY`] when it answered RST).
    pub code: Code,
    /// The full response.
    pub response: Response,
}

/// The bootstrap server. See the crate docs for an example.
#[derive(Debug)]
pub struct BootstrapServer {
    ep: Endpoint,
    script: Vec<BootstrapOp>,
    runs: Vec<(RequestHandle, BootstrapOp)>,
    state: BsState,
}

#[derive(Debug, Default)]
struct BsState {
    refuse: Option<Code>,
    requests: Vec<String>,
    start_requested: bool,
}

impl Deref for BootstrapServer {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.ep
    }
}

impl DerefMut for BootstrapServer {
    fn deref_mut(&mut self) -> &mut Endpoint {
        &mut self.ep
    }
}

impl BootstrapServer {
    /// A server that runs `script` after each Bootstrap-Request (or [`BootstrapServer::start`]).
    pub fn new(script: Vec<BootstrapOp>) -> BootstrapServer {
        BootstrapServer::with_endpoint(script, Endpoint::new(0x3000, 0xB0_0000))
    }

    /// As [`BootstrapServer::new`] with a configured endpoint.
    pub fn with_endpoint(script: Vec<BootstrapOp>, ep: Endpoint) -> BootstrapServer {
        BootstrapServer { ep, script, runs: Vec::new(), state: BsState::default() }
    }

    /// The usual script: Delete `/`, Write `/0/0` (bootstrap server account), Write `/0/1`
    /// (management server account, PSK), Write `/1/0`, Finish.
    pub fn standard_script(
        bs_uri: &str,
        dm_uri: &str,
        short_server_id: u16,
        lifetime: i64,
        identity: &[u8],
        key: &[u8],
    ) -> Vec<BootstrapOp> {
        vec![
            BootstrapOp::delete_all(),
            BootstrapOp::write_security(0, &SecurityInstance::bootstrap_psk(bs_uri, identity, key)),
            BootstrapOp::write_security(
                1,
                &SecurityInstance::psk(dm_uri, short_server_id, identity, key),
            ),
            BootstrapOp::write_server(0, &ServerInstance::new(short_server_id, lifetime)),
            BootstrapOp::Finish,
        ]
    }

    /// Replaces the script for the next run.
    pub fn set_script(&mut self, script: Vec<BootstrapOp>) {
        self.script = script;
    }

    /// Answer Bootstrap-Request with `code` instead of 2.04 (and do not start the script).
    pub fn refuse_bootstrap_request(&mut self, code: Option<Code>) {
        self.state.refuse = code;
    }

    /// Processes one datagram from the client and returns what to send back now. After an
    /// accepted Bootstrap-Request the script is queued; its first operation is sent by the next
    /// `poll_outgoing()`, later ones as soon as the previous one is answered.
    pub fn handle(&mut self, datagram: &[u8]) -> Vec<Vec<u8>> {
        let state = &mut self.state;
        let out = self.ep.handle_with(datagram, &mut |r| state.on_request(r));
        if std::mem::take(&mut self.state.start_requested) && !self.running() {
            self.start();
        }
        out
    }

    /// Server-initiated bootstrap: queues the script now (sent by `poll_outgoing()`).
    pub fn start(&mut self) {
        for op in self.script.clone() {
            let h = self.ep.request(op.to_request());
            self.runs.push((h, op));
        }
    }

    /// A scripted operation is queued or in flight.
    pub fn running(&self) -> bool {
        self.runs.iter().any(|(h, _)| self.ep.is_pending(*h))
    }

    /// Completed operations of all runs, in order, with the client's response codes.
    pub fn results(&self) -> Vec<BootstrapResult> {
        self.runs
            .iter()
            .filter_map(|(h, op)| {
                self.ep.response(*h).map(|response| BootstrapResult {
                    op: op.clone(),
                    code: response.code,
                    response,
                })
            })
            .collect()
    }

    /// Just the response codes of [`BootstrapServer::results`].
    pub fn codes(&self) -> Vec<Code> {
        self.results().into_iter().map(|r| r.code).collect()
    }

    /// The response code to the latest Bootstrap-Finish, once answered.
    pub fn finish_code(&self) -> Option<Code> {
        self.results().into_iter().rev().find(|r| r.op == BootstrapOp::Finish).map(|r| r.code)
    }

    /// Endpoint names of the Bootstrap-Requests received (including refused ones).
    pub fn bootstrap_requests(&self) -> &[String] {
        &self.state.requests
    }
}

impl BsState {
    fn on_request(&mut self, r: &Received) -> Reply {
        if r.code != Code::POST || r.path != ["bs"] {
            return Reply::code(Code::NOT_FOUND);
        }
        let Some(ep) = r.query("ep").filter(|e| !e.is_empty()) else {
            return Reply::code(Code::BAD_REQUEST);
        };
        self.requests.push(ep.to_string());
        if let Some(code) = self.refuse {
            return Reply::code(code);
        }
        self.start_requested = true;
        Reply::code(Code::CHANGED)
    }
}

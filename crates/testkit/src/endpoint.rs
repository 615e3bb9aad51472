//! The CoAP side shared by both scripted servers: message ids and tokens, the request queue
//! (NSTART), matching of piggybacked / separate responses, Block1 sending, Block2 fetching,
//! observations and notifications, separate responses and fault knobs.

use std::collections::{BTreeMap, VecDeque};

use crate::msg::{cf, opt, szx_for, Block, Code, Msg, MsgType, Received};

/// Identifies a request the server sent (or queued).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestHandle(pub u32);

/// A request the server will send to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Method (GET/POST/PUT/DELETE).
    pub code: Code,
    /// Path, `/3/0/1` (`/` for none).
    pub path: String,
    /// Uri-Query values.
    pub queries: Vec<String>,
    /// Accept option.
    pub accept: Option<u16>,
    /// Content-Format option (only sent with a payload or when forced by the caller).
    pub content_format: Option<u16>,
    /// Observe option (0 register, 1 deregister).
    pub observe: Option<u32>,
    /// Payload; split with Block1 when longer than the endpoint's block size.
    pub payload: Vec<u8>,
    /// Send as NON instead of CON.
    pub non_confirmable: bool,
    /// Use this token instead of a fresh one.
    pub token: Option<Vec<u8>>,
}

impl Request {
    /// A request with no options or payload.
    pub fn new(code: Code, path: &str) -> Request {
        Request {
            code,
            path: path.to_string(),
            queries: Vec::new(),
            accept: None,
            content_format: None,
            observe: None,
            payload: Vec::new(),
            non_confirmable: false,
            token: None,
        }
    }
    /// GET.
    pub fn get(path: &str) -> Request {
        Request::new(Code::GET, path)
    }
    /// POST.
    pub fn post(path: &str) -> Request {
        Request::new(Code::POST, path)
    }
    /// PUT.
    pub fn put(path: &str) -> Request {
        Request::new(Code::PUT, path)
    }
    /// DELETE.
    pub fn delete(path: &str) -> Request {
        Request::new(Code::DELETE, path)
    }
    /// Sets Accept.
    pub fn accept(mut self, cf: u16) -> Request {
        self.accept = Some(cf);
        self
    }
    /// Sets Content-Format and payload.
    pub fn body(mut self, cf: u16, payload: Vec<u8>) -> Request {
        self.content_format = Some(cf);
        self.payload = payload;
        self
    }
    /// Adds a Uri-Query.
    pub fn query(mut self, q: &str) -> Request {
        self.queries.push(q.to_string());
        self
    }
    /// Sets Observe.
    pub fn observe(mut self, v: u32) -> Request {
        self.observe = Some(v);
        self
    }
    /// Sends as NON.
    pub fn non(mut self) -> Request {
        self.non_confirmable = true;
        self
    }
}

/// The (final, reassembled) response to a server request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Response code; [`Code::EMPTY`] when the client answered with RST.
    pub code: Code,
    /// The client rejected the request with RST.
    pub reset: bool,
    /// Message type of the final response (ACK when piggybacked, CON/NON when separate).
    pub mtype: MsgType,
    /// Content-Format of the (first block of the) response.
    pub content_format: Option<u16>,
    /// Observe option of the (first block of the) response.
    pub observe: Option<u32>,
    /// Location-Path segments.
    pub location_path: Vec<String>,
    /// Payload, Block2 blocks reassembled.
    pub payload: Vec<u8>,
    /// Number of Block2 responses (0 when not block-wise).
    pub block2_count: u32,
    /// Number of request datagrams the exchange used (Block1 blocks + Block2 follow-ups + 1).
    pub request_count: u32,
    /// The final response came as a separate response (after an empty ACK).
    pub separate: bool,
}

impl Response {
    /// The payload as UTF-8 (lossy).
    pub fn payload_str(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// One notification of an observation (not counting the response to the Observe request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// CON or NON.
    pub mtype: MsgType,
    /// Message id.
    pub mid: u16,
    /// Code (2.05, or an error code ending the observation).
    pub code: Code,
    /// Observe sequence number.
    pub observe: Option<u32>,
    /// Content-Format.
    pub content_format: Option<u16>,
    /// Payload (Block2 remainder appended once fetched).
    pub payload: Vec<u8>,
    /// False while a Block2 remainder is still being fetched.
    pub complete: bool,
}

/// What a role answers to an incoming client request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Response code.
    pub code: Code,
    /// Options (number, value).
    pub options: Vec<(u16, Vec<u8>)>,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Reply {
    /// A reply with only a code.
    pub fn code(code: Code) -> Reply {
        Reply { code, options: Vec::new(), payload: Vec::new() }
    }
}

#[derive(Debug)]
struct Exchange {
    handle: RequestHandle,
    req: Request,
    token: Vec<u8>,
    mid: u16,
    bytes: Vec<u8>,
    acked: bool,
    /// Block1: offset and length of the part sent in the current datagram, current szx.
    b1: Option<(usize, usize, u8)>,
    /// Block2 accumulation.
    b2_payload: Vec<u8>,
    b2_count: u32,
    first: Option<Received>,
    requests: u32,
    /// Internal Block2 fetch completing a notification (observation index, notification index).
    notif: Option<(usize, usize)>,
}

#[derive(Debug)]
struct Observation {
    handle: RequestHandle,
    token: Vec<u8>,
    req: Request,
    active: bool,
    notifications: Vec<Notification>,
}

/// The CoAP side of a scripted server. Both [`crate::ManagementServer`] and
/// [`crate::BootstrapServer`] dereference to it, so every method here is available on them.
#[derive(Debug)]
pub struct Endpoint {
    next_mid: u16,
    next_token: u64,
    token_len: usize,
    nstart: usize,
    next_handle: u32,
    block1_szx: u8,
    block2_szx: Option<u8>,
    outbox: Vec<Vec<u8>>,
    queue: VecDeque<(RequestHandle, Request)>,
    exchanges: Vec<Exchange>,
    responses: BTreeMap<RequestHandle, Response>,
    observations: Vec<Observation>,
    received: Vec<Received>,
    received_total: usize,
    sent: Vec<Vec<u8>>,
    anomalies: Vec<String>,
    ignore_next_con: usize,
    separate: bool,
    held: Vec<Msg>,
    unacked_separate: Vec<(u16, Vec<u8>)>,
    reset_unknown: bool,
    block1_rx: Option<(String, Vec<u8>)>,
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint::new(0x5000, 0x7E57_0000)
    }
}

impl Endpoint {
    /// A fresh endpoint; `first_mid` is the first message id it uses, `token_seed` the first
    /// token value (4-byte tokens by default).
    pub fn new(first_mid: u16, token_seed: u64) -> Endpoint {
        Endpoint {
            next_mid: first_mid,
            next_token: token_seed,
            token_len: 4,
            nstart: 1,
            next_handle: 1,
            block1_szx: 6,
            block2_szx: None,
            outbox: Vec::new(),
            queue: VecDeque::new(),
            exchanges: Vec::new(),
            responses: BTreeMap::new(),
            observations: Vec::new(),
            received: Vec::new(),
            received_total: 0,
            sent: Vec::new(),
            anomalies: Vec::new(),
            ignore_next_con: 0,
            separate: false,
            held: Vec::new(),
            unacked_separate: Vec::new(),
            reset_unknown: false,
            block1_rx: None,
        }
    }

    // ----- configuration -------------------------------------------------------------------

    /// Token length for fresh tokens (0..=8, default 4).
    pub fn set_token_len(&mut self, len: usize) {
        assert!(len <= 8);
        self.token_len = len;
    }
    /// The next message id the server will use.
    pub fn set_next_mid(&mut self, mid: u16) {
        self.next_mid = mid;
    }
    /// Maximum number of own requests in flight (default 1, RFC 7252 NSTART).
    pub fn set_nstart(&mut self, n: usize) {
        self.nstart = n.max(1);
    }
    /// Block size for outgoing payloads (16..=1024, default 1024): larger payloads use Block1.
    pub fn set_block1_size(&mut self, size: usize) {
        self.block1_szx = szx_for(size).expect("block size must be 16, 32, ..., 1024");
    }
    /// When set, GET requests carry an early Block2 option asking for this block size.
    pub fn set_block2_size(&mut self, size: Option<usize>) {
        self.block2_szx = size.map(|s| szx_for(s).expect("block size must be 16, 32, ..., 1024"));
    }
    /// The next `n` incoming CON messages are recorded but not answered (no ACK, no response).
    pub fn ignore_next_con(&mut self, n: usize) {
        self.ignore_next_con = n;
    }
    /// When on, incoming CON requests get an empty ACK and their response is held until
    /// [`Endpoint::release_separate_responses`].
    pub fn set_separate_responses(&mut self, on: bool) {
        self.separate = on;
    }
    /// When on, notifications for unknown or cancelled observations are answered with RST
    /// (otherwise CON ones are ACKed and NON ones ignored).
    pub fn set_reset_unknown_notifications(&mut self, on: bool) {
        self.reset_unknown = on;
    }

    // ----- datagram flow ---------------------------------------------------------------------

    /// Everything ready to send: queued requests (up to NSTART), then anything produced since
    /// the last call.
    pub fn poll_outgoing(&mut self) -> Vec<Vec<u8>> {
        self.release();
        std::mem::take(&mut self.outbox)
    }

    /// Processes one datagram from the client; client requests are answered by `on_request`.
    /// Returns replies and follow-ups caused by this datagram (ACKs, responses, next Block1 /
    /// Block2 datagram, and the next queued request when an exchange completed).
    pub fn handle_with(
        &mut self,
        datagram: &[u8],
        on_request: &mut dyn FnMut(&Received) -> Reply,
    ) -> Vec<Vec<u8>> {
        self.received_total += 1;
        let r = match Received::parse(datagram) {
            Ok(r) => r,
            Err(e) => {
                self.anomalies.push(format!("unparsable datagram {datagram:02X?}: {e}"));
                return std::mem::take(&mut self.outbox);
            }
        };
        self.received.push(r.clone());
        if r.mtype == MsgType::Con && self.ignore_next_con > 0 {
            self.ignore_next_con -= 1;
            return std::mem::take(&mut self.outbox);
        }
        let completed_before = self.responses.len();
        if r.code.is_request() {
            self.on_client_request(&r, on_request);
        } else if r.code.is_empty() {
            self.on_empty(&r);
        } else {
            self.on_response(&r);
        }
        if self.responses.len() != completed_before {
            self.release();
        }
        std::mem::take(&mut self.outbox)
    }

    /// Releases the held separate responses as CON responses (new message ids, original
    /// tokens) and returns them.
    pub fn release_separate_responses(&mut self) -> Vec<Vec<u8>> {
        let held = std::mem::take(&mut self.held);
        let mut out = Vec::new();
        for mut m in held {
            m.mid = self.mid();
            let bytes = m.to_bytes();
            self.unacked_separate.push((m.mid, bytes.clone()));
            self.sent.push(bytes.clone());
            out.push(bytes);
        }
        out
    }

    /// Byte-exact copies of every CON the server sent that is still waiting for an ACK (own
    /// requests without ACK, separate responses without ACK): what a retransmission would send.
    pub fn retransmit_pending(&mut self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = self
            .exchanges
            .iter()
            .filter(|e| !e.acked && !e.req.non_confirmable)
            .map(|e| e.bytes.clone())
            .collect();
        out.extend(self.unacked_separate.iter().map(|(_, b)| b.clone()));
        self.sent.extend(out.iter().cloned());
        out
    }

    /// Every datagram the server produced, in order (for resending an exact earlier datagram).
    pub fn sent(&self) -> &[Vec<u8>] {
        &self.sent
    }
    /// The most recent datagram the server produced.
    pub fn last_sent(&self) -> Option<&[u8]> {
        self.sent.last().map(|v| v.as_slice())
    }

    /// Parsed records of everything received since the last `take_received`.
    pub fn received(&self) -> &[Received] {
        &self.received
    }
    /// Drains the received records.
    pub fn take_received(&mut self) -> Vec<Received> {
        std::mem::take(&mut self.received)
    }
    /// Number of datagrams received in total (including unparsable ones).
    pub fn received_count(&self) -> usize {
        self.received_total
    }
    /// Protocol violations noticed (unparsable datagrams, token mismatches, RST to a
    /// separate response, unexpected blocks). Tests usually assert this is empty.
    pub fn anomalies(&self) -> &[String] {
        &self.anomalies
    }

    // ----- own requests ----------------------------------------------------------------------

    /// Queues any request; it is sent by the next `poll_outgoing` (or when the previous
    /// exchange completes, with NSTART).
    pub fn request(&mut self, req: Request) -> RequestHandle {
        let h = RequestHandle(self.next_handle);
        self.next_handle += 1;
        if req.observe == Some(0) {
            let token = req.token.clone().unwrap_or_else(|| self.token());
            let req = Request { token: Some(token.clone()), ..req };
            self.observations.push(Observation {
                handle: h,
                token,
                req: req.clone(),
                active: true,
                notifications: Vec::new(),
            });
            self.queue.push_back((h, req));
        } else {
            self.queue.push_back((h, req));
        }
        h
    }
    /// Read: GET with optional Accept.
    pub fn read(&mut self, path: &str, accept: Option<u16>) -> RequestHandle {
        let mut r = Request::get(path);
        r.accept = accept;
        self.request(r)
    }
    /// Write (replace): PUT with a payload.
    pub fn write(&mut self, path: &str, content_format: u16, payload: Vec<u8>) -> RequestHandle {
        self.request(Request::put(path).body(content_format, payload))
    }
    /// Write (partial update): POST with a payload.
    pub fn write_partial(
        &mut self,
        path: &str,
        content_format: u16,
        payload: Vec<u8>,
    ) -> RequestHandle {
        self.request(Request::post(path).body(content_format, payload))
    }
    /// Write of a plain-text value (PUT, content format 0).
    pub fn write_text(&mut self, path: &str, value: &str) -> RequestHandle {
        self.write(path, cf::TEXT, value.as_bytes().to_vec())
    }
    /// Execute: POST, optional plain-text arguments.
    pub fn execute(&mut self, path: &str, args: Option<&str>) -> RequestHandle {
        let mut r = Request::post(path);
        if let Some(a) = args {
            r = r.body(cf::TEXT, a.as_bytes().to_vec());
        }
        self.request(r)
    }
    /// Discover: GET with Accept 40.
    pub fn discover(&mut self, path: &str) -> RequestHandle {
        self.request(Request::get(path).accept(cf::LINK_FORMAT))
    }
    /// Write-Attributes: PUT with Uri-Query values such as `"pmin=10"`, `"gt=20.5"`, `"st"`.
    pub fn write_attributes(&mut self, path: &str, attrs: &[&str]) -> RequestHandle {
        let mut r = Request::put(path);
        r.queries = attrs.iter().map(|s| s.to_string()).collect();
        self.request(r)
    }
    /// Create: POST to an object path with a payload.
    pub fn create(&mut self, path: &str, content_format: u16, payload: Vec<u8>) -> RequestHandle {
        self.request(Request::post(path).body(content_format, payload))
    }
    /// Delete.
    pub fn delete(&mut self, path: &str) -> RequestHandle {
        self.request(Request::delete(path))
    }
    /// Observe: GET with Observe=0. Notifications are collected under the returned handle.
    pub fn observe(&mut self, path: &str, accept: Option<u16>) -> RequestHandle {
        let mut r = Request::get(path).observe(0);
        r.accept = accept;
        self.request(r)
    }
    /// Cancel-Observe: GET with Observe=1 and the observation's token. Later notifications
    /// of that observation count as unknown.
    pub fn cancel_observe(&mut self, observation: RequestHandle) -> RequestHandle {
        let o = self
            .observations
            .iter_mut()
            .find(|o| o.handle == observation)
            .expect("cancel_observe: not an observation handle");
        o.active = false;
        let req = Request { observe: Some(1), token: Some(o.token.clone()), ..o.req.clone() };
        self.request(req)
    }
    /// Forgets an observation locally (a "passive" cancel): its next notifications are unknown
    /// and get RST when [`Endpoint::set_reset_unknown_notifications`] is on.
    pub fn forget_observation(&mut self, observation: RequestHandle) {
        for o in self.observations.iter_mut().filter(|o| o.handle == observation) {
            o.active = false;
        }
    }

    /// The final response, once complete.
    pub fn response(&self, h: RequestHandle) -> Option<Response> {
        self.responses.get(&h).cloned()
    }
    /// Queued or in flight?
    pub fn is_pending(&self, h: RequestHandle) -> bool {
        self.queue.iter().any(|(q, _)| *q == h) || self.exchanges.iter().any(|e| e.handle == h)
    }
    /// Number of own requests queued or in flight.
    pub fn pending_count(&self) -> usize {
        self.queue.len() + self.exchanges.iter().filter(|e| e.notif.is_none()).count()
    }
    /// Notifications received so far for an observation.
    pub fn notifications(&self, observation: RequestHandle) -> Vec<Notification> {
        self.observations
            .iter()
            .find(|o| o.handle == observation)
            .map(|o| o.notifications.clone())
            .unwrap_or_default()
    }
    /// Drains the notifications of an observation.
    pub fn take_notifications(&mut self, observation: RequestHandle) -> Vec<Notification> {
        self.observations
            .iter_mut()
            .find(|o| o.handle == observation)
            .map(|o| std::mem::take(&mut o.notifications))
            .unwrap_or_default()
    }
    /// The token used by a request (once sent) or observation.
    pub fn token_of(&self, h: RequestHandle) -> Option<Vec<u8>> {
        self.observations
            .iter()
            .find(|o| o.handle == h)
            .map(|o| o.token.clone())
            .or_else(|| self.exchanges.iter().find(|e| e.handle == h).map(|e| e.token.clone()))
    }

    // ----- internals -------------------------------------------------------------------------

    fn mid(&mut self) -> u16 {
        let m = self.next_mid;
        self.next_mid = self.next_mid.wrapping_add(1);
        m
    }

    fn token(&mut self) -> Vec<u8> {
        let t = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        t.to_be_bytes()[8 - self.token_len..].to_vec()
    }

    fn emit(&mut self, bytes: Vec<u8>) {
        self.sent.push(bytes.clone());
        self.outbox.push(bytes);
    }

    fn release(&mut self) {
        while self.exchanges.iter().filter(|e| e.notif.is_none()).count() < self.nstart {
            let Some((h, req)) = self.queue.pop_front() else { break };
            let token = req.token.clone().unwrap_or_else(|| self.token());
            let b1 = if req.payload.len() > 16usize << self.block1_szx {
                Some((0, 16usize << self.block1_szx, self.block1_szx))
            } else {
                None
            };
            let b2 = if req.code == Code::GET {
                self.block2_szx.map(|szx| Block { num: 0, more: false, szx })
            } else {
                None
            };
            let mut ex = Exchange {
                handle: h,
                req,
                token,
                mid: 0,
                bytes: Vec::new(),
                acked: false,
                b1,
                b2_payload: Vec::new(),
                b2_count: 0,
                first: None,
                requests: 0,
                notif: None,
            };
            self.transmit(&mut ex, b2, true);
            self.exchanges.push(ex);
        }
    }

    /// Builds and emits the current datagram of an exchange with a new message id.
    fn transmit(&mut self, ex: &mut Exchange, block2: Option<Block>, with_observe: bool) {
        let mid = self.mid();
        let req = &ex.req;
        let mtype = if req.non_confirmable { MsgType::Non } else { MsgType::Con };
        let mut m = Msg::new(mtype, req.code, mid, &ex.token).path(&req.path);
        for q in &req.queries {
            m = m.query(q);
        }
        if let (Some(o), true) = (req.observe, with_observe) {
            m = m.observe(o);
        }
        if let Some(a) = req.accept {
            m = m.accept(a);
        }
        if block2.is_none() {
            if let Some(c) = req.content_format {
                m = m.content_format(c);
            }
            match ex.b1 {
                Some((off, len, szx)) => {
                    let end = (off + len).min(req.payload.len());
                    let more = end < req.payload.len();
                    let num = (off / (16usize << szx)) as u32;
                    m = m.block1(Block { num, more, szx }).payload(&req.payload[off..end]);
                    if off == 0 {
                        m = m.option_uint(opt::SIZE1, req.payload.len() as u32);
                    }
                }
                None => m = m.payload(&req.payload),
            }
        }
        if let Some(b) = block2 {
            m = m.block2(b);
        }
        let bytes = m.to_bytes();
        ex.mid = mid;
        ex.bytes = bytes.clone();
        ex.acked = false;
        ex.requests += 1;
        self.emit(bytes);
    }

    fn on_client_request(&mut self, r: &Received, on_request: &mut dyn FnMut(&Received) -> Reply) {
        let mut reply;
        // Block1 reassembly of large client requests (e.g. a long Register payload).
        if let Some(b1) = r.block1 {
            let key = format!("{:?} {} {:?}", r.code, r.path_str(), r.queries);
            let continues =
                matches!(&self.block1_rx, Some((k, buf)) if *k == key && buf.len() == b1.offset());
            if !continues {
                if b1.num != 0 {
                    self.anomalies.push(format!("unexpected Block1 {b1:?} for {}", r.path_str()));
                    self.reply_to(r, Reply::code(Code::REQUEST_ENTITY_INCOMPLETE));
                    return;
                }
                self.block1_rx = Some((key, Vec::new()));
            }
            let buf = &mut self.block1_rx.as_mut().expect("set above").1;
            buf.extend_from_slice(&r.payload);
            if b1.more {
                reply = Reply::code(Code::CONTINUE);
            } else {
                let whole = self.block1_rx.take().map(|(_, b)| b).unwrap_or_default();
                let full = Received { payload: whole, ..r.clone() };
                reply = on_request(&full);
            }
            reply.options.push((opt::BLOCK1, b1.encode()));
        } else {
            reply = on_request(r);
        }
        self.reply_to(r, reply);
    }

    fn reply_to(&mut self, r: &Received, reply: Reply) {
        let build = |mtype, mid| {
            let mut m = Msg::new(mtype, reply.code, mid, &r.token).payload(&reply.payload);
            m.options = reply.options.clone();
            m
        };
        match r.mtype {
            MsgType::Con if self.separate => {
                self.emit(Msg::empty_ack(r.mid).to_bytes());
                self.held.push(build(MsgType::Con, 0));
            }
            MsgType::Con => self.emit(build(MsgType::Ack, r.mid).to_bytes()),
            _ => {
                let mid = self.mid();
                self.emit(build(MsgType::Non, mid).to_bytes());
            }
        }
    }

    fn on_empty(&mut self, r: &Received) {
        match r.mtype {
            MsgType::Ack => {
                if let Some(e) = self.exchanges.iter_mut().find(|e| e.mid == r.mid && !e.acked) {
                    e.acked = true;
                } else {
                    self.unacked_separate.retain(|(m, _)| *m != r.mid);
                }
            }
            MsgType::Rst => {
                if let Some(i) = self.exchanges.iter().position(|e| e.mid == r.mid) {
                    let ex = self.exchanges.remove(i);
                    self.finish(ex, r, true);
                } else if let Some(i) = self.unacked_separate.iter().position(|(m, _)| *m == r.mid)
                {
                    self.unacked_separate.remove(i);
                    self.anomalies.push(format!("RST to separate response mid {}", r.mid));
                }
            }
            // CON/NON 0.00 ("CoAP ping"): answer with RST as RFC 7252 §4.3 allows.
            _ => self.emit(Msg::rst(r.mid).to_bytes()),
        }
    }

    fn on_response(&mut self, r: &Received) {
        match r.mtype {
            MsgType::Ack => {
                let Some(i) = self.exchanges.iter().position(|e| e.mid == r.mid && !e.acked) else {
                    return; // a duplicate or stale ACK: recorded, otherwise ignored
                };
                if self.exchanges[i].token != r.token {
                    self.anomalies.push(format!(
                        "piggybacked response mid {} with token {:02X?}, expected {:02X?}",
                        r.mid, r.token, self.exchanges[i].token
                    ));
                    return;
                }
                let ex = self.exchanges.remove(i);
                self.progress(ex, r);
            }
            MsgType::Con | MsgType::Non => {
                let observed = |t: &[u8]| {
                    self.observations.iter().any(|o| o.active && o.token.as_slice() == t)
                };
                // A separate response matches an exchange by token, unless the token belongs
                // to a live observation (then it is a notification) or it carries Observe while
                // the exchange is a cancel (a late notification, not the cancel's response).
                let idx = self.exchanges.iter().position(|e| {
                    e.token == r.token
                        && (e.acked || !observed(&e.token))
                        && !(e.req.observe == Some(1) && r.observe.is_some())
                });
                if r.mtype == MsgType::Con {
                    let ack_or_rst = if idx.is_none() && self.reset_unknown && !observed(&r.token) {
                        Msg::rst(r.mid)
                    } else {
                        Msg::empty_ack(r.mid)
                    };
                    self.emit(ack_or_rst.to_bytes());
                }
                if let Some(i) = idx {
                    let ex = self.exchanges.remove(i);
                    self.progress(ex, r);
                } else if let Some(oi) =
                    self.observations.iter().position(|o| o.active && o.token == r.token)
                {
                    self.notification(oi, r);
                } else if r.mtype == MsgType::Non && self.reset_unknown {
                    self.emit(Msg::rst(r.mid).to_bytes());
                }
            }
            MsgType::Rst => {}
        }
    }

    fn notification(&mut self, oi: usize, r: &Received) {
        let more = r.code.is_success() && r.block2.is_some_and(|b| b.more);
        let n = Notification {
            mtype: r.mtype,
            mid: r.mid,
            code: r.code,
            observe: r.observe,
            content_format: r.content_format,
            payload: r.payload.clone(),
            complete: !more,
        };
        let obs = &mut self.observations[oi];
        obs.notifications.push(n);
        if !r.code.is_success() {
            obs.active = false;
        }
        if more {
            let b = r.block2.expect("checked");
            let ni = obs.notifications.len() - 1;
            let req = Request { observe: None, token: None, ..obs.req.clone() };
            let handle = obs.handle;
            let token = self.token();
            let mut ex = Exchange {
                handle,
                req,
                token,
                mid: 0,
                bytes: Vec::new(),
                acked: false,
                b1: None,
                b2_payload: r.payload.clone(),
                b2_count: 1,
                first: Some(r.clone()),
                requests: 0,
                notif: Some((oi, ni)),
            };
            self.transmit(&mut ex, Some(Block { num: b.num + 1, more: false, szx: b.szx }), false);
            self.exchanges.push(ex);
        }
    }

    /// A response arrived for `ex`: continue the block-wise transfer or finish.
    fn progress(&mut self, mut ex: Exchange, r: &Received) {
        // Block1: next block on 2.31 Continue.
        if let Some((off, len, szx)) = ex.b1 {
            let sent_end = (off + len).min(ex.req.payload.len());
            if r.code == Code::CONTINUE && sent_end < ex.req.payload.len() {
                let new_szx = match r.block1 {
                    Some(b) if b.szx < szx => b.szx,
                    _ => szx,
                };
                if sent_end % (16usize << new_szx) != 0 {
                    self.anomalies.push(format!("Block1 szx {new_szx} does not divide {sent_end}"));
                }
                ex.b1 = Some((sent_end, 16usize << new_szx, new_szx));
                self.transmit(&mut ex, None, true);
                self.exchanges.push(ex);
                return;
            }
        }
        // Block2: fetch the next block.
        if let (Some(b), true) = (r.block2, r.code.is_success()) {
            if b.offset() != ex.b2_payload.len() {
                self.anomalies.push(format!(
                    "Block2 {b:?} at offset {} but {} bytes received",
                    b.offset(),
                    ex.b2_payload.len()
                ));
            }
            ex.b2_payload.extend_from_slice(&r.payload);
            ex.b2_count += 1;
            if ex.first.is_none() {
                ex.first = Some(r.clone());
            }
            if b.more {
                let observe_follow_up = ex.req.observe.is_some();
                if observe_follow_up {
                    // Follow-ups of an Observe request must not re-register: fresh token.
                    ex.token = self.token();
                }
                let next = Block { num: b.num + 1, more: false, szx: b.szx };
                self.transmit(&mut ex, Some(next), false);
                self.exchanges.push(ex);
                return;
            }
        }
        self.finish(ex, r, false);
    }

    fn finish(&mut self, ex: Exchange, r: &Received, reset: bool) {
        let first = ex.first.clone().unwrap_or_else(|| r.clone());
        let payload = if ex.b2_count > 0 { ex.b2_payload } else { r.payload.clone() };
        if let Some((oi, ni)) = ex.notif {
            if let Some(n) = self.observations.get_mut(oi).and_then(|o| o.notifications.get_mut(ni))
            {
                n.payload = payload;
                n.complete = true;
            }
            return;
        }
        let resp = Response {
            code: if reset { Code::EMPTY } else { r.code },
            reset,
            mtype: r.mtype,
            content_format: first.content_format,
            observe: first.observe,
            location_path: r.location_path.clone(),
            payload,
            block2_count: ex.b2_count,
            request_count: ex.requests,
            separate: r.mtype != MsgType::Ack,
        };
        if ex.req.observe == Some(0) {
            let established = !reset && r.code.is_success() && first.observe.is_some();
            if !established {
                for o in self.observations.iter_mut().filter(|o| o.handle == ex.handle) {
                    o.active = false;
                }
            }
        }
        self.responses.insert(ex.handle, resp);
    }
}

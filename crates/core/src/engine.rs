//! The sans-IO engine: inputs in (datagrams, connection results, time), outputs out (datagrams,
//! actions, the next deadline). Same inputs, same outputs.

use heapless::Vec;
use lwm2m_coap::{
    Code, DedupCache, Instant, Message, MessageIds, MsgType, RetransmitDecision, Rng, Token,
};
use lwm2m_formats::Path;
use lwm2m_objects::{Caller, Ctx, Effect, Registry};

use crate::accounts;
use crate::attributes::{Attr, AttributeStore, Attrs};
use crate::config::{Config, MAX_OBSERVATIONS, MAX_SESSIONS};
use crate::event::{Action, ConnId, Event, Failure};
use crate::hash::HashSink;
use crate::message::{self, Head, Registration, To};
use crate::observe::{self, Observation};
use crate::request::Block1;
use crate::session::{AfterDeregister, Control, Exchange, Inflight, Phase, Role, Session};

/// Queued actions; the driver drains them after every input.
const MAX_ACTIONS: usize = 8;
/// Confirmable requests remembered for duplicate detection. A server sends its next request
/// only once the previous one is answered (NSTART = 1), so a retransmitted request finds at
/// most a request or two of the other session after it: eight cover that with room to spare.
const DEDUP_ENTRIES: usize = 8;

/// The LwM2M client engine. See the crate docs for the driving loop.
#[derive(Debug)]
pub struct Engine {
    pub(crate) config: Config,
    pub(crate) registry: Registry,
    pub(crate) sessions: [Session; MAX_SESSIONS],
    pub(crate) observations: Vec<Observation, MAX_OBSERVATIONS>,
    pub(crate) attrs: AttributeStore,
    pub(crate) block1: Block1,
    pub(crate) rng: Rng,
    pub(crate) mids: MessageIds,
    pub(crate) dedup: DedupCache<DEDUP_ENTRIES>,
    /// Oldest first.
    actions: Vec<Action, MAX_ACTIONS>,
    /// Where empty ACK/RST messages are built (4 bytes each).
    control: [u8; 4],
    /// A session whose Bootstrap-Finish reply is being sent.
    finish_bootstrap_pending: Option<u8>,
}

/// Where the datagram `poll_transmit` hands out lives.
#[derive(Debug, Clone, Copy)]
enum Outgoing {
    Control(usize),
    Reply,
    Request,
}

/// Time before lifetime expiry at which the Update goes out: long enough for a full CON
/// retransmission sequence (MAX_TRANSMIT_WAIT, 93 s) or a tenth of the lifetime, whichever is
/// longer, but never more than half the lifetime.
pub fn update_margin_s(lifetime_s: u32, max_transmit_wait_ms: u64) -> u32 {
    let (q, r) = lwm2m_coap::div_rem_u64(max_transmit_wait_ms, 1000);
    let wait_s = u32::try_from(q + u64::from(r != 0)).unwrap_or(u32::MAX);
    (lifetime_s / 10).max(wait_s).min(lifetime_s / 2)
}

impl Engine {
    /// A new engine over `registry` (whose Security/Server objects say where to connect).
    /// `seed` feeds message ids, tokens and retransmission jitter.
    #[inline(never)]
    pub fn new(config: Config, registry: Registry, seed: u64) -> Engine {
        let mut rng = Rng::new(seed);
        let mids = MessageIds::new(rng.next_u32() as u16);
        Engine {
            config,
            registry,
            sessions: core::array::from_fn(|i| Session::new(ConnId(i as u8))),
            observations: Vec::new(),
            attrs: AttributeStore::new(),
            block1: Block1::new(),
            rng,
            mids,
            dedup: DedupCache::new(),
            actions: Vec::new(),
            control: [0; 4],
            finish_bootstrap_pending: None,
        }
    }

    /// The objects, for reading state.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Changes objects (application setters, modem values), then reacts to what changed:
    /// observations are re-evaluated, registration updates scheduled.
    pub fn with_registry<R>(&mut self, now: Instant, f: impl FnOnce(&mut Registry) -> R) -> R {
        let r = f(&mut self.registry);
        self.drain_effects(now);
        self.check_observations(now);
        r
    }

    /// The URI of the server behind Security instance `security_instance` (for `Action::Connect`).
    pub fn server_uri(&self, security_instance: u16) -> Option<&str> {
        accounts::uri(&self.registry, security_instance)
    }

    /// The engine configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Connects to the servers the Security/Server objects name, or bootstraps when there are
    /// none. Also used to retry after a failure.
    pub fn start(&mut self, now: Instant) {
        let servers = accounts::servers(&self.registry);
        if servers.is_empty() {
            self.bootstrap(now);
            return;
        }
        for (i, acc) in servers.iter().enumerate() {
            let Some(session) = self.sessions.get_mut(i) else { break };
            if session.phase != Phase::Idle {
                continue;
            }
            session.reset();
            session.role = Some(Role::Server {
                security_instance: acc.security_instance,
                short_id: acc.short_id,
            });
            session.phase = Phase::Connecting;
            let conn = session.conn;
            self.push_action(Action::Connect { conn, security_instance: acc.security_instance });
        }
    }

    /// Starts a client-initiated bootstrap (closing any open session first).
    pub fn bootstrap(&mut self, _now: Instant) {
        let Some(security_instance) = accounts::bootstrap_server(&self.registry) else {
            self.push_action(Action::Event(Event::BootstrapFailed(Failure::Protocol)));
            return;
        };
        for i in 0..MAX_SESSIONS {
            self.close_session(i);
        }
        if let Some(session) = self.sessions.get_mut(0) {
            session.role = Some(Role::Bootstrap { security_instance });
            session.phase = Phase::Connecting;
            let conn = session.conn;
            self.push_action(Action::Connect { conn, security_instance });
        }
    }

    /// De-registers from every server; sessions close when the servers answered (or not).
    pub fn deregister(&mut self, _now: Instant) {
        for s in self.sessions.iter_mut() {
            if s.is_registered() {
                s.phase = Phase::Deregistering;
                s.after_deregister = AfterDeregister::Close;
            }
        }
    }

    /// Drops every session without a word to the servers (the link went down under them);
    /// `start` registers again.
    pub fn close_all(&mut self) {
        for i in 0..MAX_SESSIONS {
            self.close_session(i);
        }
    }

    /// True when every configured server session is registered.
    pub fn is_registered(&self) -> bool {
        let mut any = false;
        for s in &self.sessions {
            if s.role.is_some() {
                if !s.is_registered() {
                    return false;
                }
                any = true;
            }
        }
        any
    }

    /// The port opened `conn`.
    pub fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        let lifetime = |reg: &Registry, id| accounts::lifetime_s(reg, id);
        let Some(i) = self.index(conn) else { return };
        let registry = &self.registry;
        let Some(s) = self.sessions.get_mut(i) else { return };
        if s.phase != Phase::Connecting {
            return;
        }
        s.phase = match s.role {
            Some(Role::Bootstrap { .. }) => Phase::BootstrapRequest,
            Some(Role::Server { short_id, .. }) => {
                s.lifetime_s = lifetime(registry, short_id);
                s.binding = accounts::binding(registry, short_id, &self.config.default_binding);
                Phase::Registering
            }
            None => return,
        };
        let _ = now;
    }

    /// The port could not open `conn`.
    pub fn handle_connect_failed(&mut self, _now: Instant, conn: ConnId) {
        let Some(i) = self.index(conn) else { return };
        self.fail_session(i, Failure::Connect);
    }

    /// A datagram arrived on `conn`. Anything malformed is dropped or refused; nothing panics.
    pub fn handle_datagram(&mut self, now: Instant, conn: ConnId, datagram: &[u8]) {
        let Some(i) = self.index(conn) else { return };
        if self.sessions.get(i).is_some_and(|s| s.role.is_none()) {
            return;
        }
        // Matched by reference: moving the parsed message out of the Result copies it.
        let parsed = Message::parse(datagram);
        let msg = match &parsed {
            Ok(m) => m,
            Err(_) => {
                // A confirmable message we cannot parse is rejected with RST (RFC 7252 §4.2);
                // the header is enough to know that much.
                if let (Some(&first), Some(hi), Some(lo)) =
                    (datagram.first(), datagram.get(2), datagram.get(3))
                {
                    if first >> 6 == 1 && (first >> 4) & 3 == 0 {
                        let mid = u16::from_be_bytes([*hi, *lo]);
                        if let Some(s) = self.sessions.get_mut(i) {
                            s.queue_control(Control::Rst(mid));
                        }
                    }
                }
                return;
            }
        };
        match (msg.mtype, msg.code) {
            (MsgType::Ack, _) | (MsgType::Rst, _) => self.on_ack_or_rst(now, i, msg),
            (_, code) if code.is_request() => self.on_request(now, i, msg),
            (_, code) if code.is_response() => self.on_separate_response(now, i, msg),
            // CoAP ping (empty CON) is answered with RST (RFC 7252 §4.3).
            (MsgType::Con, _) => {
                if let Some(s) = self.sessions.get_mut(i) {
                    s.queue_control(Control::Rst(msg.mid));
                }
            }
            _ => {}
        }
        self.drain_effects(now);
        self.check_observations(now);
    }

    /// Timers: retransmissions, registration updates, bootstrap timeout, notifications.
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..MAX_SESSIONS {
            self.session_timers(now, i);
        }
        self.check_observations(now);
    }

    /// The next datagram to send on its connection. Call until it returns `None`.
    ///
    /// The bytes live in the engine (the request kept for retransmission, the reply kept for
    /// duplicates): the driver needs no transmit buffer of its own.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<(ConnId, &[u8])> {
        self.complete_bootstrap(now);
        for i in 0..MAX_SESSIONS {
            if let Some(out) = self.transmit_from(now, i) {
                let s = self.sessions.get(i)?;
                let bytes = match out {
                    Outgoing::Control(len) => self.control.get(..len)?,
                    Outgoing::Reply => s.reply.as_slice(),
                    Outgoing::Request => s.request.as_slice(),
                };
                return Some((s.conn, bytes));
            }
        }
        None
    }

    /// The next action for the driver. Call until it returns `None`.
    pub fn poll_action(&mut self, now: Instant) -> Option<Action> {
        self.complete_bootstrap(now);
        lwm2m_objects::vecs::pop_front(&mut self.actions)
    }

    /// Finishes a bootstrap whose Bootstrap-Finish reply has gone out.
    fn complete_bootstrap(&mut self, now: Instant) {
        if let Some(i) = self.finish_bootstrap_pending.take().map(usize::from) {
            self.close_session(i);
            self.push_action(Action::Event(Event::Bootstrapped));
            if self.config.register_after_bootstrap {
                self.start(now);
            }
        }
    }

    /// When `handle_timeout` must be called next, if anything is scheduled.
    pub fn poll_at(&self) -> Option<Instant> {
        let mut at: Option<Instant> = None;
        let mut consider = |t: Instant| at = Some(at.map_or(t, |a| a.min(t)));
        for s in &self.sessions {
            if let Some(f) = &s.inflight {
                consider(if f.acknowledged {
                    f.separate_deadline
                } else {
                    f.retransmission.deadline()
                });
            }
            match s.phase {
                Phase::Registered { update_at } if !s.update.due => consider(update_at),
                Phase::BootstrapServing { deadline } => consider(deadline),
                Phase::Disabled { until } => consider(until),
                _ => {}
            }
        }
        // A notification already decided waits for the exchange in flight, not for a time:
        // its pmax deadline is behind it and would make the driver spin.
        for o in self.observations.iter().filter(|o| !o.pending) {
            let attrs = self.observation_attrs(o);
            if let Some(t) = observe::next_check(&attrs, o.last_sent, o.dirty) {
                consider(t);
            }
        }
        at
    }

    // ----- internals -----

    pub(crate) fn push_action(&mut self, action: Action) {
        // The driver drains after every input; a full queue means it does not. Keep the
        // newest: events describe the current state.
        lwm2m_objects::vecs::push_evicting(&mut self.actions, action);
    }

    fn index(&self, conn: ConnId) -> Option<usize> {
        self.sessions.iter().position(|s| s.conn == conn)
    }

    pub(crate) fn caller(&self, i: usize) -> Option<Caller> {
        match self.sessions.get(i)?.role? {
            Role::Bootstrap { .. } => Some(Caller::Bootstrap),
            Role::Server { short_id, .. } => Some(Caller::Server { short_id }),
        }
    }

    fn close_session(&mut self, i: usize) {
        let Some(s) = self.sessions.get_mut(i) else { return };
        if s.role.is_none() {
            return;
        }
        let conn = s.conn;
        if let Some(short_id) = s.short_id() {
            lwm2m_objects::vecs::retain(&mut self.observations, |o| o.short_id != short_id);
            self.attrs.clear_server(short_id);
        }
        s.reset();
        self.push_action(Action::Close { conn });
    }

    fn fail_session(&mut self, i: usize, failure: Failure) {
        let event = match self.sessions.get(i).and_then(|s| s.role) {
            Some(Role::Bootstrap { .. }) => Event::BootstrapFailed(failure),
            Some(Role::Server { short_id, .. }) => Event::RegistrationFailed { short_id, failure },
            None => return,
        };
        self.close_session(i);
        self.push_action(Action::Event(event));
    }

    fn session_timers(&mut self, now: Instant, i: usize) {
        let tx = self.config.tx;
        let Some(s) = self.sessions.get_mut(i) else { return };
        let mut give_up = false;
        if let Some(f) = s.inflight.as_mut() {
            if f.acknowledged {
                give_up = now >= f.separate_deadline;
            } else if now >= f.retransmission.deadline() {
                match f.retransmission.on_timeout(now, &tx) {
                    RetransmitDecision::Resend => f.resend = true,
                    RetransmitDecision::GiveUp => give_up = true,
                }
            }
        }
        match s.phase {
            Phase::Registered { update_at } if now >= update_at => s.update.due = true,
            Phase::BootstrapServing { deadline } if now >= deadline => {
                self.fail_session(i, Failure::Protocol);
                return;
            }
            Phase::Disabled { until } if now >= until => {
                s.phase = Phase::Connecting;
                let (conn, security_instance) = (s.conn, s.role.map(|r| r.security_instance()));
                if let Some(security_instance) = security_instance {
                    self.push_action(Action::Connect { conn, security_instance });
                }
                return;
            }
            _ => {}
        }
        if give_up {
            self.exchange_timed_out(now, i);
        }
    }

    /// The request in flight got no answer.
    fn exchange_timed_out(&mut self, now: Instant, i: usize) {
        let Some(s) = self.sessions.get_mut(i) else { return };
        let Some(f) = s.inflight.take() else { return };
        // RFC 7641 §4.5: an unacknowledged notification ends the observation. The server may be
        // gone altogether: an Update tells.
        if self.exchange_failed(now, i, f.exchange, Failure::Timeout) {
            if let Some(s) = self.sessions.get_mut(i) {
                s.update.due = true;
            }
        }
    }

    /// The exchange of session `i` ended without a response (timeout or RST): a notification
    /// ends its observation (true is returned), a De-register completes, anything else fails
    /// the session with `failure`.
    fn exchange_failed(
        &mut self,
        now: Instant,
        i: usize,
        exchange: Exchange,
        failure: Failure,
    ) -> bool {
        match exchange {
            Exchange::Notify { obs } => {
                self.remove_observation_at(obs);
                return true;
            }
            Exchange::Deregister => self.after_deregistered(now, i),
            _ => self.fail_session(i, failure),
        }
        false
    }

    fn remove_observation_at(&mut self, idx: usize) {
        if idx < self.observations.len() {
            lwm2m_objects::vecs::swap_remove(&mut self.observations, idx);
            // swap_remove moved the last observation into `idx`: fix exchanges pointing at it.
            let moved_from = self.observations.len();
            for s in self.sessions.iter_mut() {
                if let Some(Inflight { exchange: Exchange::Notify { obs }, .. }) =
                    s.inflight.as_mut()
                {
                    if *obs == moved_from {
                        *obs = idx;
                    }
                }
            }
        }
    }

    fn on_ack_or_rst(&mut self, now: Instant, i: usize, msg: &Message<'_>) {
        let Some(s) = self.sessions.get_mut(i) else { return };
        let Some(f) = s.inflight.as_mut() else { return };
        if f.mid != msg.mid {
            return; // late or foreign: already handled or never ours.
        }
        if msg.mtype == MsgType::Rst {
            let exchange = f.exchange;
            s.inflight = None;
            self.exchange_failed(now, i, exchange, Failure::Rejected(Code::EMPTY));
            return;
        }
        if msg.code == Code::EMPTY {
            if matches!(f.exchange, Exchange::Notify { .. }) {
                s.inflight = None; // an acknowledged notification is complete.
            } else {
                f.acknowledged = true;
                f.resend = false;
                f.separate_deadline = now.add_ms(self.config.tx.exchange_lifetime_ms());
            }
            return;
        }
        if msg.token != f.token {
            return;
        }
        let exchange = f.exchange;
        s.inflight = None;
        self.on_response(now, i, exchange, msg);
    }

    /// A response that came on its own after an empty ACK (RFC 7252 §5.2.2).
    fn on_separate_response(&mut self, now: Instant, i: usize, msg: &Message<'_>) {
        let Some(s) = self.sessions.get_mut(i) else { return };
        let ours = s.inflight.as_ref().is_some_and(|f| f.token == msg.token);
        if msg.mtype == MsgType::Con {
            s.queue_control(if ours { Control::Ack(msg.mid) } else { Control::Rst(msg.mid) });
        }
        if !ours {
            return;
        }
        // A duplicate of a separate response we already took finds no exchange; fine.
        let Some(f) = s.inflight.take() else { return };
        self.on_response(now, i, f.exchange, msg);
    }

    fn on_response(&mut self, now: Instant, i: usize, exchange: Exchange, msg: &Message<'_>) {
        let success = msg.code.is_success();
        match exchange {
            Exchange::BootstrapRequest => {
                if msg.code == Code::CHANGED {
                    let deadline = now.add_ms(self.config.bootstrap_timeout_ms);
                    if let Some(s) = self.sessions.get_mut(i) {
                        s.phase = Phase::BootstrapServing { deadline };
                    }
                } else {
                    self.fail_session(i, Failure::Rejected(msg.code));
                }
            }
            Exchange::Register if msg.code == Code::CREATED => {
                let Some(s) = self.sessions.get_mut(i) else { return };
                s.location.clear();
                let mut ok = true;
                for seg in msg.location_path() {
                    ok &= s.location.push(seg);
                }
                if !ok || s.location.is_empty() {
                    self.fail_session(i, Failure::Protocol);
                    return;
                }
                self.registered(now, i, true);
            }
            Exchange::Register => self.fail_session(i, Failure::Rejected(msg.code)),
            Exchange::Update if success => self.registered(now, i, false),
            Exchange::Update => {
                // The server lost our registration (4.04) or refuses the update: register
                // again from scratch (LwM2M 1.0 §5.3.2).
                if let Some(s) = self.sessions.get_mut(i) {
                    s.phase = Phase::Registering;
                }
            }
            Exchange::Deregister => self.after_deregistered(now, i),
            Exchange::Notify { .. } => {}
        }
    }

    /// Registration (`register`) or update accepted: schedule the next update, tell the driver.
    fn registered(&mut self, now: Instant, i: usize, register: bool) {
        let links = self.links_hash();
        let max_wait = self.config.tx.max_transmit_wait_ms();
        let Some(s) = self.sessions.get_mut(i) else { return };
        let lifetime = s.lifetime_s;
        let margin = update_margin_s(lifetime, max_wait);
        let update_at = now.add_secs(lifetime.saturating_sub(margin));
        s.phase = Phase::Registered { update_at };
        s.update = Default::default();
        s.links_hash = links;
        if let Some(short_id) = s.short_id() {
            let event =
                if register { Event::Registered { short_id } } else { Event::Updated { short_id } };
            self.push_action(Action::Event(event));
        }
    }

    fn after_deregistered(&mut self, now: Instant, i: usize) {
        let Some(s) = self.sessions.get(i) else { return };
        let (next, short_id) = (s.after_deregister, s.short_id());
        if let Some(short_id) = short_id {
            self.push_action(Action::Event(Event::Deregistered { short_id }));
        }
        match next {
            AfterDeregister::Close => self.close_session(i),
            AfterDeregister::Bootstrap => {
                self.close_session(i);
                // Bootstrap once every session is down.
                if self.sessions.iter().all(|s| s.role.is_none()) {
                    self.bootstrap(now);
                }
            }
            AfterDeregister::Disable { timeout_s } => {
                let Some(s) = self.sessions.get_mut(i) else { return };
                s.inflight = None;
                s.phase = Phase::Disabled { until: now.add_secs(timeout_s) };
                let conn = s.conn;
                self.push_action(Action::Close { conn });
            }
        }
    }

    /// Hash of the registration links, to notice when an Update must carry them.
    fn links_hash(&self) -> u32 {
        let mut h = HashSink::new();
        // HashSink never overflows.
        let _ = self.registry.write_registration_links(&mut h);
        h.finish()
    }

    /// Acts on what the objects report after an operation.
    pub(crate) fn drain_effects(&mut self, now: Instant) {
        let mut servers_changed = false;
        while let Some(effect) = self.registry.take_effect() {
            // Most effects are reported as an event: one push for them all.
            let event = match effect {
                Effect::Reboot => Event::Reboot,
                Effect::FactoryReset => Event::FactoryReset,
                Effect::FirmwareUriWritten => Event::FirmwareUriWritten,
                Effect::FirmwareUpdate => Event::FirmwareUpdate,
                Effect::RegistrationUpdateTrigger { short_id } => {
                    if let Some(s) =
                        self.sessions.iter_mut().find(|s| s.short_id() == Some(short_id))
                    {
                        s.update.due = true;
                    }
                    continue;
                }
                Effect::BootstrapRequestTrigger { .. } => {
                    // Reported before the de-registrations it starts.
                    self.push_action(Action::Event(Event::BootstrapRequested));
                    self.rebootstrap(now);
                    continue;
                }
                Effect::Disable { short_id } => {
                    let timeout_s = accounts::disable_timeout_s(&self.registry, short_id);
                    if let Some(s) =
                        self.sessions.iter_mut().find(|s| s.short_id() == Some(short_id))
                    {
                        s.phase = Phase::Deregistering;
                        s.after_deregister = AfterDeregister::Disable { timeout_s };
                    }
                    Event::ServerDisabled { short_id, timeout_s }
                }
                Effect::Changed(path) => {
                    if path.object_id() == Some(1) {
                        servers_changed = true;
                    }
                    for o in self.observations.iter_mut() {
                        if o.overlaps(&path) {
                            o.dirty = true;
                        }
                    }
                    continue;
                }
            };
            self.push_action(Action::Event(event));
        }
        let links = self.links_hash();
        for s in self.sessions.iter_mut() {
            let Some(short_id) = s.short_id() else { continue };
            if !s.is_registered() {
                continue;
            }
            if s.links_hash != links {
                s.update.links = true;
            }
            if servers_changed {
                let lifetime = accounts::lifetime_s(&self.registry, short_id);
                if lifetime != s.lifetime_s {
                    s.lifetime_s = lifetime;
                    s.update.lifetime = true;
                }
                let binding =
                    accounts::binding(&self.registry, short_id, &self.config.default_binding);
                // Byte by byte: `!=` on strings links `memcmp`.
                if !binding.bytes().eq(s.binding.bytes()) {
                    s.binding = binding;
                    s.update.binding = true;
                }
            }
        }
    }

    /// A server asked for a new bootstrap: de-register everywhere, then bootstrap.
    fn rebootstrap(&mut self, now: Instant) {
        let mut any = false;
        for s in self.sessions.iter_mut() {
            if s.is_registered() {
                s.phase = Phase::Deregistering;
                s.after_deregister = AfterDeregister::Bootstrap;
                any = true;
            }
        }
        if !any {
            self.bootstrap(now);
        }
    }

    fn observation_attrs(&self, o: &Observation) -> Attrs {
        let attrs = self.attrs.effective(o.short_id, &o.path);
        let (pmin, pmax) = accounts::default_periods(&self.registry, o.short_id);
        let defaults = Attrs::default().with_secs(Attr::Pmin, pmin).with_secs(Attr::Pmax, pmax);
        attrs.inherit(&defaults)
    }

    /// Decides which observations are due a notification.
    #[inline(never)]
    pub(crate) fn check_observations(&mut self, now: Instant) {
        for idx in 0..self.observations.len() {
            let Some(o) = self.observations.get(idx) else { continue };
            if o.pending {
                continue;
            }
            let attrs = self.observation_attrs(o);
            let since = now.saturating_since(o.last_sent);
            let pmax_due =
                observe::next_check(&attrs, o.last_sent, false).is_some_and(|t| now >= t);
            if !o.dirty && !pmax_due {
                continue;
            }
            if o.dirty && !pmax_due && since < u64::from(attrs.pmin().unwrap_or(0)) * 1000 {
                continue; // wait for pmin; poll_at wakes us.
            }
            let ctx = Ctx { caller: Caller::Server { short_id: o.short_id }, now };
            let mut h = HashSink::new();
            let changed = match self.registry.read(&ctx, &o.path, o.accept, &mut h) {
                Ok(_) => h.finish() != o.last_hash,
                Err(_) => true, // gone: the notification carries the error and ends it.
            };
            let value = self.registry.numeric_value(&ctx, &o.path);
            let notify = observe::should_notify(&attrs, since, changed, o.last_value, value);
            if let Some(o) = self.observations.get_mut(idx) {
                o.dirty = false;
                o.pending = notify;
            }
        }
    }

    /// Prepares the next datagram of session `i`, if it has one, and says where it is.
    #[inline(never)]
    fn transmit_from(&mut self, now: Instant, i: usize) -> Option<Outgoing> {
        let s = self.sessions.get_mut(i)?;
        s.role?;
        if let Some(c) = lwm2m_objects::vecs::pop_front(&mut s.control) {
            let n = match c {
                Control::Ack(mid) => message::empty(&mut self.control, MsgType::Ack, mid),
                Control::Rst(mid) => message::empty(&mut self.control, MsgType::Rst, mid),
            };
            return Some(Outgoing::Control(n));
        }
        if s.reply_pending {
            s.reply_pending = false;
            if s.finish_bootstrap_after_reply {
                s.finish_bootstrap_after_reply = false;
                // The reply to Bootstrap-Finish lives in this session's buffer: close the
                // session at the next poll, once the driver has sent it.
                self.finish_bootstrap_pending = u8::try_from(i).ok();
            }
            return Some(Outgoing::Reply);
        }
        if let Some(f) = s.inflight.as_mut() {
            if f.resend {
                f.resend = false;
                return Some(Outgoing::Request);
            }
            return None;
        }
        if matches!(s.phase, Phase::Registered { .. }) && self.send_notification(now, i) {
            return Some(Outgoing::Request);
        }
        self.start_exchange(now, i).then_some(Outgoing::Request)
    }

    /// Starts the confirmable request the session's phase calls for, if any.
    fn start_exchange(&mut self, now: Instant, i: usize) -> bool {
        let Some(s) = self.sessions.get(i) else { return false };
        let exchange = match s.phase {
            Phase::BootstrapRequest => Exchange::BootstrapRequest,
            Phase::Registering => Exchange::Register,
            Phase::Registered { .. } if s.update.any() => Exchange::Update,
            Phase::Deregistering => Exchange::Deregister,
            _ => return false,
        };
        let mid = self.mids.next();
        let new_token = self.new_token();
        // Borrowed where it lies: unwrapping by value copies it.
        let token = new_token.as_ref().unwrap_or(&Token::EMPTY);
        let mut head = Head { mtype: MsgType::Con, code: lwm2m_coap::Code::POST, mid, token };
        let Some(s) = self.sessions.get_mut(i) else { return false };
        let endpoint = self.config.endpoint.as_str();
        let out = &mut s.request.bytes[..];
        let mut reg = Registration { endpoint, lifetime_s: None, binding: None, links: false };
        let to = match exchange {
            Exchange::BootstrapRequest => To::Bootstrap,
            Exchange::Register => {
                reg.lifetime_s = Some(s.lifetime_s);
                reg.binding = Some(s.binding.as_str());
                reg.links = true;
                To::Register
            }
            Exchange::Update => {
                reg.lifetime_s = s.update.lifetime.then_some(s.lifetime_s);
                reg.binding = s.update.binding.then_some(s.binding.as_str());
                reg.links = s.update.links;
                To::Location(&s.location)
            }
            Exchange::Deregister => {
                head.code = lwm2m_coap::Code::DELETE;
                To::Location(&s.location)
            }
            Exchange::Notify { .. } => return false,
        };
        let built = message::client_request(out, &head, to, &reg, &self.registry);
        let Ok(len) = built else {
            // Cannot happen with the configured sizes; do not spin on it.
            self.fail_session(i, Failure::Protocol);
            return false;
        };
        s.request.len = len;
        s.begin_inflight(now, &self.config.tx, &mut self.rng, exchange, mid, token);
        true
    }

    /// Always `Some`: 4 bytes fit a token.
    fn new_token(&mut self) -> Option<Token> {
        // 4 random bytes: enough to match responses on a secured session, cheap on air.
        let v = self.rng.next_u32();
        Token::from_slice(&v.to_be_bytes())
    }

    /// Builds one due notification of session `i` into its request buffer, if any is due.
    fn send_notification(&mut self, now: Instant, i: usize) -> bool {
        let Some(conn) = self.sessions.get(i).map(|s| s.conn) else { return false };
        let Some(idx) = self.observations.iter().position(|o| o.pending && o.conn == conn) else {
            return false;
        };
        let confirmable = self.config.confirmable_notifications;
        let mid = self.mids.next();
        let szx = self.config.block_szx;
        let Some(o) = self.observations.get_mut(idx) else { return false };
        o.pending = false;
        let seq = o.next_seq();
        let o = &*o; // read in place from here: no copies of its token and path
        let ctx = Ctx { caller: Caller::Server { short_id: o.short_id }, now };
        let mtype = if confirmable { MsgType::Con } else { MsgType::Non };
        let mut head = Head { mtype, code: Code::CONTENT, mid, token: &o.token };
        let (path, accept) = (&o.path, o.accept);
        let Some(s) = self.sessions.get_mut(i) else { return false };
        let out = &mut s.request.bytes[..];
        let result =
            message::content(out, &head, &self.registry, &ctx, path, accept, Some(seq), None, szx);
        let len = match result {
            Ok(len) => len,
            Err(code) => {
                // The path is gone: a final error notification ends the observation (RFC 7641 §3.2).
                (head.code, head.mtype) = (code, MsgType::Non);
                let len = message::code_only(out, &head);
                s.request.len = len;
                self.remove_observation_at(idx);
                return len > 0;
            }
        };
        s.request.len = len;
        if confirmable {
            let (tx, exchange) = (&self.config.tx, Exchange::Notify { obs: idx });
            s.begin_inflight(now, tx, &mut self.rng, exchange, mid, &o.token);
        }
        let mut h = HashSink::new();
        let _ = self.registry.read(&ctx, path, accept, &mut h);
        let value = self.registry.numeric_value(&ctx, path);
        if let Some(o) = self.observations.get_mut(idx) {
            o.last_sent = now;
            o.last_hash = h.finish();
            o.last_value = value;
        }
        true
    }

    /// Observation bookkeeping for an Observe request (RFC 7641 §3.1): a new entry replaces one
    /// with the same token or path from the same server. Returns the Observe value to send.
    pub(crate) fn add_observation(&mut self, now: Instant, obs: Observation) -> Option<u32> {
        let _ = now;
        lwm2m_objects::vecs::retain(&mut self.observations, |o| {
            !(o.conn == obs.conn && (o.token == obs.token || o.path == obs.path))
        });
        self.observations.push(obs).ok()?;
        Some(obs.seq)
    }

    pub(crate) fn cancel_observation(&mut self, conn: ConnId, token: &Token) {
        lwm2m_objects::vecs::retain(&mut self.observations, |o| {
            !(o.conn == conn && o.token == *token)
        });
    }

    /// Hash and numeric value of what `path` renders now, for a new observation; the read's
    /// error when it does not render.
    pub(crate) fn snapshot(
        &self,
        ctx: &Ctx,
        path: &Path,
        accept: Option<u16>,
    ) -> Result<(u32, Option<f32>), Code> {
        let mut h = HashSink::new();
        self.registry.read(ctx, path, accept, &mut h)?;
        Ok((h.finish(), self.registry.numeric_value(ctx, path)))
    }
}

//! A virtual world for scenario tests: the engine, the scripted servers of lwm2m-testkit (built on
//! coap-lite, not on the client's codec), a fault-injecting link each way, and a virtual clock.
//! Everything is deterministic: same seed, same run.

#![allow(dead_code)]

use lwm2m_carrier_core::coap::Instant;
use lwm2m_carrier_core::objects::security::{mode, SecurityInstance};
use lwm2m_carrier_core::objects::Registry;
use lwm2m_carrier_core::{Action, Config, ConnId, Engine, Event};
use lwm2m_testkit::{BootstrapServer, Link, ManagementServer, Received};

pub const BS_URI: &str = "coaps://bootstrap.test:5684";
pub const DM_URI: &str = "coaps://dm.test:5684";
pub const ENDPOINT: &str = "urn:imei:490154203237518";

/// Which scripted server a connection reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Bootstrap,
    Management,
}

/// One datagram seen on the wire, for assertions.
#[derive(Debug, Clone)]
pub struct Wire {
    pub at_ms: u64,
    pub to_server: bool,
    pub target: Target,
    pub bytes: Vec<u8>,
}

pub struct World {
    pub now: u64,
    pub engine: Engine,
    pub bs: BootstrapServer,
    pub dm: ManagementServer,
    /// Client to server: the target is fixed when the datagram leaves, as on a real socket.
    pub up: Link<(u8, Target, Vec<u8>)>,
    /// Server to client.
    pub down: Link<(u8, Vec<u8>)>,
    conns: [Option<Target>; 4],
    pub events: Vec<(u64, Event)>,
    pub wire: Vec<Wire>,
    /// Connections to these targets fail (DTLS handshake failure in a real port).
    pub refuse_connect: Vec<Target>,
    /// The scripted servers have no clock: when set, the world resends their unanswered CON
    /// requests this often, like an RFC 7252 server would.
    pub server_retransmit_ms: Option<u64>,
    next_server_retransmit: u64,
}

/// A registry as the factory leaves it: only the bootstrap account.
pub fn factory_registry() -> Registry {
    let mut registry = Registry::new();
    let mut bs = SecurityInstance::new(0);
    bs.set_uri(BS_URI).unwrap();
    bs.bootstrap = true;
    bs.mode = mode::PSK;
    bs.set_identity(ENDPOINT.as_bytes()).unwrap();
    bs.set_secret_key(&[0x11; 16]).unwrap();
    registry.security.put(bs).unwrap();
    registry
}

pub fn config() -> Config {
    Config::new(ENDPOINT).unwrap()
}

impl World {
    /// A factory-fresh device, a bootstrap server with the standard script (lifetime
    /// `lifetime_s`) and a management server.
    pub fn new(seed: u64, lifetime_s: i64) -> World {
        let script = BootstrapServer::standard_script(
            BS_URI,
            DM_URI,
            102,
            lifetime_s,
            ENDPOINT.as_bytes(),
            &[0x22; 16],
        );
        Self::with(Engine::new(config(), factory_registry(), seed), BootstrapServer::new(script))
    }

    pub fn with(engine: Engine, bs: BootstrapServer) -> World {
        World {
            now: 0,
            engine,
            bs,
            dm: ManagementServer::new(),
            up: Link::new(11),
            down: Link::new(12),
            conns: [None; 4],
            events: Vec::new(),
            wire: Vec::new(),
            refuse_connect: Vec::new(),
            server_retransmit_ms: None,
            next_server_retransmit: 0,
        }
    }

    pub fn instant(&self) -> Instant {
        Instant::from_millis(self.now)
    }

    pub fn start(&mut self) {
        let now = self.instant();
        self.engine.start(now);
        self.pump();
    }

    /// Moves everything that is due at `now` until nothing moves any more.
    pub fn pump(&mut self) {
        for _ in 0..10_000 {
            let now = self.instant();
            let mut progressed = false;
            progressed |= self.drain_transmits();
            while let Some(action) = self.engine.poll_action(now) {
                progressed = true;
                self.act(action);
            }
            for (conn, target, bytes) in self.up.deliver(self.now) {
                progressed = true;
                let replies = match target {
                    Target::Bootstrap => self.bs.handle(&bytes),
                    Target::Management => self.dm.handle(&bytes),
                };
                for r in replies {
                    self.down.send(self.now, (conn, r));
                }
            }
            for (i, target) in self.conns.into_iter().enumerate() {
                let out = match target {
                    Some(Target::Bootstrap) => self.bs.poll_outgoing(),
                    Some(Target::Management) => self.dm.poll_outgoing(),
                    None => continue,
                };
                for d in out {
                    progressed = true;
                    self.down.send(self.now, (i as u8, d));
                }
            }
            for (conn, bytes) in self.down.deliver(self.now) {
                progressed = true;
                if let Some(target) = self.conns.get(conn as usize).copied().flatten() {
                    self.wire.push(Wire {
                        at_ms: self.now,
                        to_server: false,
                        target,
                        bytes: bytes.clone(),
                    });
                    self.engine.handle_datagram(now, ConnId(conn), &bytes);
                    // A runner drains after every datagram it feeds in.
                    self.drain_transmits();
                }
            }
            if !progressed {
                return;
            }
        }
        panic!("the world does not settle: a livelock between client and servers");
    }

    /// Sends what the engine has to send; logs it as it leaves (before any loss).
    fn drain_transmits(&mut self) -> bool {
        let now = self.instant();
        let mut sent = false;
        while let Some((conn, datagram)) = self.engine.poll_transmit(now) {
            let bytes = datagram.to_vec();
            // A datagram on a connection that is not open is a client bug.
            let target = self.conns[conn.0 as usize].expect("sent on a closed connection");
            self.wire.push(Wire { at_ms: self.now, to_server: true, target, bytes: bytes.clone() });
            self.up.send(self.now, (conn.0, target, bytes));
            sent = true;
        }
        sent
    }

    fn act(&mut self, action: Action) {
        let now = self.instant();
        match action {
            Action::Connect { conn, security_instance } => {
                let uri = self.engine.server_uri(security_instance).unwrap_or("").to_owned();
                let target = if uri == BS_URI { Target::Bootstrap } else { Target::Management };
                if self.refuse_connect.contains(&target) {
                    self.engine.handle_connect_failed(now, conn);
                } else {
                    self.conns[conn.0 as usize] = Some(target);
                    self.engine.handle_connected(now, conn);
                }
            }
            Action::Close { conn } => self.conns[conn.0 as usize] = None,
            Action::Event(e) => self.events.push((self.now, e)),
        }
    }

    /// Advances virtual time to `until_ms`, firing every deadline on the way.
    pub fn advance_to(&mut self, until_ms: u64) {
        loop {
            self.pump();
            let server_rtx = self.server_retransmit_ms.map(|_| self.next_server_retransmit);
            let next = [
                self.engine.poll_at().map(|t| t.as_millis()),
                server_rtx,
                self.up.next_delivery(),
                self.down.next_delivery(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t <= until_ms => {
                    self.now = self.now.max(t);
                    self.engine.handle_timeout(self.instant());
                    self.server_retransmissions();
                    self.pump();
                    // A deadline that stays in the past after it was handled makes a real
                    // runner spin: the engine must always move it forward.
                    if let Some(at) = self.engine.poll_at() {
                        assert!(
                            at.as_millis() > self.now,
                            "poll_at {} ms is not after now {} ms once handled",
                            at.as_millis(),
                            self.now
                        );
                    }
                }
                _ => break,
            }
        }
        self.now = until_ms;
        self.engine.handle_timeout(self.instant());
        self.pump();
    }

    fn server_retransmissions(&mut self) {
        let Some(period) = self.server_retransmit_ms else { return };
        if self.now < self.next_server_retransmit {
            return;
        }
        self.next_server_retransmit = self.now + period;
        for (i, target) in self.conns.into_iter().enumerate() {
            let out = match target {
                Some(Target::Bootstrap) => self.bs.retransmit_pending(),
                Some(Target::Management) => self.dm.retransmit_pending(),
                None => continue,
            };
            for d in out {
                self.down.send(self.now, (i as u8, d));
            }
        }
    }

    pub fn advance(&mut self, ms: u64) {
        self.advance_to(self.now + ms);
    }

    /// Runs until an event matching `pred` happened, or panics after `limit_ms` of virtual time.
    pub fn run_until(&mut self, limit_ms: u64, pred: impl Fn(&Event) -> bool) -> u64 {
        let seen = self.events.len();
        self.run_until_since(seen, limit_ms, pred)
    }

    /// Like `run_until`, counting events from index `seen` of `self.events`.
    pub fn run_until_since(
        &mut self,
        seen: usize,
        limit_ms: u64,
        pred: impl Fn(&Event) -> bool,
    ) -> u64 {
        let deadline = self.now + limit_ms;
        while self.now < deadline {
            if let Some((t, _)) = self.events[seen..].iter().find(|(_, e)| pred(e)) {
                return *t;
            }
            let step = (self.now + 100).min(deadline);
            self.advance_to(step);
        }
        if let Some((t, _)) = self.events[seen..].iter().find(|(_, e)| pred(e)) {
            return *t;
        }
        panic!("event not reached within {limit_ms} ms; events: {:?}", self.events);
    }

    /// Bootstraps and registers a fresh device; returns the time registration completed.
    pub fn bootstrap_and_register(&mut self) -> u64 {
        let seen = self.events.len();
        self.start();
        self.run_until_since(seen, 60_000, |e| matches!(e, Event::Registered { .. }))
    }

    pub fn event_list(&self) -> Vec<Event> {
        self.events.iter().map(|(_, e)| *e).collect()
    }

    /// Client-to-server datagrams to `target`, parsed by the independent decoder.
    pub fn sent_to(&self, target: Target) -> Vec<(u64, Received)> {
        self.wire
            .iter()
            .filter(|w| w.to_server && w.target == target)
            .map(|w| {
                (w.at_ms, Received::parse(&w.bytes).expect("client sent a malformed datagram"))
            })
            .collect()
    }

    /// Client-to-server requests (not ACKs) to the management server, by method and path.
    pub fn requests_to_dm(&self) -> Vec<(u64, Received)> {
        self.sent_to(Target::Management).into_iter().filter(|(_, r)| r.is_request()).collect()
    }
}

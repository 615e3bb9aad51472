//! In-process LwM2M test servers on loopback for the simulator and the host tests: a
//! bootstrap server and a device-management server, each a thread serving DTLS-PSK
//! ([`DtlsServer`]) in front of the scripted, sans-IO servers of `lwm2m-testkit`. Those are
//! built on coap-lite, not on the client's codec, so that one bug cannot hide on both sides.
//!
//! Each thread: accept one DTLS session, then receive → `handle` → send the replies, send
//! what `poll_outgoing` has (requests queued by a test), and resend unanswered CONs every
//! `retransmit_every` (the sans-IO servers have no clock). Both servers live behind one
//! `Mutex` so tests can look at them and queue requests ([`TestServers::with`]).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use lwm2m_testkit::{
    BootstrapOp, BootstrapServer, ManagementServer, Registration, SecurityInstance, ServerInstance,
};

use crate::dtls::{DtlsConfig, DtlsConnection, DtlsServer};
use crate::error::TransportError;
use crate::psk::PskLookup;
use crate::server_settings::ServerSettings;

/// Short server id of the management server (Verizon's management server uses 102).
pub const MANAGEMENT_SSID: u16 = 102;

/// How long `accept` waits for a ClientHello before checking the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(100);
/// How long one receive in a session waits before the outgoing queue is looked at.
const SESSION_POLL: Duration = Duration::from_millis(10);

/// Settings of the pair of servers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServersConfig {
    /// Ports and keys (see [`ServerSettings`]).
    pub settings: ServerSettings,
    /// The device's endpoint name: the PSK identity written into its accounts.
    pub endpoint: String,
    /// Registration lifetime given to the device (Server object, resource 1).
    pub lifetime_s: u32,
    /// Server-side DTLS handshake limit (a failed handshake blocks the server this long).
    pub handshake_timeout: Duration,
    /// How often unanswered server requests are resent.
    pub retransmit_every: Duration,
}

impl ServersConfig {
    pub fn new(settings: ServerSettings, endpoint: &str) -> ServersConfig {
        ServersConfig {
            settings,
            endpoint: endpoint.to_owned(),
            lifetime_s: 300,
            handshake_timeout: Duration::from_secs(5),
            retransmit_every: Duration::from_secs(2),
        }
    }
}

/// Faults the servers inject, consumed datagram by datagram.
#[derive(Debug, Default, Clone)]
#[non_exhaustive]
pub struct ServerFaults {
    /// Drop the next n datagrams from the device (either server).
    pub drop_from_device: usize,
    /// Drop the next n datagrams to the device (either server).
    pub drop_to_device: usize,
}

/// The scripted servers, shared between their threads and the test.
#[derive(Debug)]
pub struct ServerState {
    pub bootstrap: BootstrapServer,
    pub management: ManagementServer,
    pub faults: ServerFaults,
    /// DTLS sessions accepted so far, per server.
    pub bootstrap_sessions: u32,
    pub management_sessions: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Bootstrap,
    Management,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Bootstrap => "bootstrap server",
            Role::Management => "management server",
        }
    }
}

impl ServerState {
    fn handle(&mut self, role: Role, datagram: &[u8]) -> Vec<Vec<u8>> {
        if self.faults.drop_from_device > 0 {
            self.faults.drop_from_device -= 1;
            log::info!("{}: fault: dropping a datagram from the device", role.name());
            return Vec::new();
        }
        match role {
            Role::Bootstrap => self.bootstrap.handle(datagram),
            Role::Management => self.management.handle(datagram),
        }
    }

    fn outgoing(&mut self, role: Role, retransmit: bool) -> Vec<Vec<u8>> {
        let ep = match role {
            Role::Bootstrap => &mut *self.bootstrap,
            Role::Management => &mut *self.management,
        };
        let mut out = ep.poll_outgoing();
        if retransmit {
            out.extend(ep.retransmit_pending());
        }
        out
    }

    /// Applies the outgoing drop fault to `out`.
    fn filter_outgoing(&mut self, role: Role, mut out: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        while self.faults.drop_to_device > 0 && !out.is_empty() {
            self.faults.drop_to_device -= 1;
            out.remove(0);
            log::info!("{}: fault: dropping a datagram to the device", role.name());
        }
        out
    }
}

/// The bootstrap script the device gets: the bootstrap account again (so a later
/// server-initiated bootstrap finds it), the management server account with its own key,
/// and the management Server instance (SSID 102, `lifetime_s`, binding "U").
pub fn bootstrap_script(
    bootstrap_uri: &str,
    management_uri: &str,
    config: &ServersConfig,
) -> Vec<BootstrapOp> {
    let identity = config.endpoint.as_bytes();
    let s = &config.settings;
    vec![
        BootstrapOp::delete_all(),
        BootstrapOp::write_security(
            0,
            &SecurityInstance::bootstrap_psk(bootstrap_uri, identity, &s.bootstrap_psk),
        ),
        BootstrapOp::write_security(
            1,
            &SecurityInstance::psk(management_uri, MANAGEMENT_SSID, identity, &s.management_psk),
        ),
        BootstrapOp::write_server(
            0,
            &ServerInstance::new(MANAGEMENT_SSID, i64::from(config.lifetime_s)),
        ),
        BootstrapOp::Finish,
    ]
}

/// The running servers. Dropping this stops them.
#[derive(Debug)]
pub struct TestServers {
    shared: Arc<Mutex<ServerState>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    bootstrap_addr: SocketAddr,
    management_addr: SocketAddr,
    settings: ServerSettings,
}

impl TestServers {
    /// Binds both servers on 127.0.0.1 (the configured ports; 0 = any free port) and starts
    /// their threads. [`TestServers::settings`] then holds the bound ports, to be saved.
    pub fn start(config: ServersConfig) -> Result<TestServers, TransportError> {
        let dtls = DtlsConfig::default().with_handshake_timeout(config.handshake_timeout);
        let loopback = |port| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        // A test server: any identity, as long as the key is right (the key decides).
        let any_identity = |key: Vec<u8>| PskLookup::new(move |_| Some(key.clone()));
        let s = &config.settings;
        let management = DtlsServer::bind(
            loopback(s.management_port),
            any_identity(s.management_psk.clone()),
            dtls.clone(),
        )?;
        let bootstrap = DtlsServer::bind(
            loopback(s.bootstrap_port),
            any_identity(s.bootstrap_psk.clone()),
            dtls,
        )?;
        let (bootstrap_addr, management_addr) = (bootstrap.local_addr()?, management.local_addr()?);
        let mut settings = config.settings.clone();
        settings.bootstrap_port = bootstrap_addr.port();
        settings.management_port = management_addr.port();

        let bs_uri = format!("coaps://{bootstrap_addr}");
        let dm_uri = format!("coaps://{management_addr}");
        let state = ServerState {
            bootstrap: BootstrapServer::new(bootstrap_script(&bs_uri, &dm_uri, &config)),
            management: ManagementServer::new(),
            faults: ServerFaults::default(),
            bootstrap_sessions: 0,
            management_sessions: 0,
        };
        let shared = Arc::new(Mutex::new(state));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        // A device that vanished without close_notify would hold a session forever: end a
        // session after this long without a datagram (beyond the registration lifetime).
        let lifetime = Duration::from_secs(u64::from(config.lifetime_s));
        for (role, server, idle) in [
            (Role::Bootstrap, bootstrap, Duration::from_secs(60)),
            (Role::Management, management, lifetime * 2 + Duration::from_secs(60)),
        ] {
            let session = Session {
                role,
                shared: shared.clone(),
                stop: stop.clone(),
                retransmit_every: config.retransmit_every,
                idle_timeout: idle,
            };
            let t = thread::Builder::new()
                .name(role.name().to_owned())
                .spawn(move || session.serve(server))
                .map_err(TransportError::Io)?;
            threads.push(t);
        }
        Ok(TestServers { shared, stop, threads, bootstrap_addr, management_addr, settings })
    }

    /// `coaps://127.0.0.1:PORT` of the bootstrap server.
    pub fn bootstrap_uri(&self) -> String {
        format!("coaps://{}", self.bootstrap_addr)
    }

    /// `coaps://127.0.0.1:PORT` of the management server.
    pub fn management_uri(&self) -> String {
        format!("coaps://{}", self.management_addr)
    }

    /// The settings with the ports actually bound.
    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// Runs `f` on the servers (look at them, queue requests, set faults). Hold it briefly:
    /// the server threads wait for it.
    pub fn with<R>(&self, f: impl FnOnce(&mut ServerState) -> R) -> R {
        let mut state = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }

    /// The management server's latest registration.
    pub fn registration(&self) -> Option<Registration> {
        self.with(|s| s.management.registration().cloned())
    }

    /// Stops both threads and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Tells the threads to stop without waiting for them: for a process about to exit, where
    /// joining could wait for a handshake in progress (up to the handshake timeout).
    pub fn detach(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.threads.clear();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for TestServers {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One server thread.
struct Session {
    role: Role,
    shared: Arc<Mutex<ServerState>>,
    stop: Arc<AtomicBool>,
    retransmit_every: Duration,
    idle_timeout: Duration,
}

impl Session {
    fn with<R>(&self, f: impl FnOnce(&mut ServerState) -> R) -> R {
        let mut state = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }

    fn serve(self, mut server: DtlsServer) {
        let name = self.role.name();
        while !self.stop.load(Ordering::SeqCst) {
            let conn = match server.accept(ACCEPT_POLL) {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    log::info!("{name}: handshake failed: {e}");
                    continue;
                }
            };
            let identity = conn.psk_identity().unwrap_or_default();
            log::info!(
                "{name}: session with {} ({})",
                conn.peer_addr(),
                String::from_utf8_lossy(&identity)
            );
            self.with(|s| match self.role {
                Role::Bootstrap => s.bootstrap_sessions += 1,
                Role::Management => s.management_sessions += 1,
            });
            self.session(conn);
        }
    }

    /// Serves one DTLS session until the device closes it, it idles out, or stop.
    fn session(&self, mut conn: DtlsConnection) {
        let name = self.role.name();
        let mut buf = vec![0u8; 4096];
        let mut last_heard = Instant::now();
        let mut next_retransmit = Instant::now() + self.retransmit_every;
        while !self.stop.load(Ordering::SeqCst) {
            let mut out = match conn.recv(&mut buf, SESSION_POLL) {
                Ok(Some(n)) => {
                    last_heard = Instant::now();
                    let datagram = buf.get(..n).unwrap_or_default();
                    self.with(|s| s.handle(self.role, datagram))
                }
                Ok(None) => Vec::new(),
                Err(TransportError::Closed) => {
                    log::info!("{name}: session closed by the device");
                    return;
                }
                Err(e) => {
                    log::warn!("{name}: session ended: {e}");
                    return;
                }
            };
            let retransmit = Instant::now() >= next_retransmit;
            if retransmit {
                next_retransmit = Instant::now() + self.retransmit_every;
            }
            out.extend(self.with(|s| s.outgoing(self.role, retransmit)));
            let out = self.with(|s| s.filter_outgoing(self.role, out));
            for d in out {
                if let Err(e) = conn.send(&d) {
                    log::warn!("{name}: send failed: {e}");
                }
            }
            if last_heard.elapsed() > self.idle_timeout {
                log::info!(
                    "{name}: nothing from the device for {:?}; ending the session",
                    self.idle_timeout
                );
                return;
            }
        }
    }
}

//! The simulated port: a virtual clock, a modem with link and key store, and a network whose
//! far ends are the scripted servers of lwm2m-testkit behind a simulated DTLS check (the
//! connection opens only when the key in the modem's security tag is the server's key).

use std::collections::HashMap;

use lwm2m_carrier::core_engine::coap::Instant;
use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::{Carrier, ConnectError, Input, LinkError, Port, PortAction};
use lwm2m_testkit::{BootstrapServer, ManagementServer};

use crate::air::{AirLog, Dir};
use crate::firmware::{FwServer, VecSink, FW_HOST};
use crate::store::MemStore;

pub const BS_URI: &str = "coaps://bootstrap.sim:5684";
pub const DM_URI: &str = "coaps://dm.sim:5684";
pub const BS_PSK: [u8; 16] = [0x11; 16];
pub const DM_PSK: [u8; 16] = [0x22; 16];

/// Which scripted server a connection reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Bootstrap,
    Management,
}

/// Faults the modem will produce, consumed in order.
#[derive(Debug, Default)]
pub struct ModemFaults {
    /// The next link attaches fail with these `lte_lc` values.
    pub attach_failures: Vec<i32>,
    /// The next n PDN activations fail.
    pub pdn_failures: usize,
    /// The next link-offline request fails with this value.
    pub offline_failure: Option<i32>,
    /// The next key writes fail with these values.
    pub key_failures: Vec<i32>,
}

/// The simulated device platform.
#[derive(Debug)]
pub struct SimPort {
    /// The HTTP firmware server at `fw.sim` (port 80 and 443), if any.
    pub fw_server: Option<FwServer>,
    /// The modem's DFU area.
    pub dfu: VecSink,
    fw_open: bool,
    pub now: u64,
    pub bs: BootstrapServer,
    pub dm: ManagementServer,
    /// Keys the servers accept.
    pub bs_psk: Vec<u8>,
    pub dm_psk: Vec<u8>,
    /// Hosts that have no route.
    pub unreachable: Vec<Target>,
    pub faults: ModemFaults,
    /// Modem security tags: identity and key.
    pub keys: HashMap<u32, (Vec<u8>, Vec<u8>)>,
    pub link_up: bool,
    pub link_delay_ms: u64,
    pub latency_ms: u64,
    /// Resend unanswered server requests this often (the scripted servers have no clock).
    pub server_retransmit_ms: u64,
    /// Set when the carrier asked to reboot.
    pub rebooted: bool,
    /// Every action the carrier asked for, for assertions.
    pub actions: Vec<(u64, PortAction)>,
    /// Every datagram that crossed the air (sent on an open socket, or delivered to the
    /// device), for the air report and assertions.
    pub air: AirLog,
    conns: [Option<Target>; 4],
    pending: Vec<(u64, u64, Pending)>,
    seq: u64,
    next_server_retransmit: u64,
}

#[derive(Debug, Clone)]
enum Pending {
    Input(Input),
    /// Bytes from the firmware server.
    Fota(Vec<u8>),
    Datagram(u8, Vec<u8>),
}

fn target_of(uri: &str) -> Option<Target> {
    match uri {
        BS_URI => Some(Target::Bootstrap),
        DM_URI => Some(Target::Management),
        _ => None,
    }
}

impl SimPort {
    pub fn new(bs: BootstrapServer) -> SimPort {
        SimPort {
            now: 0,
            bs,
            dm: ManagementServer::new(),
            bs_psk: BS_PSK.to_vec(),
            dm_psk: DM_PSK.to_vec(),
            unreachable: Vec::new(),
            faults: ModemFaults::default(),
            keys: HashMap::new(),
            link_up: false,
            link_delay_ms: 1_000,
            latency_ms: 50,
            server_retransmit_ms: 3_000,
            rebooted: false,
            actions: Vec::new(),
            air: AirLog::default(),
            fw_server: None,
            dfu: VecSink::default(),
            fw_open: false,
            conns: [None; 4],
            pending: Vec::new(),
            seq: 0,
            next_server_retransmit: 0,
        }
    }

    fn schedule(&mut self, delay_ms: u64, p: Pending) {
        self.seq += 1;
        self.pending.push((self.now + delay_ms, self.seq, p));
    }

    fn server_outgoing(&mut self) {
        let retransmit = self.now >= self.next_server_retransmit;
        if retransmit {
            self.next_server_retransmit = self.now + self.server_retransmit_ms;
        }
        for i in 0..self.conns.len() {
            let out = match self.conns[i] {
                Some(Target::Bootstrap) => {
                    let mut v = self.bs.poll_outgoing();
                    if retransmit {
                        v.extend(self.bs.retransmit_pending());
                    }
                    v
                }
                Some(Target::Management) => {
                    let mut v = self.dm.poll_outgoing();
                    if retransmit {
                        v.extend(self.dm.retransmit_pending());
                    }
                    v
                }
                None => continue,
            };
            for d in out {
                self.schedule(self.latency_ms, Pending::Datagram(i as u8, d));
            }
        }
    }

    /// Connections currently open, by target.
    pub fn open_connections(&self) -> Vec<Target> {
        self.conns.iter().flatten().copied().collect()
    }
}

impl Port for SimPort {
    type Store = MemStore;

    fn now(&mut self) -> Instant {
        Instant::from_millis(self.now)
    }

    fn act(&mut self, action: PortAction, carrier: &Carrier<MemStore>) {
        self.actions.push((self.now, action));
        match action {
            PortAction::LinkUp => {
                let result = if let Some(v) = (!self.faults.attach_failures.is_empty())
                    .then(|| self.faults.attach_failures.remove(0))
                {
                    Input::LinkFailed(LinkError::Attach(v))
                } else if self.faults.pdn_failures > 0 {
                    self.faults.pdn_failures -= 1;
                    Input::LinkFailed(LinkError::PdnActivation)
                } else {
                    self.link_up = true;
                    Input::LinkUp
                };
                self.schedule(self.link_delay_ms, Pending::Input(result));
            }
            PortAction::LinkDown => {
                let result = match self.faults.offline_failure.take() {
                    Some(v) => Input::LinkDownFailed(v),
                    None => {
                        self.link_up = false;
                        // Sockets die with the link.
                        self.conns = [None; 4];
                        Input::LinkDown
                    }
                };
                self.schedule(self.link_delay_ms / 2, Pending::Input(result));
            }
            PortAction::WriteKey { sec_tag, security_instance } => {
                // The modem refuses key writes while the link is up.
                let result = if self.link_up {
                    Err(-1)
                } else if !self.faults.key_failures.is_empty() {
                    Err(self.faults.key_failures.remove(0))
                } else {
                    match carrier.key_material(security_instance) {
                        Some((identity, key)) => {
                            self.keys.insert(sec_tag, (identity.to_vec(), key.to_vec()));
                            Ok(())
                        }
                        None => Err(-22),
                    }
                };
                self.schedule(100, Pending::Input(Input::KeyWritten { sec_tag, result }));
            }
            PortAction::Connect { conn, security_instance, sec_tag } => {
                let target = carrier.server_uri(security_instance).and_then(target_of);
                let result = match target {
                    Some(t) if self.link_up && !self.unreachable.contains(&t) => {
                        let expected = match t {
                            Target::Bootstrap => &self.bs_psk,
                            Target::Management => &self.dm_psk,
                        };
                        let key_ok = match sec_tag {
                            Some(tag) => self.keys.get(&tag).is_some_and(|(_, k)| k == expected),
                            None => true,
                        };
                        if key_ok {
                            self.conns[conn.0 as usize] = Some(t);
                            self.air.handshakes += 1;
                            Input::Connected(conn)
                        } else {
                            Input::ConnectFailed(conn, ConnectError::Handshake)
                        }
                    }
                    _ => Input::ConnectFailed(conn, ConnectError::NoRoute),
                };
                // A DTLS handshake takes a few round trips.
                self.schedule(4 * self.latency_ms, Pending::Input(result));
            }
            PortAction::Close { conn } => self.conns[conn.0 as usize] = None,
            PortAction::Reboot => self.rebooted = true,
            PortAction::FirmwareApply => {
                // The modem installs with the link down.
                let result = if self.link_up {
                    Err(-1)
                } else {
                    lwm2m_fota::DfuSink::apply(&mut self.dfu).map_err(|_| -5)
                };
                self.schedule(500, Pending::Input(Input::FirmwareApplied(result)));
            }
            PortAction::Event(_) => {}
        }
    }

    fn send(&mut self, conn: ConnId, datagram: &[u8]) {
        let Some(target) = self.conns.get(conn.0 as usize).copied().flatten() else {
            return; // no socket: the datagram is lost.
        };
        self.air.record(self.now, Dir::Up, target, datagram);
        let replies = match target {
            Target::Bootstrap => self.bs.handle(datagram),
            Target::Management => self.dm.handle(datagram),
        };
        for r in replies {
            self.schedule(2 * self.latency_ms, Pending::Datagram(conn.0, r));
        }
    }

    fn dfu(&mut self) -> Option<&mut dyn lwm2m_fota::DfuSink> {
        Some(&mut self.dfu)
    }

    fn fota_connect(&mut self, host: &str, _port: u16, _tls: bool) -> bool {
        let result = if !self.link_up {
            Input::FotaConnectFailed(lwm2m_fota::ConnectErrorKind::Refused)
        } else if host == FW_HOST && self.fw_server.is_some() {
            self.fw_open = true;
            Input::FotaConnected
        } else {
            Input::FotaConnectFailed(lwm2m_fota::ConnectErrorKind::Dns)
        };
        self.schedule(3 * self.latency_ms, Pending::Input(result));
        true
    }

    fn fota_send(&mut self, data: &[u8]) {
        let Some(server) = self.fw_server.as_mut().filter(|_| self.fw_open) else { return };
        let (response, cut) = server.respond(data);
        // TCP delivers in segments: the client's parser must cope with any split.
        for chunk in response.chunks(500) {
            self.schedule(2 * self.latency_ms, Pending::Fota(chunk.to_vec()));
        }
        if cut {
            self.fw_open = false;
            self.schedule(2 * self.latency_ms, Pending::Input(Input::FotaClosed));
        }
    }

    fn fota_close(&mut self) {
        self.fw_open = false;
        self.pending.retain(|(_, _, p)| !matches!(p, Pending::Fota(_)));
    }

    fn wait(&mut self, deadline: Option<Instant>, buf: &mut [u8]) -> Input {
        self.server_outgoing();
        let next_input = self.pending.iter().map(|(t, s, _)| (*t, *s)).min();
        let deadline = deadline.map(|d| d.as_millis());
        let server_rtx =
            self.conns.iter().any(Option::is_some).then_some(self.next_server_retransmit);
        let wake = [next_input.map(|(t, _)| t), deadline, server_rtx].into_iter().flatten().min();
        // Nothing at all scheduled: an idle hour passes.
        self.now = self.now.max(wake.unwrap_or(self.now + 3_600_000));
        match next_input {
            Some((t, s)) if t <= self.now => {
                let pos = self.pending.iter().position(|(pt, ps, _)| *pt == t && *ps == s);
                let (_, _, p) = self.pending.remove(pos.unwrap_or(0));
                match p {
                    Pending::Input(i) => i,
                    Pending::Fota(bytes) => {
                        let n = bytes.len().min(buf.len());
                        buf[..n].copy_from_slice(&bytes[..n]);
                        Input::FotaData { len: n }
                    }
                    Pending::Datagram(conn, bytes) => {
                        let Some(target) = self.conns[conn as usize] else {
                            return Input::Timeout; // the socket closed meanwhile.
                        };
                        self.air.record(self.now, Dir::Down, target, &bytes);
                        let n = bytes.len().min(buf.len());
                        buf[..n].copy_from_slice(&bytes[..n]);
                        Input::Datagram { conn: ConnId(conn), len: n }
                    }
                }
            }
            _ => Input::Timeout,
        }
    }
}

//! The simulated modem: an LTE link that comes up after a delay, security tags in memory
//! (tag 25 factory-provisioned with the simulated bootstrap PSK), four sockets that reach the
//! [`ScriptedPeer`], and a fixed IMEI. Results are scheduled on the caller's clock (kernel
//! uptime on Zephyr, a virtual clock in the host tests), so the port's wait loop sleeps on a
//! timer until the next one is due.

use heapless::{String, Vec};
use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::{Carrier, ConnectError, DeviceIdentity, Input, PortAction, RecordStore};

use crate::peer::{PeerDatagram, ScriptedPeer, Server, BS_PSK};
use crate::Modem;

/// Modem security tags the simulation can hold.
const MAX_TAGS: usize = 6;
/// Results and datagrams in flight.
const MAX_PENDING: usize = 8;

#[derive(Debug)]
enum Pending {
    Input(Input),
    Datagram(u8, PeerDatagram),
}

/// Simulated nRF91 modem and network.
#[derive(Debug)]
pub struct SimModem {
    imei: String<15>,
    link_up: bool,
    /// (sec_tag, PSK) written to the modem.
    keys: Vec<(u32, Vec<u8, 64>), MAX_TAGS>,
    conns: [Option<Server>; 4],
    pending: Vec<(u64, Pending), MAX_PENDING>,
    pub peer: ScriptedPeer,
    /// Time to attach and activate the PDN (ms).
    pub link_delay_ms: u64,
    /// One-way latency of the simulated network (ms).
    pub latency_ms: u64,
    /// Number of DTLS handshakes done.
    pub handshakes: u32,
}

impl SimModem {
    /// A modem with `imei` (15 digits) whose bootstrap security tag holds the simulated PSK.
    pub fn new(imei: &str) -> SimModem {
        let mut keys = Vec::new();
        let _ = keys.push((25, Vec::from_slice(&BS_PSK).unwrap_or_default()));
        SimModem {
            imei: String::try_from(imei).unwrap_or_default(),
            link_up: false,
            keys,
            conns: [None; 4],
            pending: Vec::new(),
            peer: ScriptedPeer::new(),
            link_delay_ms: 200,
            latency_ms: 20,
            handshakes: 0,
        }
    }

    /// The security tags survive a reboot of the device in a real modem: `carry_keys` moves them
    /// from the modem of the previous "boot" (simulated reboots in the tests).
    pub fn carry_keys(&mut self, previous: &SimModem) {
        self.keys = previous.keys.clone();
    }

    pub fn is_link_up(&self) -> bool {
        self.link_up
    }

    fn schedule(&mut self, at: u64, p: Pending) {
        // A full queue drops the result: the carrier's own timers recover (retransmission,
        // deferral), as they would from a lost modem notification.
        let _ = self.pending.push((at, p));
    }

    fn key(&self, tag: u32) -> Option<&[u8]> {
        self.keys.iter().find(|(t, _)| *t == tag).map(|(_, k)| k.as_slice())
    }
}

impl Modem for SimModem {
    fn identity(&mut self) -> DeviceIdentity {
        DeviceIdentity { imei: self.imei.clone(), msisdn: None, home_network: None }
    }

    fn act<S: RecordStore>(&mut self, now_ms: u64, action: PortAction, carrier: &Carrier<S>) {
        match action {
            PortAction::LinkUp => {
                self.link_up = true;
                self.schedule(now_ms + self.link_delay_ms, Pending::Input(Input::LinkUp));
            }
            PortAction::LinkDown => {
                self.link_up = false;
                self.conns = [None; 4];
                self.schedule(now_ms + self.link_delay_ms / 2, Pending::Input(Input::LinkDown));
            }
            PortAction::WriteKey { sec_tag, security_instance } => {
                // Like the nRF91: keys are written only while the link is offline.
                let result = if self.link_up {
                    Err(-1)
                } else {
                    match carrier.key_material(security_instance) {
                        Some((_identity, key)) => {
                            let key = Vec::from_slice(key).unwrap_or_default();
                            match self.keys.iter_mut().find(|(t, _)| *t == sec_tag) {
                                Some(slot) => slot.1 = key,
                                None => {
                                    let _ = self.keys.push((sec_tag, key));
                                }
                            }
                            Ok(())
                        }
                        None => Err(-22),
                    }
                };
                self.schedule(now_ms + 10, Pending::Input(Input::KeyWritten { sec_tag, result }));
            }
            PortAction::Connect { conn, security_instance, sec_tag } => {
                let server = carrier.server_uri(security_instance).and_then(Server::of_uri);
                let result = match server {
                    Some(s) if self.link_up => {
                        let key_ok = sec_tag.map_or(true, |t| self.key(t) == Some(s.psk()));
                        if key_ok {
                            if let Some(slot) = self.conns.get_mut(usize::from(conn.0)) {
                                *slot = Some(s);
                            }
                            self.handshakes += 1;
                            Input::Connected(conn)
                        } else {
                            Input::ConnectFailed(conn, ConnectError::Handshake)
                        }
                    }
                    _ => Input::ConnectFailed(conn, ConnectError::NoRoute),
                };
                // A DTLS handshake is a few round trips.
                self.schedule(now_ms + 4 * self.latency_ms, Pending::Input(result));
            }
            PortAction::Close { conn } => {
                if let Some(slot) = self.conns.get_mut(usize::from(conn.0)) {
                    *slot = None;
                }
            }
            PortAction::FirmwareApply => {
                // No DFU in the simulation: the update fails (FOTA_FAIL), as on a modem that
                // rejects the image.
                let r = Input::FirmwareApplied(Err(-134)); // -ENOTSUP
                self.schedule(now_ms + 10, Pending::Input(r));
            }
            PortAction::Reboot | PortAction::Event(_) => {}
            // Actions added to the core later: nothing to do in the simulation.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn send(&mut self, now_ms: u64, conn: ConnId, datagram: &[u8]) {
        let Some(server) = self.conns.get(usize::from(conn.0)).copied().flatten() else {
            return; // no socket: lost.
        };
        let replies = self.peer.handle(server, datagram);
        let at = now_ms + 2 * self.latency_ms;
        for r in replies {
            self.schedule(at, Pending::Datagram(conn.0, r));
        }
    }

    fn poll(&mut self, now_ms: u64, buf: &mut [u8]) -> Option<Input> {
        // Oldest due entry first (FIFO among equal times).
        let pos = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| *t <= now_ms)
            .min_by_key(|(i, (t, _))| (*t, *i))
            .map(|(i, _)| i)?;
        let (_, p) = self.pending.remove(pos);
        match p {
            Pending::Input(i) => Some(i),
            Pending::Datagram(conn, bytes) => {
                if self.conns.get(usize::from(conn)).copied().flatten().is_none() {
                    return Some(Input::Timeout); // the socket closed meanwhile.
                }
                let n = bytes.len().min(buf.len());
                buf.get_mut(..n)?.copy_from_slice(bytes.get(..n)?);
                Some(Input::Datagram { conn: ConnId(conn), len: n })
            }
        }
    }

    fn poll_at(&self) -> Option<u64> {
        self.pending.iter().map(|(t, _)| *t).min()
    }
}

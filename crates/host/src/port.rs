//! `HostPort`: the carrier's `Port` on a desktop OS. Real time, a simulated modem
//! ([`crate::modem`]), real UDP/DTLS connections ([`crate::connection`]), records in files.
//!
//! Everything that completes later arrives through one `mpsc` channel that `wait` blocks on
//! (`recv_timeout` up to the carrier's deadline): connection results and datagrams from the
//! connection threads, and wake-ups from other threads ([`Waker`]). Modem results are not
//! threads: they are kept in a small schedule and `wait` returns them when due. Nothing is
//! reported synchronously from `act`, as on the device.
//!
//! A Reboot is recorded ([`HostPort::reboot_requested`]); what a reboot means is the
//! application's choice (the simulator restarts the carrier from the same state directory).

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant as StdInstant};

use lwm2m_carrier::core_engine::coap::Instant;
use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::{Carrier, ConnectError, Input, Port, PortAction};

use crate::connection::{self, ConnEvent, ConnectRequest};
use crate::dtls::DtlsConfig;
use crate::file_store::FileStore;
use crate::modem::{Modem, ModemConfig};
use crate::traffic::{self, Direction};
use crate::transport::Security;

/// The default total DTLS handshake time of the port. Shorter than the transport's 30 s:
/// a wrong PSK is silence in DTLS, so it only shows up when this runs out.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Host port settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HostPortConfig {
    pub modem: ModemConfig,
    pub dtls: DtlsConfig,
    /// Log every datagram at debug level (target `coap`), one line each.
    pub trace_coap: bool,
}

impl Default for HostPortConfig {
    fn default() -> Self {
        HostPortConfig {
            modem: ModemConfig::default(),
            dtls: DtlsConfig::default().with_handshake_timeout(DEFAULT_HANDSHAKE_TIMEOUT),
            trace_coap: false,
        }
    }
}

/// What arrives on the port's channel.
#[derive(Debug)]
pub(crate) enum PortMsg {
    Wake,
    Conn(ConnEvent),
}

/// Interrupts a blocked [`HostPort::wait`] from another thread (it returns `Input::Wake`),
/// e.g. after an application setter changed something.
#[derive(Debug, Clone)]
pub struct Waker(Sender<PortMsg>);

impl Waker {
    /// False once the port is gone.
    pub fn wake(&self) -> bool {
        self.0.send(PortMsg::Wake).is_ok()
    }
}

/// An open (or opening) connection: which one it is, and where its outgoing datagrams go.
/// Dropping it ends the connection thread.
#[derive(Debug)]
struct ConnSlot {
    serial: u64,
    outgoing: Sender<Vec<u8>>,
}

/// The host platform.
#[derive(Debug)]
pub struct HostPort {
    start: StdInstant,
    modem: Modem,
    dtls: DtlsConfig,
    trace_coap: bool,
    tx: Sender<PortMsg>,
    rx: Receiver<PortMsg>,
    /// Modem results due at a time, in (time, order of scheduling).
    scheduled: Vec<(StdInstant, u64, Input)>,
    seq: u64,
    conns: HashMap<u8, ConnSlot>,
    next_serial: u64,
    /// `wait` never blocks past this (the simulator's overall timeout).
    wake_by: Option<StdInstant>,
    reboot_requested: bool,
}

impl HostPort {
    pub fn new(config: HostPortConfig) -> HostPort {
        let (tx, rx) = mpsc::channel();
        HostPort {
            start: StdInstant::now(),
            modem: Modem::new(config.modem),
            dtls: config.dtls,
            trace_coap: config.trace_coap,
            tx,
            rx,
            scheduled: Vec::new(),
            seq: 0,
            conns: HashMap::new(),
            next_serial: 1,
            wake_by: None,
            reboot_requested: false,
        }
    }

    /// A handle that interrupts `wait` from another thread.
    pub fn waker(&self) -> Waker {
        Waker(self.tx.clone())
    }

    pub fn modem(&self) -> &Modem {
        &self.modem
    }

    /// Makes `wait` return `Input::Timeout` at `t` at the latest (harmless to the carrier,
    /// which then finds nothing due), so that the caller's stop condition is checked in time.
    pub fn set_wake_by(&mut self, t: Option<StdInstant>) {
        self.wake_by = t;
    }

    /// True once the carrier asked for a reboot (the application agreed).
    pub fn reboot_requested(&self) -> bool {
        self.reboot_requested
    }

    /// Number of connections open or opening.
    pub fn open_connections(&self) -> usize {
        self.conns.len()
    }

    fn schedule(&mut self, delay: Duration, input: Input) {
        self.seq += 1;
        self.scheduled.push((StdInstant::now() + delay, self.seq, input));
    }

    /// The earliest scheduled result if it is due at `now`.
    fn take_due(&mut self, now: StdInstant) -> Option<Input> {
        let (i, _) = self.scheduled.iter().enumerate().min_by_key(|(_, (t, seq, _))| (*t, *seq))?;
        if self.scheduled.get(i).is_some_and(|(t, _, _)| *t <= now) {
            return Some(self.scheduled.remove(i).2);
        }
        None
    }

    fn to_std(&self, t: Instant) -> Option<StdInstant> {
        // A saturated deadline ("never") does not fit: no deadline.
        self.start.checked_add(Duration::from_millis(t.as_millis()))
    }

    fn connect(
        &mut self,
        conn: ConnId,
        security_instance: u16,
        sec_tag: Option<u32>,
        carrier: &Carrier<FileStore>,
    ) {
        // A new connection on an id replaces the old one.
        self.conns.remove(&conn.0);
        let fail =
            |port: &mut Self, e| port.schedule(Duration::ZERO, Input::ConnectFailed(conn, e));
        if !self.modem.is_link_up() {
            return fail(self, ConnectError::NoRoute);
        }
        let Some(uri) = carrier.server_uri(security_instance) else {
            return fail(self, ConnectError::NoRoute);
        };
        let security = match sec_tag {
            None => Security::NoSec,
            // An empty tag: the modem's handshake fails (no credentials).
            Some(tag) => match self.modem.key(tag) {
                Some(psk) => Security::Psk(psk.clone()),
                None => {
                    log::warn!("connect: security tag {tag} holds no key");
                    return fail(self, ConnectError::Handshake);
                }
            },
        };
        let serial = self.next_serial;
        self.next_serial += 1;
        let (outgoing, outgoing_rx) = mpsc::channel();
        let dtls = self.dtls.clone();
        let req = ConnectRequest { conn, serial, uri: uri.to_owned(), security, dtls };
        connection::spawn(req, self.tx.clone(), outgoing_rx);
        self.conns.insert(conn.0, ConnSlot { serial, outgoing });
    }

    fn is_current(&self, conn: ConnId, serial: u64) -> bool {
        self.conns.get(&conn.0).is_some_and(|c| c.serial == serial)
    }

    /// Turns a channel message into an input; stale ones (from a connection that was closed
    /// or replaced meanwhile) are dropped.
    fn accept(&mut self, msg: PortMsg, buf: &mut [u8]) -> Option<Input> {
        let event = match msg {
            PortMsg::Wake => return Some(Input::Wake),
            PortMsg::Conn(e) => e,
        };
        match event {
            ConnEvent::Connected { conn, serial } => {
                self.is_current(conn, serial).then_some(Input::Connected(conn))
            }
            ConnEvent::ConnectFailed { conn, serial, error } => {
                if !self.is_current(conn, serial) {
                    return None;
                }
                self.conns.remove(&conn.0);
                Some(Input::ConnectFailed(conn, error))
            }
            ConnEvent::Datagram { conn, serial, data } => {
                if !self.is_current(conn, serial) {
                    return None;
                }
                if self.trace_coap {
                    log::debug!(target: "coap", "{}", traffic::describe(Direction::Received, conn.0, &data));
                }
                let len = data.len().min(buf.len());
                buf.get_mut(..len)?.copy_from_slice(data.get(..len)?);
                Some(Input::Datagram { conn, len })
            }
            ConnEvent::Lost { conn, serial } => {
                // The Port interface has no "connection lost": later sends are lost datagrams
                // and the carrier's CoAP timeouts take it from there.
                if self.is_current(conn, serial) {
                    self.conns.remove(&conn.0);
                }
                None
            }
        }
    }
}

impl Port for HostPort {
    type Store = FileStore;

    fn now(&mut self) -> Instant {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        Instant::from_millis(ms)
    }

    fn act(&mut self, action: PortAction, carrier: &Carrier<FileStore>) {
        log::debug!("port: {action:?}");
        let link_delay = self.modem.config().link_delay;
        match action {
            // No DFU sink on the host port yet: nothing was downloaded, so nothing installs.
            PortAction::FirmwareApply => {
                self.schedule(Duration::ZERO, Input::FirmwareApplied(Err(-95)));
            }
            PortAction::LinkUp => {
                let result = self.modem.link_up();
                self.schedule(link_delay, result);
            }
            PortAction::LinkDown => {
                let result = self.modem.link_down();
                if result == Input::LinkDown {
                    // Sockets die with the link.
                    self.conns.clear();
                }
                self.schedule(link_delay / 2, result);
            }
            PortAction::WriteKey { sec_tag, security_instance } => {
                let result = self.modem.write_key(sec_tag, carrier.key_material(security_instance));
                let delay = self.modem.config().key_write_delay;
                self.schedule(delay, Input::KeyWritten { sec_tag, result });
            }
            PortAction::Connect { conn, security_instance, sec_tag } => {
                self.connect(conn, security_instance, sec_tag, carrier);
            }
            PortAction::Close { conn } => {
                self.conns.remove(&conn.0);
            }
            PortAction::Reboot => {
                log::info!("port: reboot requested");
                self.reboot_requested = true;
            }
            PortAction::Event(_) => {}
        }
    }

    fn send(&mut self, conn: ConnId, datagram: &[u8]) {
        if self.trace_coap {
            log::debug!(target: "coap", "{}", traffic::describe(Direction::Sent, conn.0, datagram));
        }
        match self.conns.get(&conn.0) {
            Some(slot) => {
                let _ = slot.outgoing.send(datagram.to_vec());
            }
            None => log::debug!("port: no connection {}; datagram lost", conn.0),
        }
    }

    fn wait(&mut self, deadline: Option<Instant>, buf: &mut [u8]) -> Input {
        let deadline = deadline.and_then(|d| self.to_std(d));
        let deadline = [deadline, self.wake_by].into_iter().flatten().min();
        loop {
            let now = StdInstant::now();
            if let Some(input) = self.take_due(now) {
                return input;
            }
            if deadline.is_some_and(|d| d <= now) {
                // Overdue, but what already arrived comes first: a runner whose deadline is
                // always in the past must still see its datagrams.
                match self.rx.try_recv() {
                    Ok(m) => match self.accept(m, buf) {
                        Some(input) => return input,
                        None => continue,
                    },
                    Err(_) => return Input::Timeout,
                }
            }
            let next_scheduled = self.scheduled.iter().map(|(t, _, _)| *t).min();
            let until = [deadline, next_scheduled].into_iter().flatten().min();
            let msg = match until {
                Some(t) => match self.rx.recv_timeout(t.saturating_duration_since(now)) {
                    Ok(m) => m,
                    // The port holds a sender, so the channel never disconnects.
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => continue,
                },
                None => match self.rx.recv() {
                    Ok(m) => m,
                    Err(_) => return Input::Timeout,
                },
            };
            if let Some(input) = self.accept(msg, buf) {
                return input;
            }
        }
    }
}

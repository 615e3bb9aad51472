//! The nRF91 modem port (CONFIG_LWM2M_CARRIER_NRF_MODEM): [`NrfModem`] drives Nordic's libmodem
//! through the `nrf-modem` crate.
//!
//! - From `nrf-modem`: libmodem's initialisation (`init_with_custom_layout_core`: shared memory,
//!   its heaps, the DC/DC regulator), its OS layer (`nrf_modem_os_*`, `nrfx_ipc_*`) and the IPC
//!   interrupt handler. Its async API (LteLink, DtlsSocket) is not used: the port's `Modem` trait
//!   is polled, so the port calls libmodem's own non-blocking socket and AT functions through the
//!   re-exported `nrfxlib-sys` instead of running an executor.
//! - The IPC interrupt is connected in C (`zephyr/src/lwm2m_carrier_nrf_modem.c`); after
//!   libmodem's handler it gives the carrier thread's wake semaphore, so every modem event
//!   (AT notification, socket data, handshake result) wakes the thread, which then polls the
//!   sockets without waiting. `poll_at` only names the port's own deadlines (attach and
//!   handshake timeouts).
//! - The shared memory is the devicetree's `sram0_ns_modem` (see docs/zephyr.md).
//!
//! Verified only by building: everything here needs an nRF9160 with a SIM (docs/zephyr.md).

mod atcmd;
mod sock;

use core::ffi::c_int;

use heapless::{Deque, String};
use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::{
    Carrier, ConnectError, DeviceIdentity, Input, LinkError, PortAction, RecordStore,
};
use lwm2m_carrier_zephyr_modem::at::{self, Registration};
use lwm2m_carrier_zephyr_modem::Modem;

use crate::wake;

// Zephyr's errno values, negated in results.
const EPERM: i32 = 1;
const EIO: i32 = 5;
const EACCES: i32 = 13;
const EINVAL: i32 = 22;
const ETIMEDOUT: i32 = 116;
const ENOTSUP: i32 = 134;

/// How long the modem may take to register on the network after `AT+CFUN=1`.
const ATTACH_TIMEOUT_MS: u64 = 10 * 60 * 1000;
/// The port's own limit for a handshake, a little over the modem's.
const HANDSHAKE_LIMIT_MS: u64 = (sock::HANDSHAKE_TIMEOUT_S as u64 + 10) * 1000;
/// Transmit and receive areas of the shared memory (after the control area).
const SHMEM_TX: u32 = 0x2000;
const SHMEM_RX: u32 = 0x2000;

extern "C" {
    fn lwm2m_carrier_zephyr_nrf_irq_connect();
    fn lwm2m_carrier_zephyr_nrf_irq_priority();
    fn lwm2m_carrier_zephyr_nrf_shmem(base: *mut u32, size: *mut u32);
}

/// The IPC interrupt's handler, called by the C glue's ISR at the interrupt's devicetree
/// priority: libmodem's handler, then the carrier thread's wake-up.
#[no_mangle]
pub extern "C" fn lwm2m_carrier_zephyr_nrf_ipc_handler() {
    nrf_modem::ipc_irq_handler();
    wake::wake();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Offline,
    /// `AT+CFUN=1` sent; waiting for `+CEREG: 1` or `5`.
    Attaching {
        deadline: u64,
    },
    Up,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    Closed,
    Handshaking { fd: c_int, deadline: u64 },
    Open { fd: c_int },
}

impl Conn {
    fn fd(self) -> Option<c_int> {
        match self {
            Conn::Closed => None,
            Conn::Handshaking { fd, .. } | Conn::Open { fd } => Some(fd),
        }
    }
}

/// The nRF91 modem through libmodem.
#[derive(Debug)]
pub struct NrfModem {
    /// Zero when libmodem started, else why not (negative).
    init_error: i32,
    link: Link,
    conns: [Conn; 4],
    /// Results of actions, delivered by `poll` in order.
    pending: Deque<Input, 8>,
    /// Next connection `poll` looks at first (round robin).
    next_conn: usize,
}

impl NrfModem {
    /// Starts libmodem (shared memory from the devicetree, IPC interrupt) and subscribes to
    /// network registration notifications. A failure is logged and reported by every later
    /// action (LinkFailed, ConnectFailed, KeyWritten errors).
    pub fn new() -> NrfModem {
        let mut modem = NrfModem {
            init_error: 0,
            link: Link::Offline,
            conns: [Conn::Closed; 4],
            pending: Deque::new(),
            next_conn: 0,
        };
        if let Err(e) = modem_init() {
            log::error!("modem library not started: {}", e);
            modem.init_error = e;
        }
        modem
    }

    fn ready(&self) -> bool {
        self.init_error == 0
    }

    fn result(&mut self, input: Input) {
        if self.pending.push_back(input).is_err() {
            // Cannot happen with the carrier's one-action-at-a-time protocol; the carrier's
            // timers recover from a lost result.
            log::warn!("modem result dropped");
        }
    }

    fn close(&mut self, conn: usize) {
        if let Some(c) = self.conns.get_mut(conn) {
            if let Some(fd) = c.fd() {
                sock::close(fd);
            }
            *c = Conn::Closed;
        }
    }

    fn close_all(&mut self) {
        for i in 0..self.conns.len() {
            self.close(i);
        }
    }

    fn link_up<S: RecordStore>(&mut self, now_ms: u64, carrier: &Carrier<S>) {
        if !self.ready() {
            self.result(Input::LinkFailed(LinkError::Attach(self.init_error)));
            return;
        }
        if self.link == Link::Up {
            self.result(Input::LinkUp);
            return;
        }
        if let Some(apn) = carrier.apn().filter(|a| !a.is_empty()) {
            // The default PDN context (CID 0) takes the APN while the modem is offline.
            let set = at::cgdcont(apn).ok_or(-EINVAL).and_then(|c| atcmd::cmd::<32>(&c));
            if let Err(e) = set {
                log::warn!("AT+CGDCONT: {}", e);
                self.result(Input::LinkFailed(LinkError::PdnActivation));
                return;
            }
        }
        atcmd::reset_status();
        match atcmd::cmd::<32>("AT+CFUN=1") {
            Ok(_) => self.link = Link::Attaching { deadline: now_ms + ATTACH_TIMEOUT_MS },
            Err(e) => {
                log::warn!("AT+CFUN=1: {}", e);
                self.result(Input::LinkFailed(LinkError::Attach(e)));
            }
        }
    }

    fn link_down(&mut self) {
        self.close_all();
        if !self.ready() {
            self.link = Link::Offline;
            self.result(Input::LinkDown);
            return;
        }
        match atcmd::cmd::<32>("AT+CFUN=4") {
            Ok(_) => {
                self.link = Link::Offline;
                self.result(Input::LinkDown);
            }
            Err(e) => {
                log::warn!("AT+CFUN=4: {}", e);
                self.result(Input::LinkDownFailed(e));
            }
        }
    }

    /// Writes the PSK identity and key of `security_instance` to `sec_tag` (AT%CMNG types 4
    /// and 3). The modem accepts credentials only while it is offline.
    fn write_key<S: RecordStore>(
        &mut self,
        sec_tag: u32,
        security_instance: u16,
        carrier: &Carrier<S>,
    ) -> Result<(), i32> {
        if !self.ready() {
            return Err(self.init_error);
        }
        if self.link != Link::Offline {
            return Err(-EPERM);
        }
        let (identity, key) = carrier.key_material(security_instance).ok_or(-EINVAL)?;
        let mut cmd: String<{ at::CMNG_MAX }> = String::new();
        at::cmng_write_identity(&mut cmd, sec_tag, identity).map_err(|_| -EINVAL)?;
        atcmd::cmd::<64>(&cmd)?;
        if at::cmng_write_psk(&mut cmd, sec_tag, key).is_err() {
            atcmd::wipe(&mut cmd);
            return Err(-EINVAL);
        }
        // The command holds the PSK: sent without logging, wiped afterwards.
        atcmd::cmd_secret(&mut cmd)
    }

    fn connect<S: RecordStore>(
        &mut self,
        now_ms: u64,
        conn: ConnId,
        security_instance: u16,
        sec_tag: Option<u32>,
        carrier: &Carrier<S>,
    ) -> Result<Conn, ConnectError> {
        if !self.ready() || self.link != Link::Up {
            return Err(ConnectError::NoRoute);
        }
        let uri = carrier.server_uri(security_instance).ok_or(ConnectError::NoRoute)?;
        let endpoint = at::split_uri(uri).ok_or(ConnectError::NoRoute)?;
        log::info!("conn {}: {}:{}", conn.0, endpoint.host, endpoint.port);
        let (addr, is_name) = sock::resolve(endpoint.host, endpoint.port)?;
        let hostname = is_name.then_some(endpoint.host);
        Ok(match sock::open(&addr, sec_tag, hostname)? {
            sock::Started::Open(fd) => Conn::Open { fd },
            sock::Started::Handshaking(fd) => {
                Conn::Handshaking { fd, deadline: now_ms + HANDSHAKE_LIMIT_MS }
            }
        })
    }

    /// A link result that is due.
    fn poll_link(&mut self, now_ms: u64) -> Option<Input> {
        let Link::Attaching { deadline } = self.link else { return None };
        let failed = match atcmd::status() {
            Some(Registration::Registered) => {
                self.link = Link::Up;
                return Some(Input::LinkUp);
            }
            Some(Registration::Denied) => Some(-EACCES),
            Some(Registration::SimFailure) => Some(-EIO),
            _ if now_ms >= deadline => Some(-ETIMEDOUT),
            _ => None,
        }?;
        log::warn!("LTE attach failed: {}", failed);
        if let Err(e) = atcmd::cmd::<32>("AT+CFUN=4") {
            log::warn!("AT+CFUN=4: {}", e);
        }
        self.link = Link::Offline;
        Some(Input::LinkFailed(LinkError::Attach(failed)))
    }

    /// A socket result or datagram that is due, connections in turn.
    fn poll_conns(&mut self, now_ms: u64, buf: &mut [u8]) -> Option<Input> {
        let n = self.conns.len();
        for k in 0..n {
            let i = (self.next_conn + k) % n;
            let id = ConnId(i as u8);
            match self.conns.get(i).copied()? {
                Conn::Closed => {}
                Conn::Handshaking { fd, deadline } => match sock::handshake(fd) {
                    sock::Handshake::Done => {
                        self.conns[i] = Conn::Open { fd };
                        self.next_conn = (i + 1) % n;
                        return Some(Input::Connected(id));
                    }
                    sock::Handshake::Failed(e) => {
                        log::warn!("conn {}: handshake failed, errno {}", i, e);
                        self.close(i);
                        return Some(Input::ConnectFailed(id, sock::connect_error(e)));
                    }
                    sock::Handshake::Pending if now_ms >= deadline => {
                        log::warn!("conn {}: handshake timed out", i);
                        self.close(i);
                        return Some(Input::ConnectFailed(id, ConnectError::Handshake));
                    }
                    sock::Handshake::Pending => {}
                },
                Conn::Open { fd } => match sock::recv(fd, buf) {
                    Ok(Some(len)) => {
                        self.next_conn = (i + 1) % n;
                        return Some(Input::Datagram { conn: id, len });
                    }
                    Ok(None) => {}
                    Err(e) => {
                        // The session broke (peer closed it, link lost). There is no input for
                        // that: the carrier's retransmissions time out and it reconnects.
                        log::warn!("conn {}: receive failed, errno {}; closed", i, e);
                        self.close(i);
                    }
                },
            }
        }
        None
    }
}

impl Default for NrfModem {
    fn default() -> Self {
        NrfModem::new()
    }
}

/// Connects the IPC interrupt, starts libmodem in the devicetree's shared memory, puts the
/// interrupt at its Zephyr priority and subscribes to `+CEREG`.
fn modem_init() -> Result<(), i32> {
    let (mut base, mut size) = (0u32, 0u32);
    // SAFETY: the glue writes two u32 through valid pointers; connecting the IRQ before
    // nrf_modem_init is what libmodem expects (it enables the interrupt itself).
    unsafe {
        lwm2m_carrier_zephyr_nrf_shmem(&mut base, &mut size);
        lwm2m_carrier_zephyr_nrf_irq_connect();
    }
    let ctrl = nrf_modem::nrfxlib_sys::NRF_MODEM_CELLULAR_SHMEM_CTRL_SIZE;
    if ctrl + SHMEM_TX + SHMEM_RX > size {
        log::error!("sram0_ns_modem too small: {} bytes", size);
        return Err(-EINVAL);
    }
    // The semaphore the interrupt gives is initialised on first use: do that here, in thread
    // context (the extra count is one spurious wake-up).
    wake::wake();
    let layout = nrf_modem::MemoryLayout {
        base_address: base,
        tx_area_size: SHMEM_TX,
        rx_area_size: SHMEM_RX,
        trace_area_size: 0,
    };
    let started = nrf_modem::init_with_custom_layout_core(layout);
    // SAFETY: re-sets the IPC interrupt's NVIC priority (nrf_modem_init wrote 0).
    unsafe { lwm2m_carrier_zephyr_nrf_irq_priority() };
    if let Err(e) = started {
        log::error!("nrf_modem_init: {:?}", e);
        return Err(-EIO);
    }
    atcmd::subscribe()?;
    // Start offline (a previous boot may have left the modem on).
    atcmd::cmd::<32>("AT+CFUN=4")?;
    Ok(())
}

impl Modem for NrfModem {
    /// IMEI (`AT+CGSN`), then with the SIM switched on (`AT+CFUN=41`) its IMSI (`AT+CIMI`) for
    /// the home network, the MNC length (EF_AD through `AT+CRSM`) and the MSISDN (`AT+CNUM`);
    /// the modem goes back offline afterwards. Blocks for the AT exchanges (start-up only).
    fn identity(&mut self) -> DeviceIdentity {
        let mut id = DeviceIdentity { imei: String::new(), msisdn: None, home_network: None };
        if !self.ready() {
            return id;
        }
        match atcmd::cmd::<64>("AT+CGSN") {
            Ok(r) => id.imei = at::parse_cgsn(&r).unwrap_or_default(),
            Err(e) => log::error!("AT+CGSN: {}", e),
        }
        if let Err(e) = atcmd::cmd::<32>("AT+CFUN=41") {
            log::warn!("AT+CFUN=41: {}", e);
            return id;
        }
        // The SIM answers a moment after it is switched on.
        let mut imsi: Option<String<15>> = None;
        for _ in 0..20 {
            if let Ok(r) = atcmd::cmd::<64>("AT+CIMI") {
                imsi = at::parse_cimi(&r).and_then(|s| String::try_from(s).ok());
                if imsi.is_some() {
                    break;
                }
            }
            zephyr::time::sleep(zephyr::time::Duration::millis(100));
        }
        let mnc_len =
            atcmd::cmd::<64>("AT+CRSM=176,28589,0,0,4").ok().and_then(|r| at::parse_mnc_length(&r));
        id.home_network = imsi.as_deref().and_then(|i| at::home_network(i, mnc_len));
        id.msisdn = atcmd::cmd::<96>("AT+CNUM").ok().and_then(|r| at::parse_cnum(&r));
        if imsi.is_none() {
            log::warn!("no IMSI from the SIM");
        }
        if let Err(e) = atcmd::cmd::<32>("AT+CFUN=4") {
            log::warn!("AT+CFUN=4: {}", e);
        }
        id
    }

    fn act<S: RecordStore>(&mut self, now_ms: u64, action: PortAction, carrier: &Carrier<S>) {
        match action {
            PortAction::LinkUp => self.link_up(now_ms, carrier),
            PortAction::LinkDown => self.link_down(),
            PortAction::WriteKey { sec_tag, security_instance } => {
                let result = self.write_key(sec_tag, security_instance, carrier);
                if let Err(e) = result {
                    log::warn!("key write to sec_tag {} failed: {}", sec_tag, e);
                }
                self.result(Input::KeyWritten { sec_tag, result });
            }
            PortAction::Connect { conn, security_instance, sec_tag } => {
                let i = usize::from(conn.0);
                if i >= self.conns.len() {
                    self.result(Input::ConnectFailed(conn, ConnectError::NoRoute));
                    return;
                }
                self.close(i);
                match self.connect(now_ms, conn, security_instance, sec_tag, carrier) {
                    Ok(c @ Conn::Open { .. }) => {
                        self.conns[i] = c;
                        self.result(Input::Connected(conn));
                    }
                    // The handshake's result comes through `poll` after a wake-up.
                    Ok(c) => self.conns[i] = c,
                    Err(e) => self.result(Input::ConnectFailed(conn, e)),
                }
            }
            PortAction::Close { conn } => self.close(usize::from(conn.0)),
            PortAction::FirmwareApply => {
                // Modem DFU (nrf_modem_delta_dfu_*) is not part of this port yet: the port has no
                // DFU sink, so no image reaches this point; refuse like a modem that rejects it.
                self.result(Input::FirmwareApplied(Err(-ENOTSUP)));
            }
            PortAction::Reboot | PortAction::Event(_) => {}
            // Actions added to the core later.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn send(&mut self, _now_ms: u64, conn: ConnId, datagram: &[u8]) {
        if let Some(Conn::Open { fd }) = self.conns.get(usize::from(conn.0)).copied() {
            if let Err(e) = sock::send(fd, datagram) {
                log::debug!("conn {}: send failed, errno {}", conn.0, e);
            }
        }
    }

    fn poll(&mut self, now_ms: u64, buf: &mut [u8]) -> Option<Input> {
        if let Some(input) = self.pending.pop_front() {
            return Some(input);
        }
        if let Some(input) = self.poll_link(now_ms) {
            return Some(input);
        }
        self.poll_conns(now_ms, buf)
    }

    fn poll_at(&self) -> Option<u64> {
        let attach = match self.link {
            Link::Attaching { deadline } => Some(deadline),
            _ => None,
        };
        let handshakes = self.conns.iter().filter_map(|c| match c {
            Conn::Handshaking { deadline, .. } => Some(*deadline),
            _ => None,
        });
        attach.into_iter().chain(handshakes).min()
    }
}

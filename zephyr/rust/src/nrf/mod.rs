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
//! - Firmware update: the download's TCP/TLS connection ([`fota`]) and the modem's delta DFU
//!   area as the carrier's DFU sink ([`dfu`]); applying an image restarts libmodem
//!   ([`restart_modem`]), which runs the update.
//!
//! Verified only by building: everything here needs an nRF9160 with a SIM (docs/zephyr.md).

mod atcmd;
mod dfu;
mod fota;
mod sock;

use core::cell::UnsafeCell;
use core::ffi::c_int;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};

use heapless::{Deque, String};
use lwm2m_carrier::core_engine::carrier::fota::{ConnectErrorKind, DfuSink};
use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::{
    Carrier, ConnectError, DeviceIdentity, Input, LinkError, PortAction, RecordStore,
};
use lwm2m_carrier_zephyr_modem::at::{self, Registration};
use lwm2m_carrier_zephyr_modem::Modem;
use nrf_modem::nrfxlib_sys as sys;

use crate::port::uptime_ms;
use crate::wake;

// Zephyr's errno values, negated in results.
const EPERM: i32 = 1;
const EIO: i32 = 5;
const EACCES: i32 = 13;
const EINVAL: i32 = 22;
const ETIMEDOUT: i32 = 116;

/// How long the modem may take to register on the network after `AT+CFUN=1`.
const ATTACH_TIMEOUT_MS: u64 = 10 * 60 * 1000;
/// The port's own limit for a handshake, a little over the modem's.
const HANDSHAKE_LIMIT_MS: u64 = (sock::HANDSHAKE_TIMEOUT_S as u64 + 10) * 1000;
/// Retry interval for request bytes the firmware connection did not take yet.
const FOTA_RETRY_MS: u64 = 100;
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
    /// The firmware download's connection.
    fota: fota::FotaConn,
    /// The modem's DFU area.
    dfu: dfu::NrfDfu,
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
            fota: fota::FotaConn::new(),
            dfu: dfu::NrfDfu::new(),
        };
        if let Err(e) = modem_init() {
            log::error!("modem library not started: {}", e);
            modem.init_error = e;
        }
        modem.dfu.start(modem.ready());
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
        self.fota.close();
    }

    /// `FirmwareApply` (the link is down): schedules the modem's update and restarts libmodem,
    /// which runs it. The port is offline afterwards, as before.
    fn firmware_apply(&mut self) -> Result<(), i32> {
        if !self.ready() {
            return Err(self.init_error);
        }
        self.close_all();
        let (running, result) = self.dfu.update();
        self.link = Link::Offline;
        if !running {
            log::error!("modem library not running after the update");
            self.init_error = -EIO;
        }
        // Positive values are the modem's delta DFU codes (logged by `dfu`).
        result.map_err(|e| if e < 0 { e } else { -EIO })
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
        let (addr, is_name) =
            sock::resolve(endpoint.host, endpoint.port, nrf_modem::nrfxlib_sys::NRF_SOCK_DGRAM)?;
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
                let result = self.firmware_apply();
                if let Err(e) = result {
                    log::warn!("modem firmware update failed: {}", e);
                }
                self.result(Input::FirmwareApplied(result));
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
        if let Some(input) = self.poll_conns(now_ms, buf) {
            return Some(input);
        }
        self.fota.poll(buf)
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
        // Unsent request bytes: try again shortly (socket space frees without an event).
        let unsent = self.fota.has_unsent().then(|| uptime_ms() + FOTA_RETRY_MS);
        attach.into_iter().chain(handshakes).chain(unsent).min()
    }

    fn fota_connect(&mut self, _now_ms: u64, host: &str, port: u16, tls: bool) -> bool {
        let immediate = if !self.ready() || self.link != Link::Up {
            self.fota.close();
            Some(Input::FotaConnectFailed(ConnectErrorKind::Refused))
        } else {
            self.fota.connect(host, port, tls)
        };
        if let Some(input) = immediate {
            self.result(input);
        }
        true
    }

    fn fota_send(&mut self, _now_ms: u64, data: &[u8]) {
        if let Some(input) = self.fota.send(data) {
            self.result(input);
        }
    }

    fn fota_close(&mut self) {
        self.fota.close();
        // Results of the connection just dropped are stale.
        let mut kept: Deque<Input, 8> = Deque::new();
        while let Some(input) = self.pending.pop_front() {
            let stale = matches!(
                input,
                Input::FotaConnected | Input::FotaConnectFailed(_) | Input::FotaClosed
            );
            if !stale {
                let _ = kept.push_back(input);
            }
        }
        self.pending = kept;
    }

    fn dfu(&mut self) -> Option<&mut dyn DfuSink> {
        Some(&mut self.dfu)
    }
}

/// libmodem's OS layer: sleep the calling thread. nrf-modem 0.11 does not provide it, and
/// libmodem calls it from `nrf_modem_shutdown` (thread context, the carrier thread here).
#[no_mangle]
pub extern "C" fn nrf_modem_os_sleep(timeout: u32) -> c_int {
    zephyr::time::sleep(zephyr::time::Duration::millis(u64::from(timeout)));
    0
}

/// What a libmodem restart (`restart_modem`) left behind.
pub(crate) struct Restarted {
    /// libmodem runs again (else the port reports every later action as failed).
    pub modem_running: bool,
    /// The firmware update's result: the DFU result libmodem reported, else whether the
    /// modem's firmware version (`AT+CGMR`) changed.
    pub update: Result<(), i32>,
}

/// No DFU result reported (yet).
const DFU_RESULT_NONE: u32 = u32::MAX;
/// The DFU result libmodem reported during its last start (`dfu_handler`).
static DFU_RESULT: AtomicU32 = AtomicU32::new(DFU_RESULT_NONE);
/// The reason of the last modem fault (`fault_handler`), 0 for none.
static FAULT_REASON: AtomicU32 = AtomicU32::new(0);

/// libmodem's DFU result handler (given at the restart): records the result.
unsafe extern "C" fn dfu_handler(result: u32) {
    DFU_RESULT.store(result, Ordering::Release);
}

/// libmodem's fault handler (given at the restart; may run in the IPC interrupt): records the
/// reason and wakes the carrier thread. The modem's sockets then fail and the carrier's
/// timers take over.
unsafe extern "C" fn fault_handler(info: *mut sys::nrf_modem_fault_info) {
    let reason = if info.is_null() {
        u32::MAX
    } else {
        // SAFETY: non-null: libmodem passes a fault record valid for the call.
        unsafe { (*info).reason }
    };
    FAULT_REASON.store(reason, Ordering::Release);
    wake::wake();
}

/// libmodem's start parameters for `restart_modem` (nrf-modem keeps its own for the first
/// start); written only on the carrier thread, before `nrf_modem_init` reads them.
struct InitParams(UnsafeCell<MaybeUninit<sys::nrf_modem_init_params>>);

// SAFETY: only the carrier thread writes the cell (in `modem_start`), before libmodem, which
// reads it, is started; no reference to it is kept.
unsafe impl Sync for InitParams {}

static INIT_PARAMS: InitParams = InitParams(UnsafeCell::new(MaybeUninit::uninit()));

/// `nrf_modem_init` with the same shared memory layout as the first start (nrf-modem's heaps
/// over it stay valid), then the IPC interrupt's priority fix-up.
fn modem_start() -> Result<(), i32> {
    let (mut base, mut size) = (0u32, 0u32);
    // SAFETY: the glue writes two u32 through valid pointers.
    unsafe { lwm2m_carrier_zephyr_nrf_shmem(&mut base, &mut size) };
    let ctrl = sys::NRF_MODEM_CELLULAR_SHMEM_CTRL_SIZE;
    let params = sys::nrf_modem_init_params {
        shmem: sys::nrf_modem_shmem_cfg {
            ctrl: sys::nrf_modem_shmem_cfg__bindgen_ty_1 { base, size: ctrl },
            tx: sys::nrf_modem_shmem_cfg__bindgen_ty_2 { base: base + ctrl, size: SHMEM_TX },
            rx: sys::nrf_modem_shmem_cfg__bindgen_ty_3 {
                base: base + ctrl + SHMEM_TX,
                size: SHMEM_RX,
            },
            trace: sys::nrf_modem_shmem_cfg__bindgen_ty_4 {
                base: base + ctrl + SHMEM_TX + SHMEM_RX,
                size: 0,
            },
        },
        ipc_irq_prio: 0,
        fault_handler: Some(fault_handler),
        dfu_handler: Some(dfu_handler),
    };
    let cell = INIT_PARAMS.0.get();
    // SAFETY: the carrier thread is the only one touching the cell, and libmodem is shut down
    // (it does not read the parameters now); the pointer stays valid for the program's life.
    let r = unsafe {
        (*cell).write(params);
        sys::nrf_modem_init((*cell).as_ptr())
    };
    // SAFETY: re-sets the IPC interrupt's NVIC priority (nrf_modem_init wrote 0).
    unsafe { lwm2m_carrier_zephyr_nrf_irq_priority() };
    if r == 0 {
        Ok(())
    } else {
        Err(r)
    }
}

/// Restarts libmodem so that the modem runs a scheduled firmware update: `AT+CFUN=0` (which
/// `nrf_modem_shutdown` requires), shutdown, start (the update runs during `nrf_modem_init`;
/// when that fails, one more start brings up the old firmware), then the port's usual
/// subscriptions and `AT+CFUN=4`. Blocks the carrier thread for the update's duration.
pub(crate) fn restart_modem() -> Restarted {
    let before = atcmd::cmd::<64>("AT+CGMR").ok();
    if let Err(e) = atcmd::cmd::<32>("AT+CFUN=0") {
        log::warn!("AT+CFUN=0: {}", e);
    }
    DFU_RESULT.store(DFU_RESULT_NONE, Ordering::Release);
    // SAFETY: libmodem is initialised; every socket of the port is closed and only the carrier
    // thread (this one) calls libmodem.
    let r = unsafe { sys::nrf_modem_shutdown() };
    if r != 0 {
        log::warn!("nrf_modem_shutdown: {}", r);
    }
    let mut update = Ok(());
    if let Err(e) = modem_start() {
        log::warn!("nrf_modem_init after the update: {}", e);
        update = Err(e);
        // SAFETY: as above; -NRF_EPERM (not initialised) is the expected answer after a failed
        // start, and harmless.
        let _ = unsafe { sys::nrf_modem_shutdown() };
        if let Err(e) = modem_start() {
            log::error!("nrf_modem_init: {}", e);
            return Restarted { modem_running: false, update };
        }
    }
    let fault = FAULT_REASON.swap(0, Ordering::AcqRel);
    if fault != 0 {
        log::warn!("modem fault during the restart: reason {}", fault);
    }
    if let Err(e) = atcmd::subscribe().and_then(|()| atcmd::cmd::<32>("AT+CFUN=4").map(|_| ())) {
        log::warn!("modem set-up after the update: {}", e);
    }
    let after = atcmd::cmd::<64>("AT+CGMR").ok();
    let reported = DFU_RESULT.load(Ordering::Acquire);
    if update.is_ok() {
        update = match reported {
            sys::NRF_MODEM_DFU_RESULT_OK => Ok(()),
            DFU_RESULT_NONE if before.is_some() && after.is_some() && before != after => Ok(()),
            DFU_RESULT_NONE => {
                log::warn!("no DFU result and the firmware version did not change");
                Err(-EIO)
            }
            other => {
                log::warn!("modem DFU result {:#x}", other);
                Err(-EIO)
            }
        };
    }
    if let Some(v) = after {
        log::info!("modem firmware: {}", v.trim_end());
    }
    Restarted { modem_running: true, update }
}

//! The carrier lifecycle: the LwM2M engine plus the operator's rules, producing the event
//! sequence of the 0.9 library's charts.
//!
//! Init: BSDLIB_INIT, CONNECTING, CONNECTED. First boot: bootstrap, then DISCONNECTING,
//! DISCONNECTED, keys written to the modem, CONNECTING, CONNECTED, BOOTSTRAPPED, READY. Later
//! boots: straight to READY from the persisted bootstrap. Failures: DEFERRED with a reason and the
//! time after which the library retries, following `retry`.
//!
//! Sans-IO like the engine: the port carries out [`PortAction`]s and reports their results
//! through the `link_*`, `key_written`, `connected`/`connect_failed` methods. Storage is the
//! exception: `RecordStore` is synchronous (NVS is), so the carrier owns it.

use heapless::{String, Vec};
use lwm2m_coap::Instant;
use lwm2m_objects::security::{mode, SecurityInstance};
use lwm2m_objects::{Registry, Security};

use super::bootstrap_record;
use super::events::{CarrierEvent, DeferredReason, ErrorCode};
use super::fota::{self, ConnectErrorKind, FotaAction, FotaError, FotaJob, FwRecord, Status};
use super::identity::{write_endpoint_name, IdentityError, Operator};
use super::records::{self, Current, Slots};
use super::retry::Backoff;
use super::store::RecordStore;
use crate::config::Config;
use crate::engine::Engine;
use crate::event::{Action, ConnId, Event, Failure};
use lwm2m_fota::download::Download;
use lwm2m_fota::DfuSink;
use lwm2m_objects::firmware::FwState;

/// First modem security tag of the Security instances (bootstrap, management, diagnostics,
/// repository: 25..28). Tag 11 holds the CA for HTTPS firmware downloads.
pub const SEC_TAG_BASE: u32 = 25;
/// Security tag of the HTTPS CA certificate for firmware downloads.
pub const SEC_TAG_FOTA_CA: u32 = 11;

/// How long to wait before asking the application again about a reboot it postponed.
pub const REBOOT_ASK_AGAIN_S: u32 = 60;

/// Application configuration (`lwm2m_carrier_config_t` and the Kconfig options).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CarrierConfig {
    /// Custom bootstrap server; `None` = the operator's factory server.
    pub bootstrap_uri: Option<String<64>>,
    /// Custom bootstrap PSK (binary). Never logged.
    pub psk: Option<Vec<u8, 64>>,
    /// Custom APN for the PDN.
    pub apn: Option<String<64>>,
    /// Connect to the operator's certification servers instead of production.
    pub certification_mode: bool,
    /// Discard a persisted bootstrap and bootstrap again (the documented way to force a new
    /// bootstrap without erasing flash; a changed `bootstrap_uri` alone does not).
    pub force_bootstrap: bool,
}

/// What the modem says about the device and its SIM.
#[derive(Debug, Clone)]
pub struct DeviceIdentity {
    pub imei: String<15>,
    pub msisdn: Option<String<15>>,
    /// MCC and MNC of the SIM's home network (from the IMSI).
    pub home_network: Option<(u16, u16)>,
}

/// Why the carrier could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    Identity(IdentityError),
    /// Neither a custom bootstrap URI nor a known operator.
    NoBootstrapServer,
    /// A configuration value does not fit.
    BadConfig,
    /// [`Carrier::configure`] on a carrier that is already configured.
    AlreadyConfigured,
}

/// Why the LTE link did not come up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Attach failed (`lte_lc` error, SIM or coverage): ERROR CONNECT_FAIL with the value.
    Attach(i32),
    /// The PDN could not be activated: DEFERRED PDN_ACTIVATE.
    PdnActivation,
}

/// Why a connection to a server did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// No route or DNS failure.
    NoRoute,
    /// The DTLS handshake failed (wrong key, server refused).
    Handshake,
}

/// What the port must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortAction {
    /// Bring the LTE link up (with `Carrier::apn`); answer `link_up` or `link_failed`.
    LinkUp,
    /// Take the LTE link offline; answer `link_down` or `link_down_failed`.
    LinkDown,
    /// Write the PSK identity and key of `security_instance` (see `Carrier::key_material`) to
    /// modem security tag `sec_tag`; answer `key_written`.
    WriteKey {
        sec_tag: u32,
        security_instance: u16,
    },
    /// Open `conn` to `Carrier::server_uri(security_instance)`, over DTLS with `sec_tag` or plain
    /// UDP when `None`; answer `connected` or `connect_failed`.
    Connect {
        conn: ConnId,
        security_instance: u16,
        sec_tag: Option<u32>,
    },
    Close {
        conn: ConnId,
    },
    /// Install the downloaded firmware image (the port's DFU sink `apply`, a modem re-init on
    /// nRF91) with the link offline; answer `firmware_applied`.
    FirmwareApply,
    /// The application agreed: reboot now.
    Reboot,
    /// Deliver to the application.
    Event(CarrierEvent),
}

/// What to do when a deferral expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Bring the link up, then continue with `then`.
    Link {
        then: AfterLink,
    },
    Bootstrap,
    Register,
}

/// What follows a successful LinkUp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterLink {
    /// Init: wait for `run`.
    AwaitRun,
    /// Keys were written after a bootstrap: report BOOTSTRAPPED and register.
    Register { bootstrapped: bool },
    /// Key writing failed: with the link back, defer a new bootstrap by `delay_s`.
    DeferBootstrap { delay_s: u32 },
    /// The bootstrap key was (re)written: bootstrap.
    Bootstrap,
}

/// What the key phase is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeysFor {
    /// The keys a bootstrap delivered: save, then register.
    Servers,
    /// The bootstrap key, whose write failed earlier: then bootstrap.
    Bootstrap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Created,
    LinkConnecting {
        then: AfterLink,
    },
    Initialized,
    Bootstrapping,
    KeysLinkDown {
        keys_for: KeysFor,
    },
    KeysWriting {
        next: u8,
        keys_for: KeysFor,
    },
    Registering,
    Ready,
    Deferred {
        until: Instant,
        retry: Retry,
    },
    /// Update executed: taking the link down to install the image.
    FotaLinkDown,
    /// The port is installing the image.
    FotaApplying,
}

/// Actions queued for the port.
const MAX_ACTIONS: usize = 16;
/// Largest record: header plus bootstrap body.
const RECORD_BUF: usize = records::HEADER_LEN + bootstrap_record::MAX_BODY;

/// The carrier library's state, over a record store `S`.
#[derive(Debug)]
pub struct Carrier<S: RecordStore> {
    engine: Engine,
    store: S,
    phase: Phase,
    apn: Option<String<64>>,
    bootstrapped: bool,
    /// Which bootstrap slot holds the current record.
    slot: Current,
    /// CRC of the persisted body, to save only on change.
    saved_crc: Option<u32>,
    connection_backoff: Backoff,
    pdn_backoff: Backoff,
    last_connect_error: ConnectError,
    /// Security instances whose keys are written after a bootstrap.
    key_plan: Vec<u16, 4>,
    reboot_ask_at: Option<Instant>,
    reboot_pending: bool,
    fota: FotaJob,
    /// Which firmware slot holds the current record.
    fw_slot: Current,
    /// `run` was called (possibly while init's link was still being retried).
    run_requested: bool,
    /// The bootstrap key is known to be in the modem (written at init or before).
    bootstrap_key_ok: bool,
    /// Oldest first.
    actions: Vec<PortAction, MAX_ACTIONS>,
}

/// Adds the factory bootstrap account, Security instance 0, to `security` (built there, not
/// returned: no copy of the instance through a `Result`).
#[inline(never)]
fn add_factory_account(
    security: &mut Security,
    uri: &str,
    endpoint: &str,
    psk: Option<&[u8]>,
) -> Result<(), InitError> {
    let mut bs = SecurityInstance::new(0);
    bs.set_uri(uri).map_err(|_| InitError::BadConfig)?;
    bs.bootstrap = true;
    bs.mode = mode::PSK;
    bs.set_identity(endpoint.as_bytes()).map_err(|_| InitError::BadConfig)?;
    if let Some(psk) = psk {
        bs.set_secret_key(psk).map_err(|_| InitError::BadConfig)?;
    }
    security.put(bs).map_err(|_| InitError::BadConfig)
}

/// Reads record `id` into `buf` and checks it: its generation and body.
fn read_record<'b, S: RecordStore>(
    store: &mut S,
    id: u16,
    buf: &'b mut [u8; RECORD_BUF],
) -> Option<(u32, &'b [u8])> {
    let n = store.read(id, buf).ok()?;
    records::open(buf.get(..n)?).ok()
}

/// Reads both slots of `slots` and returns the newest valid record's body in `buf`.
fn load<'b, S: RecordStore>(
    store: &mut S,
    slots: Slots,
    buf: &'b mut [u8; RECORD_BUF],
) -> (Current, Option<&'b [u8]>) {
    let a = read_record(store, slots.a, buf).map(|(g, _)| g);
    let b = read_record(store, slots.b, buf).map(|(g, _)| g);
    let current = Current::pick(a, b);
    let id = match current {
        Current::None => return (current, None),
        Current::A { .. } => slots.a,
        Current::B { .. } => slots.b,
    };
    match read_record(store, id, buf) {
        Some((_, body)) => (current, Some(body)),
        None => (Current::None, None),
    }
}

impl<S: RecordStore> Carrier<S> {
    /// Builds the carrier: identity from the modem, objects from storage (or the factory
    /// bootstrap account), nothing sent yet. [`Carrier::blank`] then [`Carrier::configure`].
    pub fn new(
        config: &CarrierConfig,
        identity: &DeviceIdentity,
        store: S,
        seed: u64,
    ) -> Result<Self, InitError> {
        let mut carrier = Self::blank(store, seed);
        carrier.configure(config, identity)?;
        Ok(carrier)
    }

    /// An unconfigured carrier: empty objects, no endpoint. Infallible and cheap, so that a
    /// port with a small stack can write it straight into its static slot and configure it
    /// there ([`Carrier::new`] returns the whole carrier through a `Result`, which costs a
    /// copy of it on the stack).
    #[inline(always)]
    pub fn blank(store: S, seed: u64) -> Self {
        Carrier {
            engine: Engine::new(Config::with_defaults(), Registry::new(), seed),
            store,
            phase: Phase::Created,
            apn: None,
            bootstrapped: false,
            slot: Current::None,
            saved_crc: None,
            connection_backoff: Backoff::new(),
            pdn_backoff: Backoff::new(),
            last_connect_error: ConnectError::Handshake,
            key_plan: Vec::new(),
            reboot_ask_at: None,
            reboot_pending: false,
            fota: FotaJob::default(),
            fw_slot: Current::None,
            run_requested: false,
            bootstrap_key_ok: true,
            actions: Vec::new(),
        }
    }

    /// Configures a [`Carrier::blank`] carrier in place: identity from the modem, objects from
    /// storage (or the factory bootstrap account). Call once, before [`Carrier::init`]; a
    /// second call, or one after init, is refused with [`InitError::AlreadyConfigured`].
    pub fn configure(
        &mut self,
        config: &CarrierConfig,
        identity: &DeviceIdentity,
    ) -> Result<(), InitError> {
        if !matches!(self.phase, Phase::Created) || !self.engine.config.endpoint.is_empty() {
            return Err(InitError::AlreadyConfigured);
        }
        let operator = identity
            .home_network
            .map_or(Operator::Other, |(mcc, mnc)| Operator::from_home_network(mcc, mnc));
        let uri = match &config.bootstrap_uri {
            Some(u) => Ok(u.as_str()),
            None => operator
                .bootstrap_uri(config.certification_mode)
                .ok_or(InitError::NoBootstrapServer),
        };
        let engine_config = &mut self.engine.config;
        // Written in place (was empty: checked above); the identity error comes first.
        let msisdn = identity.msisdn.as_deref();
        write_endpoint_name(&mut engine_config.endpoint, operator, &identity.imei, msisdn)
            .map_err(InitError::Identity)?;
        let Ok(uri) = uri else {
            engine_config.endpoint.clear(); // still unconfigured: `configure` may be called again
            return Err(InitError::NoBootstrapServer);
        };
        engine_config.register_after_bootstrap = false;
        engine_config.default_binding.clear();
        let _ = engine_config.default_binding.push_str(match operator {
            Operator::Other => "U",
            _ => "UQS",
        });
        self.apn = config.apn.clone();
        let c = self;
        let registry = &mut c.engine.registry;
        let mut buf = [0u8; RECORD_BUF];
        let (slot, body) = load(&mut c.store, records::BOOTSTRAP, &mut buf);
        c.slot = slot;
        if let (Some(body), false) = (body, config.force_bootstrap) {
            // A persisted bootstrap wins over the configured URI (documented behaviour).
            if let Ok(needs) = bootstrap_record::decode_into(body, registry) {
                c.bootstrapped = !needs && registry.security.iter().any(|s| !s.bootstrap);
                c.saved_crc = Some(records::crc32(body));
            }
        }
        let (fw_slot, fw_body) = load(&mut c.store, records::FIRMWARE, &mut buf);
        c.fw_slot = fw_slot;
        if let Some(rec) = fw_body.and_then(|b| FwRecord::decode(b).ok()) {
            restore_firmware(registry, &rec, &mut c.fota);
        }
        if registry.security.bootstrap_account().is_none() {
            let psk = config.psk.as_deref();
            add_factory_account(&mut registry.security, uri, &c.engine.config.endpoint, psk)?;
        }
        Ok(())
    }

    // ----- application-facing -----

    /// `lwm2m_carrier_init`: BSDLIB_INIT, the bootstrap key when needed, CONNECTING, link up.
    pub fn init(&mut self, _now: Instant) {
        if !matches!(self.phase, Phase::Created) {
            return;
        }
        self.emit(CarrierEvent::BsdlibInit);
        if !self.bootstrapped {
            // The modem is offline after its own init: the bootstrap key goes in now, without a
            // DISCONNECTING/DISCONNECTED round.
            if let Some(bs) = self.engine.registry().security.bootstrap_account() {
                if !bs.secret_key().is_empty() {
                    let id = bs.id;
                    self.write_key(id);
                }
            }
        }
        self.link_connect(AfterLink::AwaitRun);
    }

    /// True once init has an answer: the link is up (CONNECTED) or its failure was deferred.
    pub fn init_done(&self) -> bool {
        !matches!(self.phase, Phase::Created | Phase::LinkConnecting { then: AfterLink::AwaitRun })
    }

    /// `lwm2m_carrier_run`: start bootstrap or registration.
    pub fn run(&mut self, now: Instant) {
        self.run_requested = true;
        if matches!(self.phase, Phase::Initialized) {
            self.start_protocol(now);
        }
    }

    /// The application answered REBOOT: `accepted` = its handler returned 0.
    pub fn reboot_response(&mut self, now: Instant, accepted: bool) {
        if !self.reboot_pending {
            return;
        }
        if accepted {
            self.reboot_pending = false;
            self.reboot_ask_at = None;
            self.push(PortAction::Reboot);
        } else {
            self.reboot_ask_at = Some(now.add_secs(REBOOT_ASK_AGAIN_S));
        }
    }

    /// Changes objects (Device setters) and lets the engine react.
    pub fn with_registry<R>(&mut self, now: Instant, f: impl FnOnce(&mut Registry) -> R) -> R {
        let r = self.engine.with_registry(now, f);
        self.after_engine(now);
        r
    }

    pub fn registry(&self) -> &Registry {
        self.engine.registry()
    }

    /// The endpoint name (also the PSK identity).
    pub fn endpoint(&self) -> &str {
        self.engine.config().endpoint.as_str()
    }

    pub fn is_bootstrapped(&self) -> bool {
        self.bootstrapped
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::Ready)
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    // ----- port-facing -----

    pub fn apn(&self) -> Option<&str> {
        self.apn.as_deref()
    }

    /// URI of the server of `security_instance`.
    pub fn server_uri(&self, security_instance: u16) -> Option<&str> {
        self.engine.server_uri(security_instance)
    }

    /// PSK identity and key of `security_instance`, for `WriteKey`.
    pub fn key_material(&self, security_instance: u16) -> Option<(&[u8], &[u8])> {
        let s = self.engine.registry().security.get(security_instance)?;
        Some((s.identity.as_slice(), s.secret_key()))
    }

    /// Modem security tag of `security_instance`: 25 plus its rank among the Security
    /// instances, so the four possible accounts use 25..28 whatever their instance ids.
    pub fn sec_tag(&self, security_instance: u16) -> u32 {
        let rank =
            self.engine.registry().security.iter().filter(|s| s.id < security_instance).count();
        SEC_TAG_BASE + rank as u32
    }

    pub fn link_up(&mut self, now: Instant) {
        let Phase::LinkConnecting { then } = self.phase else { return };
        self.pdn_backoff.reset();
        self.emit(CarrierEvent::Connected);
        match then {
            AfterLink::AwaitRun => {
                self.phase = Phase::Initialized;
                if self.run_requested {
                    self.start_protocol(now);
                }
            }
            AfterLink::Bootstrap => {
                self.phase = Phase::Bootstrapping;
                self.engine.bootstrap(now);
            }
            AfterLink::Register { bootstrapped } => {
                if bootstrapped {
                    self.emit(CarrierEvent::Bootstrapped);
                }
                self.phase = Phase::Registering;
                self.engine.start(now);
            }
            AfterLink::DeferBootstrap { delay_s } => {
                self.defer(now, DeferredReason::BootstrapSequence, delay_s, Retry::Bootstrap);
            }
        }
        self.drain_engine(now);
    }

    pub fn link_failed(&mut self, now: Instant, error: LinkError) {
        let Phase::LinkConnecting { then } = self.phase else { return };
        let delay = self.pdn_backoff.pdn_failed();
        if let LinkError::Attach(value) = error {
            self.emit(CarrierEvent::Error { code: ErrorCode::ConnectFail, value });
        }
        self.defer(now, DeferredReason::PdnActivate, delay, Retry::Link { then });
    }

    pub fn link_down(&mut self, _now: Instant) {
        if matches!(self.phase, Phase::FotaLinkDown) {
            self.emit(CarrierEvent::Disconnected);
            self.phase = Phase::FotaApplying;
            self.push(PortAction::FirmwareApply);
            return;
        }
        let Phase::KeysLinkDown { keys_for } = self.phase else { return };
        self.emit(CarrierEvent::Disconnected);
        self.phase = Phase::KeysWriting { next: 0, keys_for };
        self.write_next_key();
    }

    pub fn link_down_failed(&mut self, now: Instant, value: i32) {
        if !matches!(self.phase, Phase::KeysLinkDown { .. }) {
            return;
        }
        self.emit(CarrierEvent::Error { code: ErrorCode::DisconnectFail, value });
        // Keys cannot be written online: bootstrap again later (the result is not saved yet).
        let delay = self.connection_backoff.connection_failed();
        self.defer(now, DeferredReason::BootstrapSequence, delay, Retry::Bootstrap);
    }

    pub fn key_written(&mut self, _now: Instant, _sec_tag: u32, result: Result<(), i32>) {
        match (self.phase, result) {
            (Phase::KeysWriting { next, keys_for }, Ok(())) => {
                self.phase = Phase::KeysWriting { next: next.saturating_add(1), keys_for };
                self.write_next_key();
            }
            (Phase::KeysWriting { .. }, Err(value)) => {
                self.emit(CarrierEvent::Error { code: ErrorCode::Bootstrap, value });
                // Not saved: the next attempt bootstraps again, once the link is back.
                let delay_s = self.connection_backoff.connection_failed();
                self.link_connect(AfterLink::DeferBootstrap { delay_s });
            }
            (_, Err(value)) => {
                // The bootstrap key at init: report; the next bootstrap attempt writes it again.
                self.bootstrap_key_ok = false;
                self.emit(CarrierEvent::Error { code: ErrorCode::Bootstrap, value });
            }
            (_, Ok(())) => self.bootstrap_key_ok = true,
        }
    }

    pub fn connected(&mut self, now: Instant, conn: ConnId) {
        self.engine.handle_connected(now, conn);
        self.drain_engine(now);
    }

    pub fn connect_failed(&mut self, now: Instant, conn: ConnId, error: ConnectError) {
        self.last_connect_error = error;
        self.engine.handle_connect_failed(now, conn);
        self.drain_engine(now);
    }

    pub fn handle_datagram(&mut self, now: Instant, conn: ConnId, datagram: &[u8]) {
        self.engine.handle_datagram(now, conn, datagram);
        self.after_engine(now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.engine.handle_timeout(now);
        if let Phase::Deferred { until, retry } = self.phase {
            if now >= until {
                self.retry(now, retry);
            }
        }
        if let Some(d) = self.fota.download.as_mut() {
            d.poll(now);
            self.fota_progress(now);
        }
        if self.reboot_ask_at.is_some_and(|t| now >= t) {
            self.reboot_ask_at = None;
            self.emit(CarrierEvent::Reboot);
        }
        self.after_engine(now);
    }

    pub fn poll_transmit(&mut self, now: Instant) -> Option<(ConnId, &[u8])> {
        self.engine.poll_transmit(now)
    }

    pub fn poll_action(&mut self, now: Instant) -> Option<PortAction> {
        self.drain_engine(now);
        lwm2m_objects::vecs::pop_front(&mut self.actions)
    }

    pub fn poll_at(&self) -> Option<Instant> {
        let deferred = match self.phase {
            Phase::Deferred { until, .. } => Some(until),
            _ => None,
        };
        let download = self.fota.download.as_ref().and_then(Download::poll_at);
        let mut at = self.engine.poll_at();
        // A loop over the candidates, not an iterator chain: the array of `Option<Instant>`s
        // costs a copy and more code.
        for t in [deferred, self.reboot_ask_at, download] {
            at = earliest(at, t);
        }
        at
    }

    // ----- firmware update, port-facing -----

    /// Bytes of an image the port's DFU sink already holds (at init: where a download resumes).
    pub fn set_dfu_stored(&mut self, bytes: u32) {
        self.fota.stored = bytes;
    }

    /// The next thing the firmware download needs from the port's HTTP(S) connection.
    pub fn poll_fota_action(&mut self) -> Option<FotaAction<'_>> {
        self.fota.download.as_mut()?.poll_action()
    }

    pub fn fota_connected(&mut self, now: Instant) {
        if let Some(d) = self.fota.download.as_mut() {
            d.connected(now);
        }
        self.fota_progress(now);
    }

    pub fn fota_connect_failed(&mut self, now: Instant, kind: ConnectErrorKind) {
        if let Some(d) = self.fota.download.as_mut() {
            d.connect_failed(now, kind);
        }
        self.fota_progress(now);
    }

    /// Bytes from the firmware server; the image goes to `sink`.
    pub fn fota_received<D: DfuSink + ?Sized>(&mut self, now: Instant, data: &[u8], sink: &mut D) {
        if let Some(d) = self.fota.download.as_mut() {
            d.received(now, data, sink);
        }
        self.fota_progress(now);
    }

    pub fn fota_closed(&mut self, now: Instant) {
        if let Some(d) = self.fota.download.as_mut() {
            d.closed(now);
        }
        self.fota_progress(now);
    }

    /// The port installed the image (`Ok`) or could not (`Err(value)`).
    pub fn firmware_applied(&mut self, now: Instant, result: Result<(), i32>) {
        if !matches!(self.phase, Phase::FotaApplying) {
            return;
        }
        match result {
            Ok(()) => self.set_and_save_firmware(
                now,
                FwState::Idle,
                lwm2m_objects::firmware::result::SUCCESS,
            ),
            Err(value) => {
                let e = FotaError::UpdateFailed(lwm2m_fota::DfuError::Io);
                self.set_and_save_firmware(now, FwState::Idle, e.update_result());
                self.emit(CarrierEvent::Error { code: ErrorCode::FotaFail, value });
            }
        }
        // The sessions died with the link: register again once it is back.
        self.engine.close_all();
        self.drain_engine(now);
        if result.is_ok() {
            // The new firmware runs after a reboot; the application may postpone it.
            self.reboot_pending = true;
            self.emit(CarrierEvent::Reboot);
        }
        self.link_connect(AfterLink::Register { bootstrapped: false });
    }

    // ----- internals -----

    /// Sets /5/0/3 and /5/0/5 (observers of them are notified) and saves the firmware record:
    /// every state change is persisted, so one call does both.
    fn set_and_save_firmware(&mut self, now: Instant, state: FwState, result: u8) {
        self.engine.with_registry(now, |r| {
            r.firmware.set_state(state);
            let _ = r.firmware.set_result(result);
        });
        self.save_firmware(now);
    }

    /// Starts (or resumes from `offset`) the download of the Package URI.
    fn fota_start(&mut self, now: Instant, offset: u32) {
        let started = Download::start(self.engine.registry().firmware.package_uri(), offset, now);
        match started {
            Ok(d) => {
                self.fota.download = Some(d);
                self.fota.saved_offset = offset;
                self.set_and_save_firmware(now, FwState::Downloading, 0);
                // Before the first byte: the application must end its TLS sessions now.
                self.emit(CarrierEvent::FotaStart);
            }
            Err(e) => self.fota_failed(now, e),
        }
    }

    fn fota_failed(&mut self, now: Instant, e: FotaError) {
        self.fota.download = None;
        self.set_and_save_firmware(now, FwState::Idle, e.update_result());
        self.emit(CarrierEvent::Error { code: fota_error_code(&e), value: 0 });
    }

    /// Reacts to where the download got: save progress, finish, fail.
    fn fota_progress(&mut self, now: Instant) {
        let Some(d) = self.fota.download.as_ref() else { return };
        match d.status() {
            Status::Running => {
                if d.offset().saturating_sub(self.fota.saved_offset) >= fota::SAVE_EVERY_BYTES {
                    self.save_firmware(now);
                }
            }
            Status::Done { .. } => {
                self.fota.download = None;
                self.set_and_save_firmware(now, FwState::Downloaded, 0);
            }
            Status::Failed(e) => self.fota_failed(now, e),
        }
        self.drain_engine(now);
    }

    /// Saves the firmware-update state to the slot not holding the current record.
    fn save_firmware(&mut self, _now: Instant) {
        let fw = &self.engine.registry().firmware;
        let offset = self.fota.download.as_ref().map_or(0, Download::offset);
        // The body is encoded straight after the record's header room, then sealed there.
        let mut rec = [0u8; records::HEADER_LEN + fota::MAX_BODY];
        let body = rec.get_mut(records::HEADER_LEN..).unwrap_or_default();
        let encoded = fota::encode(fw.state(), fw.result(), fw.package_uri(), offset, body);
        let Ok(n) = encoded else { return };
        let (store, slot) = (&mut self.store, &mut self.fw_slot);
        match records::save(store, records::FIRMWARE, slot, &mut rec, n) {
            Ok(()) => self.fota.saved_offset = offset,
            Err(e) => log::error!("saving the firmware record failed: {e:?}"),
        }
    }

    fn push(&mut self, action: PortAction) {
        // The runner drains after every input; losing the oldest beats losing the newest.
        lwm2m_objects::vecs::push_evicting(&mut self.actions, action);
    }

    fn emit(&mut self, event: CarrierEvent) {
        self.push(PortAction::Event(event));
    }

    fn link_connect(&mut self, then: AfterLink) {
        self.emit(CarrierEvent::Connecting);
        self.push(PortAction::LinkUp);
        self.phase = Phase::LinkConnecting { then };
    }

    fn start_protocol(&mut self, now: Instant) {
        if self.bootstrapped {
            self.phase = Phase::Registering;
            self.engine.start(now);
        } else {
            self.phase = Phase::Bootstrapping;
            self.engine.bootstrap(now);
        }
        self.drain_engine(now);
    }

    fn defer(&mut self, now: Instant, reason: DeferredReason, delay_s: u32, retry: Retry) {
        self.phase = Phase::Deferred { until: now.add_secs(delay_s), retry };
        self.emit(CarrierEvent::Deferred {
            reason,
            timeout_s: i32::try_from(delay_s).unwrap_or(i32::MAX),
        });
    }

    fn retry(&mut self, now: Instant, retry: Retry) {
        match retry {
            Retry::Link { then } => self.link_connect(then),
            Retry::Bootstrap if !self.bootstrap_key_ok => {
                // The bootstrap key never made it into the modem: write it (link offline) first.
                self.key_plan.clear();
                if let Some(bs) = self.engine.registry().security.bootstrap_account() {
                    let _ = self.key_plan.push(bs.id);
                }
                self.phase = Phase::KeysLinkDown { keys_for: KeysFor::Bootstrap };
                self.emit(CarrierEvent::Disconnecting);
                self.push(PortAction::LinkDown);
            }
            Retry::Bootstrap => {
                self.phase = Phase::Bootstrapping;
                self.engine.bootstrap(now);
            }
            Retry::Register => {
                self.phase = Phase::Registering;
                self.engine.start(now);
            }
        }
    }

    /// Asks the port to write the key of `security_instance` to its modem security tag.
    fn write_key(&mut self, security_instance: u16) {
        let sec_tag = self.sec_tag(security_instance);
        self.push(PortAction::WriteKey { sec_tag, security_instance });
    }

    /// Writes the key of the next planned Security instance, or finishes the key phase.
    fn write_next_key(&mut self) {
        let Phase::KeysWriting { next, keys_for } = self.phase else { return };
        if let Some(&instance) = self.key_plan.get(usize::from(next)) {
            self.write_key(instance);
            return;
        }
        match keys_for {
            KeysFor::Servers => {
                // All keys are in the modem: only now is the bootstrap final and worth saving.
                self.bootstrapped = true;
                self.save_bootstrap(false);
                self.link_connect(AfterLink::Register { bootstrapped: true });
            }
            KeysFor::Bootstrap => {
                self.bootstrap_key_ok = true;
                self.link_connect(AfterLink::Bootstrap);
            }
        }
    }

    /// Moves engine actions to the port queue and reacts to engine events.
    fn drain_engine(&mut self, now: Instant) {
        while let Some(action) = self.engine.poll_action(now) {
            match action {
                Action::Connect { conn, security_instance } => {
                    let secure = self
                        .engine
                        .registry()
                        .security
                        .get(security_instance)
                        .is_some_and(|s| s.mode != mode::NO_SEC);
                    let sec_tag = secure.then(|| self.sec_tag(security_instance));
                    self.push(PortAction::Connect { conn, security_instance, sec_tag });
                }
                Action::Close { conn } => self.push(PortAction::Close { conn }),
                Action::Event(e) => self.on_engine_event(now, e),
            }
        }
    }

    fn after_engine(&mut self, now: Instant) {
        self.drain_engine(now);
        if self.bootstrapped && matches!(self.phase, Phase::Registering | Phase::Ready) {
            // Servers may have written their objects (lifetime, binding): keep storage current.
            self.save_bootstrap(false);
        }
    }

    fn on_engine_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Bootstrapped => {
                // New keys go into the modem with the link offline.
                self.key_plan.clear();
                for s in self.engine.registry().security.iter() {
                    if s.mode == mode::PSK
                        && !s.secret_key().is_empty()
                        && self.key_plan.push(s.id).is_err()
                    {
                        break;
                    }
                }
                self.phase = Phase::KeysLinkDown { keys_for: KeysFor::Servers };
                self.emit(CarrierEvent::Disconnecting);
                self.push(PortAction::LinkDown);
            }
            Event::BootstrapFailed(failure) | Event::RegistrationFailed { failure, .. } => {
                // One deferral for both, with the reason and retry of the stage that failed.
                let bootstrap = matches!(event, Event::BootstrapFailed(_));
                let (no_route, connect, other, retry) = if bootstrap {
                    use DeferredReason::*;
                    (BootstrapNoRoute, BootstrapConnect, BootstrapSequence, Retry::Bootstrap)
                } else {
                    use DeferredReason::*;
                    (ServerNoRoute, ServerConnect, ServerRegistration, Retry::Register)
                };
                let reason = match (failure, self.last_connect_error) {
                    (Failure::Connect, ConnectError::NoRoute) => no_route,
                    (Failure::Connect, ConnectError::Handshake) => connect,
                    _ => other,
                };
                let delay = self.connection_backoff.connection_failed();
                self.defer(now, reason, delay, retry);
            }
            Event::Registered { .. } => {
                if self.engine.is_registered() && matches!(self.phase, Phase::Registering) {
                    self.connection_backoff.reset();
                    self.phase = Phase::Ready;
                    self.emit(CarrierEvent::Ready);
                    if let Some(offset) = self.fota.resume_from.take() {
                        let offset = offset.min(self.fota.stored);
                        self.fota_start(now, offset);
                    }
                }
            }
            Event::Reboot | Event::FactoryReset => {
                if event == Event::FactoryReset {
                    // Forget the bootstrap: the device comes back as from the factory.
                    let _ = self.store.delete(records::BOOTSTRAP.a);
                    let _ = self.store.delete(records::BOOTSTRAP.b);
                    self.slot = Current::None;
                    self.saved_crc = None;
                    self.bootstrapped = false;
                }
                self.reboot_pending = true;
                self.emit(CarrierEvent::Reboot);
            }
            Event::BootstrapRequested => {
                // Remember the request across a power cut until the new bootstrap is saved.
                self.bootstrapped = false;
                self.save_bootstrap(true);
                self.phase = Phase::Bootstrapping;
            }
            Event::ServerDisabled { timeout_s, .. } => {
                self.defer(now, DeferredReason::NoReason, timeout_s, Retry::Register);
            }
            Event::Updated { .. } | Event::Deregistered { .. } => {}
            Event::FirmwareUriWritten => {
                self.fota.download = None;
                if self.engine.registry().firmware.package_uri().is_empty() {
                    // An empty URI cancels (LwM2M 1.0 §E.6): back to Idle, result 0.
                    self.set_and_save_firmware(now, FwState::Idle, 0);
                } else {
                    self.fota_start(now, 0);
                }
            }
            Event::FirmwareUpdate => {
                // The object accepted Update only in state Downloaded.
                self.set_and_save_firmware(now, FwState::Updating, 0);
                self.phase = Phase::FotaLinkDown;
                self.emit(CarrierEvent::Disconnecting);
                self.push(PortAction::LinkDown);
            }
        }
    }

    /// Saves the Security/Server objects to the slot not holding the current record, if they
    /// changed. A failed write leaves the previous record in place.
    fn save_bootstrap(&mut self, needs_bootstrap: bool) {
        // The body is encoded straight after the record's header room, then sealed there.
        let mut rec = [0u8; RECORD_BUF];
        let body = rec.get_mut(records::HEADER_LEN..).unwrap_or_default();
        let encoded = bootstrap_record::encode(self.engine.registry(), needs_bootstrap, body);
        let Ok(n) = encoded else {
            log::error!("bootstrap state does not fit its record");
            return;
        };
        let crc = records::crc32(body.get(..n).unwrap_or_default());
        if self.saved_crc == Some(crc) {
            return;
        }
        match records::save(&mut self.store, records::BOOTSTRAP, &mut self.slot, &mut rec, n) {
            Ok(()) => self.saved_crc = Some(crc),
            Err(e) => log::error!("saving the bootstrap record failed: {e:?}"),
        }
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The C error code of a firmware-update failure.
fn fota_error_code(e: &FotaError) -> ErrorCode {
    match e.error_code() {
        lwm2m_fota::error_code::FOTA_PKG => ErrorCode::FotaPkg,
        lwm2m_fota::error_code::FOTA_CONN => ErrorCode::FotaConn,
        lwm2m_fota::error_code::FOTA_CONN_LOST => ErrorCode::FotaConnLost,
        lwm2m_fota::error_code::FOTA_FAIL => ErrorCode::FotaFail,
        _ => ErrorCode::FotaProto,
    }
}

/// Puts a persisted firmware-update state back into the Firmware object. An update cut off
/// while installing is reported as failed: whether the image went in is unknown.
fn restore_firmware(registry: &mut Registry, rec: &FwRecord, fota: &mut FotaJob) {
    let fw = &mut registry.firmware;
    let _ = fw.restore_package_uri(rec.uri);
    let _ = fw.set_result(rec.result);
    match rec.state {
        FwState::Downloading => {
            fw.set_state(FwState::Downloading);
            fota.resume_from = Some(rec.offset);
        }
        FwState::Updating => {
            fw.set_state(FwState::Idle);
            let _ = fw.set_result(lwm2m_objects::firmware::result::UPDATE_FAILED);
        }
        state => fw.set_state(state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::store::StoreError;

    /// Nothing stored, every write accepted.
    #[derive(Debug)]
    struct EmptyStore;

    impl RecordStore for EmptyStore {
        fn read(&mut self, _id: u16, _buf: &mut [u8]) -> Result<usize, StoreError> {
            Err(StoreError::NotFound)
        }
        fn write(&mut self, _id: u16, _data: &[u8]) -> Result<(), StoreError> {
            Ok(())
        }
        fn delete(&mut self, _id: u16) -> Result<(), StoreError> {
            Ok(())
        }
    }

    fn identity(imei: &str) -> DeviceIdentity {
        DeviceIdentity { imei: String::try_from(imei).unwrap(), msisdn: None, home_network: None }
    }

    #[test]
    fn configure_errors_leave_the_carrier_unconfigured() {
        extern crate std;
        let mut c = std::boxed::Box::new(Carrier::blank(EmptyStore, 1));
        let config = CarrierConfig::default();
        // A bad IMEI is reported before a missing bootstrap server.
        let bad = identity("12345");
        assert_eq!(c.configure(&config, &bad), Err(InitError::Identity(IdentityError::BadImei)));
        let good = identity("490154203237518");
        assert_eq!(c.configure(&config, &good), Err(InitError::NoBootstrapServer));
        assert_eq!(c.endpoint(), "");
        // Unconfigured still: a corrected configuration is accepted.
        let config = CarrierConfig {
            bootstrap_uri: Some(String::try_from("coaps://bs.example:5684").unwrap()),
            ..CarrierConfig::default()
        };
        assert_eq!(c.configure(&config, &good), Ok(()));
        assert_eq!(c.endpoint(), "urn:imei:490154203237518");
        assert_eq!(c.configure(&config, &good), Err(InitError::AlreadyConfigured));
    }
}

//! The simulated port of lwm2m-carrier and a driver for lifecycle tests: everything runs on a
//! virtual clock against the scripted servers of lwm2m-testkit, with faults on demand (link,
//! keys, routes, wrong keys, power cuts at any storage write).

pub mod air;
pub mod firmware;
pub mod port;
pub mod store;

use lwm2m_carrier::{Carrier, CarrierConfig, CarrierEvent, DeviceIdentity, Runner};
use lwm2m_testkit::{BootstrapOp, BootstrapServer, SecurityInstance, ServerInstance};

pub use air::{AirLog, AirStats, Datagram, Dir, DTLS_RECORD_OVERHEAD};
pub use firmware::{FwServer, VecSink, FW_HOST};
pub use port::{SimPort, Target, BS_PSK, BS_URI, DM_PSK, DM_URI};
pub use store::MemStore;

pub const IMEI: &str = "490154203237518";

/// The application's handler in tests: records events, answers REBOOT from a script.
#[derive(Debug, Default)]
pub struct Recorder {
    pub events: Vec<CarrierEvent>,
    /// Answers to the next REBOOT events (0 = reboot now); 0 once empty.
    pub reboot_answers: Vec<i32>,
}

impl lwm2m_carrier::EventHandler for Recorder {
    fn on_event(&mut self, event: &CarrierEvent) -> i32 {
        self.events.push(*event);
        if *event == CarrierEvent::Reboot && !self.reboot_answers.is_empty() {
            return self.reboot_answers.remove(0);
        }
        0
    }
}

pub fn identity() -> DeviceIdentity {
    DeviceIdentity { imei: IMEI.try_into().unwrap(), msisdn: None, home_network: None }
}

/// The custom bootstrap settings pointing at the simulated bootstrap server.
pub fn config() -> CarrierConfig {
    let mut c = CarrierConfig::default();
    c.bootstrap_uri = Some(BS_URI.try_into().unwrap());
    c.psk = Some(heapless::Vec::from_slice(&BS_PSK).unwrap());
    c
}

/// Bootstrap script: the bootstrap account (same key), a management server (SSID 102), its
/// Server instance with `lifetime_s`, Finish.
pub fn bootstrap_script(dm_uri: &str, dm_psk: &[u8], lifetime_s: i64) -> Vec<BootstrapOp> {
    let identity = format!("urn:imei:{IMEI}");
    vec![
        BootstrapOp::delete_all(),
        BootstrapOp::write_security(
            0,
            &SecurityInstance::bootstrap_psk(BS_URI, identity.as_bytes(), &BS_PSK),
        ),
        BootstrapOp::write_security(
            1,
            &SecurityInstance::psk(dm_uri, 102, identity.as_bytes(), dm_psk),
        ),
        BootstrapOp::write_server(0, &ServerInstance::new(102, lifetime_s)),
        BootstrapOp::Finish,
    ]
}

/// One simulated device with its servers.
#[derive(Debug)]
pub struct Sim {
    pub runner: Runner<SimPort, Recorder>,
    seed: u64,
}

impl Sim {
    /// A factory-fresh device and the standard servers.
    pub fn new(seed: u64) -> Sim {
        let bs = BootstrapServer::new(bootstrap_script(DM_URI, &DM_PSK, 3600));
        Sim::with(config(), MemStore::new(), SimPort::new(bs), seed)
    }

    pub fn with(config: CarrierConfig, store: MemStore, port: SimPort, seed: u64) -> Sim {
        let carrier = Carrier::new(&config, &identity(), store, seed).expect("carrier");
        Sim { runner: Runner::new(carrier, port, Recorder::default()), seed }
    }

    pub fn port(&mut self) -> &mut SimPort {
        &mut self.runner.port
    }

    pub fn carrier(&mut self) -> &mut Carrier<MemStore> {
        &mut self.runner.carrier
    }

    pub fn events(&self) -> &[CarrierEvent] {
        &self.runner.handler.events
    }

    pub fn now(&self) -> u64 {
        self.runner.port.now
    }

    /// `lwm2m_carrier_init` then `lwm2m_carrier_run` until `pred` holds for an event, or
    /// `limit_ms` of virtual time pass. Returns whether it happened.
    pub fn run_until(&mut self, limit_ms: u64, pred: impl Fn(&CarrierEvent) -> bool) -> bool {
        let start = self.runner.handler.events.len();
        let deadline = self.runner.port.now + limit_ms;
        self.runner.init();
        self.runner.run_until(|r| {
            r.handler.events[start..].iter().any(&pred) || r.port.now >= deadline || r.port.rebooted
        });
        self.runner.handler.events[start..].iter().any(pred)
    }

    /// Keeps running (after `run_until`) for `ms` of virtual time.
    pub fn advance(&mut self, ms: u64) {
        let deadline = self.runner.port.now + ms;
        self.runner.run_until(|r| r.port.now >= deadline || r.port.rebooted);
    }

    /// Power off and on: RAM state is lost; storage (as the cut left it), the modem's keys and
    /// the servers survive.
    pub fn reboot(self, config: CarrierConfig) -> Sim {
        let mut store = self.runner.carrier.store().clone();
        store.restore_power();
        let old = self.runner.port;
        let mut port = SimPort::new(old.bs);
        port.dm = old.dm;
        port.keys = old.keys;
        port.now = old.now;
        port.bs_psk = old.bs_psk;
        port.dm_psk = old.dm_psk;
        // The modem's DFU area and the firmware server outlive the device's RAM.
        port.dfu = old.dfu;
        port.fw_server = old.fw_server;
        Sim::with(config, store, port, self.seed + 1)
    }
}

/// Event names, for readable assertions.
pub fn names(events: &[CarrierEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.name().trim_start_matches("LWM2M_CARRIER_EVENT_")).collect()
}

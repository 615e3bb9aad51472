//! The simulated modem and its scripted peer take the real carrier to READY on a virtual clock,
//! through the same `Runner` the Zephyr port uses: what the qemu_cortex_m3 sample does, checked
//! on the host.

use lwm2m_carrier::core_engine::coap::Instant;
use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::{
    Carrier, CarrierConfig, CarrierEvent, Input, Port, PortAction, RecordStore, Runner, StoreError,
};
use lwm2m_carrier_zephyr_modem::peer::BS_URI;
use lwm2m_carrier_zephyr_modem::{Modem, SimModem};

#[derive(Default)]
struct Mem(Vec<(u16, Vec<u8>)>);

impl RecordStore for Mem {
    fn read(&mut self, id: u16, buf: &mut [u8]) -> Result<usize, StoreError> {
        let (_, d) = self.0.iter().find(|(i, _)| *i == id).ok_or(StoreError::NotFound)?;
        buf.get_mut(..d.len()).ok_or(StoreError::TooLarge)?.copy_from_slice(d);
        Ok(d.len())
    }
    fn write(&mut self, id: u16, data: &[u8]) -> Result<(), StoreError> {
        self.0.retain(|(i, _)| *i != id);
        self.0.push((id, data.to_vec()));
        Ok(())
    }
    fn delete(&mut self, id: u16) -> Result<(), StoreError> {
        self.0.retain(|(i, _)| *i != id);
        Ok(())
    }
}

/// The Zephyr port's logic with a virtual clock instead of k_timer.
struct VirtualPort {
    now: u64,
    modem: SimModem,
}

impl Port for VirtualPort {
    type Store = Mem;
    fn now(&mut self) -> Instant {
        Instant::from_millis(self.now)
    }
    fn act(&mut self, action: PortAction, carrier: &Carrier<Mem>) {
        self.modem.act(self.now, action, carrier);
    }
    fn send(&mut self, conn: ConnId, d: &[u8]) {
        self.modem.send(self.now, conn, d);
    }
    fn wait(&mut self, deadline: Option<Instant>, buf: &mut [u8]) -> Input {
        if let Some(i) = self.modem.poll(self.now, buf) {
            return i;
        }
        let wake = [deadline.map(|d| d.as_millis()), self.modem.poll_at()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.now + 3_600_000);
        self.now = self.now.max(wake);
        self.modem.poll(self.now, buf).unwrap_or(Input::Timeout)
    }
}

fn config() -> CarrierConfig {
    let mut c = CarrierConfig::default();
    c.bootstrap_uri = Some(BS_URI.try_into().unwrap());
    c
}

fn run(store: Mem, previous: Option<&SimModem>) -> (Vec<CarrierEvent>, Mem, SimModem) {
    let mut modem = SimModem::new("490154203237518");
    if let Some(p) = previous {
        modem.carry_keys(p);
    }
    let identity = modem.identity();
    let carrier = Carrier::new(&config(), &identity, store, 7).expect("carrier");
    let mut events = Vec::new();
    let port = VirtualPort { now: 0, modem };
    let mut r = Runner::new(carrier, port, |e: &CarrierEvent| {
        events.push(*e);
        0
    });
    r.init();
    r.run_until(|r| r.carrier.is_ready() || r.port.now > 600_000);
    let Runner { carrier, port, .. } = r;
    let store = core::mem::take(carrier_store(carrier));
    (events, store, port.modem)
}

fn carrier_store(c: Carrier<Mem>) -> &'static mut Mem {
    Box::leak(Box::new(c)).store_mut()
}

#[test]
fn first_boot_bootstraps_and_registers() {
    let (events, store, modem) = run(Mem::default(), None);
    use CarrierEvent::*;
    assert_eq!(
        events,
        [
            BsdlibInit,
            Connecting,
            Connected,
            Disconnecting,
            Disconnected,
            Connecting,
            Connected,
            Bootstrapped,
            Ready
        ],
        "{events:?}"
    );
    assert!(modem.peer.stats.bootstrap_finished);
    assert_eq!(modem.peer.stats.registrations, 1);
    assert!(store.0.iter().all(|(id, _)| (0xCA00..=0xCAFF).contains(id)));
    assert!(!store.0.is_empty());
}

#[test]
fn second_boot_goes_straight_to_ready() {
    let (_, store, first) = run(Mem::default(), None);
    let (events, _, modem) = run(store, Some(&first));
    use CarrierEvent::*;
    assert_eq!(events, [BsdlibInit, Connecting, Connected, Ready], "{events:?}");
    assert_eq!(modem.peer.stats.bootstrap_requests, 0);
    assert_eq!(modem.peer.stats.registrations, 1);
}

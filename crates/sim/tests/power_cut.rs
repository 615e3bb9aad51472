//! Power cuts at every persisted write: whatever the cut leaves (nothing, a torn prefix, the
//! whole record), the next boot loads the old or the new state and reaches READY.

use lwm2m_carrier::CarrierEvent as E;
use lwm2m_carrier_simport::*;
use lwm2m_testkit::cf;

/// A life with several saves: first bootstrap, a lifetime written by the server, a
/// server-initiated re-bootstrap. Stops early when the power is cut. Returns the lifetimes
/// the device may legitimately have on its next boot.
fn life(sim: &mut Sim) {
    let stop = |sim: &Sim| sim.runner.carrier.store().is_dead();
    sim.run_until(120_000, |e| *e == E::Ready);
    if stop(sim) {
        return;
    }
    sim.port().dm.write("/1/0/1", cf::TEXT, b"7200".to_vec());
    sim.advance(5_000);
    if stop(sim) {
        return;
    }
    sim.port().dm.execute("/1/0/9", None);
    sim.run_until(120_000, |e| *e == E::Ready);
}

/// How many writes the whole life makes without a cut.
fn writes_in_a_life() -> usize {
    let mut sim = Sim::new(1);
    life(&mut sim);
    assert!(sim.events().contains(&E::Ready));
    sim.runner.carrier.store().writes()
}

#[test]
fn power_cut_at_every_write_leaves_old_or_new_state() {
    let total = writes_in_a_life();
    assert!(total >= 4, "only {total} writes: the scenario does not exercise persistence");
    let mut cases = 0;
    for n in 1..=total {
        for keep in [0usize, 1, 7, 13, 40, 200, usize::MAX] {
            let mut store = MemStore::new();
            store.cut_power_at_write(n, keep);
            let bs = lwm2m_testkit::BootstrapServer::new(bootstrap_script(DM_URI, &DM_PSK, 3600));
            let mut sim = Sim::with(config(), store, SimPort::new(bs), 100 + n as u64);
            life(&mut sim);
            assert!(sim.runner.carrier.store().is_dead(), "write {n} was never reached");

            // Power back: the device must come up on a consistent state and reach READY.
            let mut sim = sim.reboot(config());
            assert!(
                sim.run_until(3_600_000, |e| *e == E::Ready),
                "cut at write {n} keeping {keep} bytes: no READY after reboot: {:?}",
                names(sim.events())
            );
            let lifetime = sim.port().dm.registration().unwrap().lifetime;
            assert!(
                matches!(lifetime, Some(3600) | Some(7200)),
                "cut at write {n}/{keep}: lifetime {lifetime:?} is neither old nor new"
            );
            cases += 1;
        }
    }
    println!("{cases} power cuts over {total} writes, all recovered");
}

/// A torn write of the newer slot falls back to the older complete one (not to factory state).
#[test]
fn torn_newer_slot_falls_back_to_older_state() {
    let mut sim = Sim::new(7);
    assert!(sim.run_until(120_000, |e| *e == E::Ready));
    // Second save (lifetime) torn half-way: the first save must still load.
    sim.runner.carrier.store_mut().cut_power_at_write(1, 20);
    sim.port().dm.write("/1/0/1", cf::TEXT, b"7200".to_vec());
    sim.advance(5_000);
    assert!(sim.runner.carrier.store().is_dead());
    let mut sim = sim.reboot(config());
    assert!(sim.run_until(120_000, |e| *e == E::Ready));
    assert!(!sim.events().contains(&E::Bootstrapped), "fell back to factory state");
    assert_eq!(sim.port().dm.registration().unwrap().lifetime, Some(3600));
}

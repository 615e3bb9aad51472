//! The carrier lifecycle on the simulated port: every event, every deferred reason, the errors
//! that need no firmware download, the REBOOT veto, re-bootstrap, restart from storage.

use lwm2m_carrier::core_engine::carrier::{DeferredReason as R, ErrorCode};
use lwm2m_carrier::CarrierEvent as E;
use lwm2m_carrier_simport::*;
use lwm2m_testkit::{cf, BootstrapServer, Code};

fn ready(e: &E) -> bool {
    *e == E::Ready
}

fn deferred(sim: &Sim) -> Vec<(R, i32)> {
    sim.events()
        .iter()
        .filter_map(|e| match e {
            E::Deferred { reason, timeout_s } => Some((*reason, *timeout_s)),
            _ => None,
        })
        .collect()
}

/// The seed's charts: init, then the first-boot bootstrap, then READY.
#[test]
fn first_boot_follows_the_charts() {
    let mut sim = Sim::new(1);
    assert!(sim.run_until(120_000, ready), "{:?}", names(sim.events()));
    assert_eq!(
        names(sim.events()),
        [
            "BSDLIB_INIT",
            "CONNECTING",
            "CONNECTED",
            "DISCONNECTING",
            "DISCONNECTED",
            "CONNECTING",
            "CONNECTED",
            "BOOTSTRAPPED",
            "READY"
        ]
    );
    // Keys: the bootstrap account in tag 25, the management server in tag 26, both with the
    // generated identity.
    let keys = &sim.port().keys;
    assert_eq!(keys[&25].1, BS_PSK);
    assert_eq!(keys[&26].1, DM_PSK);
    assert_eq!(keys[&26].0, format!("urn:imei:{IMEI}").as_bytes());
    // Key writes happened with the link down only (the simulated modem refuses otherwise).
    assert!(sim.carrier().is_ready());
    assert_eq!(sim.port().dm.registration().unwrap().endpoint, format!("urn:imei:{IMEI}"));
}

/// Later boots go straight to READY from storage, without bootstrapping.
#[test]
fn later_boot_is_straight_to_ready() {
    let mut sim = Sim::new(2);
    assert!(sim.run_until(120_000, ready));
    let mut sim = sim.reboot(config());
    assert!(sim.run_until(120_000, ready));
    assert_eq!(names(sim.events()), ["BSDLIB_INIT", "CONNECTING", "CONNECTED", "READY"]);
    assert_eq!(sim.port().bs.bootstrap_requests().len(), 1, "bootstrapped twice");
}

/// A changed bootstrap URI does not re-bootstrap (documented); `force_bootstrap` does.
#[test]
fn changed_uri_does_not_rebootstrap_but_force_does() {
    let mut sim = Sim::new(3);
    assert!(sim.run_until(120_000, ready));
    let mut other = config();
    other.bootstrap_uri = Some("coaps://elsewhere.sim:5684".try_into().unwrap());
    let mut sim = sim.reboot(other);
    assert!(sim.run_until(120_000, ready));
    assert!(!sim.events().contains(&E::Bootstrapped));

    let mut forced = config();
    forced.force_bootstrap = true;
    let mut sim = sim.reboot(forced);
    assert!(sim.run_until(120_000, ready));
    assert!(sim.events().contains(&E::Bootstrapped));
    assert_eq!(sim.port().bs.bootstrap_requests().len(), 2);
}

/// PDN activation failures: DEFERRED PDN_ACTIVATE after 2 s, 1 min, 30 min, then success.
#[test]
fn deferred_pdn_activate_schedule() {
    let mut sim = Sim::new(4);
    sim.port().faults.pdn_failures = 3;
    assert!(sim.run_until(3 * 3_600_000, ready));
    let d = deferred(&sim);
    assert_eq!(d, [(R::PdnActivate, 2), (R::PdnActivate, 60), (R::PdnActivate, 1800)]);
}

/// An attach failure is ERROR CONNECT_FAIL with the modem's value, then a deferred retry.
#[test]
fn error_connect_fail() {
    let mut sim = Sim::new(5);
    sim.port().faults.attach_failures = vec![-116];
    assert!(sim.run_until(600_000, ready));
    assert!(sim.events().contains(&E::Error { code: ErrorCode::ConnectFail, value: -116 }));
    assert_eq!(deferred(&sim), [(R::PdnActivate, 2)]);
}

/// The link will not go offline for the key writes: ERROR DISCONNECT_FAIL, bootstrap retried.
#[test]
fn error_disconnect_fail() {
    let mut sim = Sim::new(6);
    sim.port().faults.offline_failure = Some(-5);
    assert!(sim.run_until(3_600_000, ready));
    assert!(sim.events().contains(&E::Error { code: ErrorCode::DisconnectFail, value: -5 }));
    assert_eq!(deferred(&sim), [(R::BootstrapSequence, 120)]);
    assert_eq!(sim.port().bs.bootstrap_requests().len(), 2);
}

/// A key write fails: ERROR BOOTSTRAP with the (negative) value, link back, bootstrap retried.
#[test]
fn error_bootstrap_key_write() {
    let mut sim = Sim::new(7);
    // Let init write the bootstrap key; fail the first server key after the bootstrap.
    assert!(sim.run_until(10_000, |e| *e == E::Connected));
    sim.port().faults.key_failures = vec![-13];
    assert!(sim.run_until(3_600_000, ready));
    let events = names(sim.events());
    assert!(sim.events().contains(&E::Error { code: ErrorCode::Bootstrap, value: -13 }));
    assert_eq!(deferred(&sim), [(R::BootstrapSequence, 120)]);
    // After the failure the link came back before the deferral.
    let err = sim.events().iter().position(|e| matches!(e, E::Error { .. })).unwrap();
    assert_eq!(&events[err + 1..err + 4], ["CONNECTING", "CONNECTED", "DEFERRED"]);
}

/// The bootstrap server has no route: BOOTSTRAP_NO_ROUTE, on the connection schedule.
#[test]
fn deferred_bootstrap_no_route_schedule() {
    let mut sim = Sim::new(8);
    sim.port().unreachable.push(Target::Bootstrap);
    assert!(!sim.run_until(30 * 60_000, ready));
    let d = deferred(&sim);
    assert_eq!(
        d[..4],
        [
            (R::BootstrapNoRoute, 120),
            (R::BootstrapNoRoute, 240),
            (R::BootstrapNoRoute, 360),
            (R::BootstrapNoRoute, 480)
        ]
    );
    sim.advance(25 * 3_600_000);
    let d = deferred(&sim);
    assert_eq!(d[4], (R::BootstrapNoRoute, 86_400), "then once a day");
    // The route comes back: the next retry succeeds and the schedule starts over.
    sim.port().unreachable.clear();
    sim.advance(25 * 3_600_000);
    assert!(sim.events().contains(&E::Ready));
}

/// Wrong bootstrap PSK: the handshake fails, BOOTSTRAP_CONNECT.
#[test]
fn deferred_bootstrap_connect() {
    let mut sim = Sim::new(9);
    sim.port().bs_psk = vec![0x99; 16];
    assert!(!sim.run_until(60_000, ready));
    assert_eq!(deferred(&sim), [(R::BootstrapConnect, 120)]);
}

/// The bootstrap server never finishes: BOOTSTRAP_SEQUENCE.
#[test]
fn deferred_bootstrap_sequence() {
    let bs = BootstrapServer::new(vec![lwm2m_testkit::BootstrapOp::delete_all()]);
    let mut sim = Sim::with(config(), MemStore::new(), SimPort::new(bs), 10);
    assert!(!sim.run_until(600_000, ready));
    assert_eq!(deferred(&sim)[0], (R::BootstrapSequence, 120));
}

/// The management server has no route: SERVER_NO_ROUTE.
#[test]
fn deferred_server_no_route() {
    let mut sim = Sim::new(11);
    sim.port().unreachable.push(Target::Management);
    assert!(!sim.run_until(60_000, ready));
    assert!(sim.events().contains(&E::Bootstrapped));
    assert_eq!(deferred(&sim), [(R::ServerNoRoute, 120)]);
}

/// The bootstrap server hands out a key the management server does not accept: SERVER_CONNECT.
#[test]
fn deferred_server_connect() {
    let bs = BootstrapServer::new(bootstrap_script(DM_URI, &[0x77; 16], 3600));
    let mut sim = Sim::with(config(), MemStore::new(), SimPort::new(bs), 12);
    assert!(!sim.run_until(60_000, ready));
    assert_eq!(deferred(&sim), [(R::ServerConnect, 120)]);
}

/// The management server refuses registration: SERVER_REGISTRATION; accepted on retry.
#[test]
fn deferred_server_registration() {
    let mut sim = Sim::new(13);
    sim.port().dm.refuse_registration(Some(Code::FORBIDDEN));
    assert!(!sim.run_until(60_000, ready));
    assert_eq!(deferred(&sim), [(R::ServerRegistration, 120)]);
    sim.port().dm.refuse_registration(None);
    sim.advance(130_000);
    assert_eq!(sim.events().last(), Some(&E::Ready));
}

/// The server disables itself (/1/0/4): DEFERRED NO_REASON with the Disable Timeout.
#[test]
fn deferred_no_reason_on_disable() {
    let mut sim = Sim::new(14);
    assert!(sim.run_until(120_000, ready));
    let h = sim.port().dm.write_text("/1/0/5", "300");
    sim.advance(1_000);
    assert_eq!(sim.port().dm.response(h).unwrap().code, Code::CHANGED);
    sim.port().dm.execute("/1/0/4", None);
    sim.advance(5_000);
    assert_eq!(deferred(&sim), [(R::NoReason, 300)]);
    sim.advance(300_000);
    assert_eq!(sim.events().last(), Some(&E::Ready), "back after the timeout");
}

/// REBOOT: a non-zero answer postpones; the library asks again; 0 reboots.
#[test]
fn reboot_veto_then_accept() {
    let mut sim = Sim::new(15);
    assert!(sim.run_until(120_000, ready));
    sim.runner.handler.reboot_answers = vec![1, 1, 0];
    sim.port().dm.execute("/3/0/4", None);
    sim.advance(1_000);
    assert!(!sim.port().rebooted, "rebooted despite the veto");
    sim.advance(59_000);
    assert!(!sim.port().rebooted);
    sim.advance(70_000);
    let reboots = sim.events().iter().filter(|e| **e == E::Reboot).count();
    assert_eq!(reboots, 3, "asked again after each veto");
    assert!(sim.port().rebooted);
}

/// The server asks for a new bootstrap (Bootstrap-Request Trigger): de-register, bootstrap,
/// new keys with the link offline, BOOTSTRAPPED, READY; storage holds the new result.
#[test]
fn server_initiated_rebootstrap() {
    let mut sim = Sim::new(16);
    assert!(sim.run_until(120_000, ready));
    let before = sim.events().len();
    sim.port().dm.execute("/1/0/9", None);
    assert!(sim.run_until(120_000, ready));
    assert_eq!(
        names(&sim.events()[before..]),
        ["DISCONNECTING", "DISCONNECTED", "CONNECTING", "CONNECTED", "BOOTSTRAPPED", "READY"]
    );
    assert_eq!(sim.port().bs.bootstrap_requests().len(), 2);
    assert!(!sim.port().dm.is_registered() || sim.port().dm.registrations().len() >= 2);
}

/// A server write to the Server object (lifetime) is persisted and survives a reboot.
#[test]
fn server_object_changes_survive_reboot() {
    let mut sim = Sim::new(17);
    assert!(sim.run_until(120_000, ready));
    sim.port().dm.write("/1/0/1", cf::TEXT, b"7200".to_vec());
    sim.advance(5_000);
    let mut sim = sim.reboot(config());
    assert!(sim.run_until(120_000, ready));
    assert_eq!(sim.port().dm.registration().unwrap().lifetime, Some(7200));
}

/// Device setters change what the server reads.
#[test]
fn device_setters_reach_the_server() {
    let mut sim = Sim::new(18);
    assert!(sim.run_until(120_000, ready));
    let now = sim.runner.port.now;
    let r = sim
        .carrier()
        .with_registry(lwm2m_carrier::core_engine::coap::Instant::from_millis(now), |r| {
            r.device.battery_level_set(42)
        });
    assert_eq!(r, Ok(()));
    let h = sim.port().dm.read("/3/0/9", Some(cf::TEXT));
    sim.advance(1_000);
    assert_eq!(sim.port().dm.response(h).unwrap().payload, b"42");
}

/// The bootstrap key write at init fails: ERROR BOOTSTRAP, the bootstrap handshake fails
/// (BOOTSTRAP_CONNECT), and the retry writes the key again (link offline) before bootstrapping.
#[test]
fn bootstrap_key_rewritten_after_failure_at_init() {
    let mut sim = Sim::new(19);
    sim.port().faults.key_failures = vec![-8];
    assert!(sim.run_until(3_600_000, ready), "{:?}", names(sim.events()));
    let err = E::Error { code: ErrorCode::Bootstrap, value: -8 };
    let err_at = sim.events().iter().position(|e| *e == err).expect("ERROR BOOTSTRAP");
    assert_eq!(deferred(&sim), [(R::BootstrapConnect, 120)]);
    let after = sim.events().iter().position(|e| matches!(e, E::Deferred { .. })).unwrap();
    assert!(err_at < after);
    assert_eq!(
        names(&sim.events()[after + 1..]),
        [
            "DISCONNECTING",
            "DISCONNECTED",
            "CONNECTING",
            "CONNECTED",
            "DISCONNECTING",
            "DISCONNECTED",
            "CONNECTING",
            "CONNECTED",
            "BOOTSTRAPPED",
            "READY"
        ]
    );
}

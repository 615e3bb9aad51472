//! The Rust API as an application uses it: a handler closure, init, run, the Device setters
//! with typed errors. Driven over the simulated port.

use lwm2m_carrier::{Carrier, CarrierEvent, Runner, SetError};
use lwm2m_carrier_simport::{
    bootstrap_script, config, identity, MemStore, SimPort, DM_PSK, DM_URI,
};
use lwm2m_testkit::{cf, BootstrapServer};

#[test]
fn closure_handler_init_run_and_setters() {
    let bs = BootstrapServer::new(bootstrap_script(DM_URI, &DM_PSK, 3600));
    let carrier = Carrier::new(&config(), &identity(), MemStore::new(), 5).unwrap();
    let mut seen = Vec::new();
    let mut runner = Runner::new(carrier, SimPort::new(bs), |e: &CarrierEvent| {
        seen.push(*e);
        0
    });
    runner.init();
    runner.run_until(|r| r.carrier.is_ready() || r.port.now > 300_000);
    assert!(runner.carrier.is_ready());

    // Typed errors with the C library's errno values; nothing changes on a refusal.
    assert_eq!(runner.with_device(|d| d.battery_level_set(101)), Err(SetError::Invalid));
    assert_eq!(SetError::Invalid.errno(), -22);
    assert_eq!(
        runner.with_device(|d| d.power_source_voltage_set(1, 3800)).map_err(|e| e.errno()),
        Err(-19)
    );
    assert_eq!(runner.with_device(|d| d.battery_level_set(64)), Ok(()));

    let h = runner.port.dm.read("/3/0/9", Some(cf::TEXT));
    let until = runner.port.now + 5_000;
    runner.run_until(|r| r.port.now > until);
    assert_eq!(runner.port.dm.response(h).unwrap().payload, b"64");
    drop(runner);
    assert_eq!(seen.first(), Some(&CarrierEvent::BsdlibInit));
    assert!(seen.contains(&CarrierEvent::Ready));
}

/// The in-place construction the Zephyr port uses (`blank`, then `configure` in the static
/// slot) gives the same carrier as `new`; configuring twice is refused and changes nothing.
#[test]
fn blank_then_configure_in_place() {
    use lwm2m_carrier::InitError;
    let mut carrier = Carrier::blank(MemStore::new(), 5);
    carrier.configure(&config(), &identity()).unwrap();
    let endpoint = carrier.endpoint().to_owned();
    assert_eq!(
        endpoint,
        Carrier::new(&config(), &identity(), MemStore::new(), 5).unwrap().endpoint()
    );
    let mut other = identity();
    other.imei = "356938035643809".try_into().unwrap();
    assert_eq!(carrier.configure(&config(), &other), Err(InitError::AlreadyConfigured));
    assert_eq!(carrier.endpoint(), endpoint);

    let bs = BootstrapServer::new(bootstrap_script(DM_URI, &DM_PSK, 3600));
    let mut runner = Runner::new(carrier, SimPort::new(bs), |_: &CarrierEvent| 0);
    runner.init();
    runner.run_until(|r| r.carrier.is_ready() || r.port.now > 300_000);
    assert!(runner.carrier.is_ready());
}

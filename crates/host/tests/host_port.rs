//! The host port and the in-process servers as a library: the runner reaches READY over real
//! DTLS on loopback, then the management server reads, writes and executes on the device
//! (queued from the test through `TestServers::with`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use lwm2m_carrier::{
    Carrier, CarrierConfig, CarrierEvent, DeviceIdentity, EventHandler, Port, Runner,
};
use lwm2m_carrier_host::{
    FileStore, HostPort, HostPortConfig, ServerSettings, ServersConfig, TestServers,
};
use lwm2m_testkit::{cf, tlv, Code};

const IMEI: &str = "490154203237518";

#[derive(Default)]
struct Recorder(Vec<CarrierEvent>);

impl EventHandler for Recorder {
    fn on_event(&mut self, event: &CarrierEvent) -> i32 {
        self.0.push(*event);
        0
    }
}

type Device = Runner<HostPort, Recorder>;

fn state_dir() -> PathBuf {
    let p = std::env::temp_dir().join(format!("host-port-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Runs until `cond` holds. A ticker thread wakes the port every 20 ms through its `Waker`,
/// so that conditions on the servers' side are noticed without waiting for a carrier timer.
fn run_until(device: &mut Device, what: &str, mut cond: impl FnMut(&Device) -> bool) {
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (waker, stop) = (device.port.waker(), stop.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) && waker.wake() {
                thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let end = Instant::now() + Duration::from_secs(20);
    device.run_until(|d| cond(d) || Instant::now() > end);
    stop.store(true, Ordering::SeqCst);
    ticker.join().unwrap();
    assert!(cond(device), "timed out waiting for {what}; events {:?}", device.handler.0);
}

#[test]
fn ready_then_read_write_execute_over_dtls() {
    let dir = state_dir();
    let endpoint = format!("urn:imei:{IMEI}");
    let servers =
        TestServers::start(ServersConfig::new(ServerSettings::generate().unwrap(), &endpoint))
            .unwrap();

    let mut config = CarrierConfig::default();
    config.bootstrap_uri = Some(servers.bootstrap_uri().as_str().try_into().unwrap());
    config.psk = Some(servers.settings().bootstrap_psk.as_slice().try_into().unwrap());
    let identity =
        DeviceIdentity { imei: IMEI.try_into().unwrap(), msisdn: None, home_network: None };
    let carrier = Carrier::new(&config, &identity, FileStore::open(&dir).unwrap(), 7).unwrap();
    let mut port_config = HostPortConfig::default();
    port_config.modem.link_delay = Duration::from_millis(20);
    let mut device = Runner::new(carrier, HostPort::new(port_config), Recorder::default());

    device.init();
    run_until(&mut device, "READY", |d| d.carrier.is_ready());
    assert!(device.handler.0.contains(&CarrierEvent::Bootstrapped));
    let reg = servers.registration().expect("registered");
    assert_eq!(reg.endpoint, endpoint);
    assert_eq!(reg.lifetime, Some(300));
    assert_eq!(servers.with(|s| (s.bootstrap_sessions, s.management_sessions)), (1, 1));

    // An application setter, then a server Read of it.
    let now = device.port.now();
    device.carrier.with_registry(now, |r| r.device.battery_level_set(42)).unwrap();
    let read = servers.with(|s| s.management.read("/3/0/9", Some(cf::TLV)));
    run_until(&mut device, "the Read response", |_| {
        servers.with(|s| s.management.response(read).is_some())
    });
    let resp = servers.with(|s| s.management.response(read)).unwrap();
    assert_eq!(resp.code, Code::CONTENT);
    assert_eq!(tlv::decode(&resp.payload).unwrap()[0].as_int().unwrap(), 42);

    // A Write the device refuses (Battery Level is read-only) and an Execute of Reboot.
    let write = servers.with(|s| s.management.write_text("/3/0/9", "1"));
    run_until(&mut device, "the Write response", |_| {
        servers.with(|s| s.management.response(write).is_some())
    });
    let code = servers.with(|s| s.management.response(write)).unwrap().code;
    assert_eq!(code, Code::METHOD_NOT_ALLOWED, "{code:?}");
    let exec = servers.with(|s| s.management.execute("/3/0/4", None));
    run_until(&mut device, "the reboot", |d| {
        d.port.reboot_requested() && servers.with(|s| s.management.response(exec).is_some())
    });
    assert_eq!(servers.with(|s| s.management.response(exec)).map(|r| r.code), Some(Code::CHANGED));
    assert_eq!(device.handler.0.last(), Some(&CarrierEvent::Reboot));

    servers.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

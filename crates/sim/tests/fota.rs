//! Firmware update over the air on the simulated port: the Firmware Update object's pull flow
//! driven by the management server, with the seed's FOTA chart, resume after a reboot, and the
//! error codes of a failed download.

use lwm2m_carrier::core_engine::carrier::ErrorCode;
use lwm2m_carrier::CarrierEvent as E;
use lwm2m_carrier_simport::*;
use lwm2m_fota::sink::seal;
use lwm2m_testkit::{cf, Code};

/// A 200 KB test image: pseudo-random bytes plus the CRC-32 trailer the sink checks.
fn image() -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    let mut img: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let trailer = seal(&img);
    img.extend_from_slice(&trailer);
    img
}

fn ready_sim(seed: u64, img: Vec<u8>) -> Sim {
    let mut sim = Sim::new(seed);
    sim.port().fw_server = Some(FwServer::new(img));
    assert!(sim.run_until(120_000, |e| *e == E::Ready));
    sim
}

fn read_text(sim: &mut Sim, path: &str) -> String {
    let h = sim.port().dm.read(path, Some(cf::TEXT));
    sim.advance(1_000);
    String::from_utf8(sim.port().dm.response(h).expect("no answer").payload).unwrap()
}

/// The whole flow: write the Package URI, observe State, download, execute Update, the link
/// sequence around the install, REBOOT, and the result reported after the reboot.
#[test]
fn write_uri_download_update_reboot_result() {
    let img = image();
    let mut sim = ready_sim(1, img.clone());
    let obs = sim.port().dm.observe("/5/0/3", Some(cf::TEXT));
    sim.advance(1_000);
    let before = sim.events().len();

    let h = sim.port().dm.write("/5/0/1", cf::TEXT, b"http://fw.sim/modem-1.2.4.bin".to_vec());
    sim.advance(2_000);
    assert_eq!(sim.port().dm.response(h).unwrap().code, Code::CHANGED);
    assert_eq!(sim.events()[before], E::FotaStart, "FOTA_START before the first byte");
    sim.advance(120_000);
    assert_eq!(sim.port().dfu.data, img, "the stored image differs from the served one");
    assert_eq!(read_text(&mut sim, "/5/0/3"), "2", "State is not Downloaded");
    let states: Vec<Vec<u8>> =
        sim.port().dm.notifications(obs).iter().map(|n| n.payload.clone()).collect();
    assert!(states.contains(&b"1".to_vec()) && states.contains(&b"2".to_vec()), "{states:?}");

    let after_download = sim.events().len();
    sim.runner.handler.reboot_answers = vec![1]; // the application postpones the reboot once
    sim.port().dm.execute("/5/0/2", None);
    assert!(sim.run_until(120_000, |e| *e == E::Ready));
    assert_eq!(
        names(&sim.events()[after_download..]),
        ["DISCONNECTING", "DISCONNECTED", "REBOOT", "CONNECTING", "CONNECTED", "READY"]
    );
    assert!(sim.port().dfu.applied);
    assert!(!sim.port().rebooted, "rebooted despite the veto");
    assert_eq!(read_text(&mut sim, "/5/0/5"), "1", "Update Result is not success");

    sim.advance(61_000); // asked again, accepted this time
    assert!(sim.port().rebooted);
    let mut sim = sim.reboot(config());
    assert!(sim.run_until(120_000, |e| *e == E::Ready));
    assert_eq!(read_text(&mut sim, "/5/0/5"), "1", "result lost across the reboot");
    assert_eq!(read_text(&mut sim, "/5/0/3"), "0");
}

/// Power lost half-way: after the reboot the download resumes where the last save left it
/// (a Range request from a non-zero offset) and the image is byte-identical.
#[test]
fn download_resumes_after_a_reboot() {
    let img = image();
    let mut sim = ready_sim(2, img.clone());
    sim.port().dm.write("/5/0/1", cf::TEXT, b"http://fw.sim/modem.bin".to_vec());
    // Run until well past the first save point (32 KB), then lose power.
    while sim.port().dfu.data.len() < 100_000 {
        sim.advance(200);
    }
    let mut sim = sim.reboot(config());
    assert!(sim.run_until(120_000, |e| *e == E::FotaStart), "no resume: {:?}", names(sim.events()));
    sim.advance(120_000);
    let starts = &sim.port().fw_server.as_ref().unwrap().range_starts;
    assert!(
        starts.iter().any(|&s| s >= 32 * 1024),
        "did not resume from a saved offset: {starts:?}"
    );
    assert_eq!(sim.port().dfu.data, img);
    assert_eq!(read_text(&mut sim, "/5/0/3"), "2");
}

/// A lost connection mid-download is resumed on a new connection from the last byte received.
#[test]
fn lost_connection_resumes() {
    let img = image();
    let mut sim = ready_sim(3, img.clone());
    sim.port().fw_server.as_mut().unwrap().cut_after = Some(70_000);
    sim.port().dm.write("/5/0/1", cf::TEXT, b"http://fw.sim/modem.bin".to_vec());
    sim.advance(180_000);
    assert_eq!(sim.port().dfu.data, img);
    assert!(!sim.events().iter().any(|e| matches!(e, E::Error { .. })), "{:?}", sim.events());
}

fn download_error(sim: &mut Sim) -> Option<E> {
    sim.events().iter().rev().find(|e| matches!(e, E::Error { .. })).copied()
}

/// A server that ignores Range when the download resumes: FOTA_PROTO, result 9.
#[test]
fn server_ignoring_range_is_fota_proto() {
    let img = image();
    let mut sim = ready_sim(4, img);
    {
        let server = sim.port().fw_server.as_mut().unwrap();
        server.cut_after = Some(50_000);
        server.honor_range = false;
    }
    sim.port().dm.write("/5/0/1", cf::TEXT, b"http://fw.sim/modem.bin".to_vec());
    sim.advance(180_000);
    assert_eq!(download_error(&mut sim), Some(E::Error { code: ErrorCode::FotaProto, value: 0 }));
    assert_eq!(read_text(&mut sim, "/5/0/5"), "9");
    assert_eq!(read_text(&mut sim, "/5/0/3"), "0");
}

/// An image failing its integrity check: FOTA_PKG, result 5.
#[test]
fn corrupt_image_is_fota_pkg() {
    let mut img = image();
    img[1000] ^= 0xFF;
    let mut sim = ready_sim(5, img);
    sim.port().dm.write("/5/0/1", cf::TEXT, b"http://fw.sim/modem.bin".to_vec());
    sim.advance(120_000);
    assert_eq!(download_error(&mut sim), Some(E::Error { code: ErrorCode::FotaPkg, value: 0 }));
    assert_eq!(read_text(&mut sim, "/5/0/5"), "5");
}

/// An unknown host: FOTA_CONN, result 7 (invalid URI, the name does not resolve).
#[test]
fn unknown_host_is_fota_conn() {
    let mut sim = ready_sim(6, image());
    sim.port().dm.write("/5/0/1", cf::TEXT, b"http://nowhere.sim/modem.bin".to_vec());
    sim.advance(60_000);
    assert_eq!(download_error(&mut sim), Some(E::Error { code: ErrorCode::FotaConn, value: 0 }));
    assert_eq!(read_text(&mut sim, "/5/0/5"), "7");
}

/// Installing fails: FOTA_FAIL, result 8, the device reconnects and stays READY.
#[test]
fn failed_install_is_fota_fail() {
    let mut sim = ready_sim(7, image());
    sim.port().dm.write("/5/0/1", cf::TEXT, b"http://fw.sim/modem.bin".to_vec());
    sim.advance(120_000);
    sim.port().dfu.fail_apply = true;
    sim.port().dm.execute("/5/0/2", None);
    assert!(sim.run_until(120_000, |e| *e == E::Ready));
    assert!(sim.events().contains(&E::Error { code: ErrorCode::FotaFail, value: -5 }));
    assert!(!sim.events()[sim.events().len() - 6..].contains(&E::Reboot));
    assert_eq!(read_text(&mut sim, "/5/0/5"), "8");
}

/// An empty Package URI cancels a download: State back to Idle.
#[test]
fn empty_uri_cancels() {
    let mut sim = ready_sim(8, image());
    sim.port().dm.write("/5/0/1", cf::TEXT, b"http://fw.sim/modem.bin".to_vec());
    sim.advance(300);
    let h = sim.port().dm.write("/5/0/1", cf::TEXT, Vec::new());
    sim.advance(2_000);
    assert_eq!(sim.port().dm.response(h).unwrap().code, Code::CHANGED);
    assert_eq!(read_text(&mut sim, "/5/0/3"), "0");
    let len = sim.port().dfu.data.len();
    sim.advance(60_000);
    assert_eq!(sim.port().dfu.data.len(), len, "still downloading after the cancel");
}

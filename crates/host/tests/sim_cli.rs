//! The `lwm2m-carrier-sim` binary end to end: in-process servers on loopback, real DTLS,
//! files in a state directory, exit codes and output lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_lwm2m-carrier-sim");

/// A state directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let p = std::env::temp_dir().join(format!("sim-cli-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sim(args: &[&str]) -> (Output, String, String) {
    let start = Instant::now();
    let out = Command::new(BIN).args(args).output().expect("run lwm2m-carrier-sim");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("$ lwm2m-carrier-sim {} ({:?})\n{stdout}{stderr}", args.join(" "), start.elapsed());
    (out, stdout, stderr)
}

fn events(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("LWM2M_CARRIER_EVENT_")).collect()
}

#[test]
fn first_run_bootstraps_and_second_run_goes_straight_to_ready() {
    let state = TempDir::new("reboot");
    let dir = state.path().to_str().unwrap();
    let (out, stdout, _) = sim(&["--state", dir, "--until", "ready", "--timeout", "30"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        events(&stdout),
        [
            "LWM2M_CARRIER_EVENT_BSDLIB_INIT",
            "LWM2M_CARRIER_EVENT_CONNECTING",
            "LWM2M_CARRIER_EVENT_CONNECTED",
            "LWM2M_CARRIER_EVENT_DISCONNECTING",
            "LWM2M_CARRIER_EVENT_DISCONNECTED",
            "LWM2M_CARRIER_EVENT_CONNECTING",
            "LWM2M_CARRIER_EVENT_CONNECTED",
            "LWM2M_CARRIER_EVENT_BOOTSTRAPPED",
            "LWM2M_CARRIER_EVENT_READY",
        ]
    );

    let (out, stdout, _) =
        sim(&["--state", dir, "--until", "LWM2M_CARRIER_EVENT_READY", "--timeout", "30"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        events(&stdout),
        [
            "LWM2M_CARRIER_EVENT_BSDLIB_INIT",
            "LWM2M_CARRIER_EVENT_CONNECTING",
            "LWM2M_CARRIER_EVENT_CONNECTED",
            "LWM2M_CARRIER_EVENT_READY",
        ]
    );
}

#[test]
fn nothing_listening_times_out_with_deferred() {
    let (out, stdout, stderr) = sim(&[
        "--timeout",
        "1",
        "--bootstrap-uri",
        "coaps://127.0.0.1:9",
        "--psk",
        "000102030405060708090a0b0c0d0e0f",
        "--handshake-timeout",
        "0.3",
        "--link-delay",
        "50",
    ]);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stdout.contains(
            "LWM2M_CARRIER_EVENT_DEFERRED reason=LWM2M_CARRIER_DEFERRED_BOOTSTRAP_CONNECT timeout=120"
        ),
        "{stdout}"
    );
    assert!(stderr.contains("timeout"), "{stderr}");
}

#[test]
fn wrong_psk_surfaces_as_deferred_bootstrap_connect() {
    // The in-process bootstrap server keeps its own random key; this one differs.
    let (out, stdout, _) = sim(&[
        "--psk",
        "00112233445566778899aabbccddeeff",
        "--handshake-timeout",
        "1",
        "--until",
        "deferred",
        "--timeout",
        "20",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let deferred = events(&stdout).into_iter().find(|l| l.contains("DEFERRED")).unwrap();
    assert_eq!(
        deferred,
        "LWM2M_CARRIER_EVENT_DEFERRED reason=LWM2M_CARRIER_DEFERRED_BOOTSTRAP_CONNECT timeout=120"
    );
    assert!(!stdout.contains("BOOTSTRAPPED"), "{stdout}");
}

#[test]
fn bad_flags_exit_64_with_a_message() {
    for (args, needle) in [
        (&["--frobnicate"][..], "unknown option --frobnicate"),
        (&["--imei", "12345"], "--imei"),
        (&["--until", "lunch"], "--until"),
        (&["--timeout", "soon"], "--timeout"),
        (&["--battery-level", "101"], "--battery-level"),
        (&["--power-sources", "1,3"], "--power-sources"),
        (&["--psk", "not-hex"], "--psk"),
        (&["--bootstrap-uri", "http://example.com"], "--bootstrap-uri"),
        (&["--state"], "needs a value"),
    ] {
        let (out, stdout, stderr) = sim(args);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
    let (out, stdout, _) = sim(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("--bootstrap-uri") && stdout.contains("--until"), "{stdout}");
}

#[test]
fn debug_log_shows_coap_traffic_and_never_keys() {
    let state = TempDir::new("debug");
    let dir = state.path().to_str().unwrap();
    let (out, stdout, stderr) = sim(&[
        "--state",
        dir,
        "--until",
        "ready",
        "--timeout",
        "30",
        "--log",
        "trace",
        "--battery-level",
        "87",
        "--power-sources",
        "1,5",
        "--device-type",
        "Simulated",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let traffic: Vec<&str> = stderr.lines().filter(|l| l.contains(" coap] ")).collect();
    assert!(traffic.iter().any(|l| l.contains("-> conn0 CON 0.02 POST") && l.contains("path=/bs")));
    assert!(traffic.iter().any(|l| l.contains("<- conn0 CON 0.03 PUT") && l.contains("path=/0/1")));
    assert!(traffic.iter().any(|l| l.contains("path=/rd") && l.contains("query=ep=urn:imei:")));
    assert!(traffic.iter().any(|l| l.contains("<- conn0 ACK 2.01") && l.contains("location=/rd/")));

    // Neither the servers' keys nor their bytes in any form appear in the output.
    let conf = std::fs::read_to_string(state.path().join("servers.conf")).unwrap();
    for line in conf.lines().filter(|l| l.contains("_psk=")) {
        let hex = line.split_once('=').unwrap().1;
        assert!(!stdout.contains(hex) && !stderr.contains(hex), "key printed");
        let upper = hex.to_ascii_uppercase();
        assert!(!stderr.contains(&upper), "key printed");
        // Debug form of the bytes, e.g. "[18, 52, 86".
        let bytes: Vec<u8> =
            (0..6).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let debug = format!("{bytes:?}");
        let debug = debug.trim_end_matches(']');
        assert!(!stdout.contains(debug) && !stderr.contains(debug), "key bytes printed");
    }
}

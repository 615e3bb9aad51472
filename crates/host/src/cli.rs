//! Command line of `lwm2m-carrier-sim`: hand-rolled parsing (no dependencies), validation of
//! every value before anything starts, and the event lines it prints.
//!
//! Values are given as `--flag VALUE` or `--flag=VALUE`. Device-object values are checked
//! with the Device object's own setters (the rules of `lwm2m_carrier_*_set`), so a value
//! rejected here is one the library would reject.

use std::path::PathBuf;
use std::time::Duration;

use log::LevelFilter;
use lwm2m_carrier::core_engine::objects::{Device, SetError};
use lwm2m_carrier::CarrierEvent;

use crate::modem::DEFAULT_IMEI;
use crate::port::DEFAULT_HANDSHAKE_TIMEOUT;
use crate::server_settings::from_hex;
use crate::uri::ServerUri;

/// Exit code for usage errors (BSD `EX_USAGE`).
pub const EXIT_USAGE: i32 = 64;
/// Exit code when `--timeout` ran out.
pub const EXIT_TIMEOUT: i32 = 2;

pub const USAGE: &str = "\
lwm2m-carrier-sim: a simulated nRF91 device running the open LwM2M carrier library.

With no --bootstrap-uri it starts a bootstrap server and a management server on loopback
(DTLS-PSK) and runs the whole flow against them. Prints one line per carrier event.

USAGE: lwm2m-carrier-sim [OPTIONS]

Carrier configuration:
  --bootstrap-uri URI        custom bootstrap server (coap:// or coaps://)
  --psk HEX                  bootstrap PSK in hex (default with the in-process servers:
                             theirs); never printed
  --apn NAME                 custom APN
  --certification            certification mode
Modem:
  --imei 15DIGITS            default 490154203237518
  --msisdn DIGITS
  --link-delay MS            LTE attach time of the simulated modem (default 200)
  --handshake-timeout SECS   total DTLS handshake time (default 10)
Device object (applied through the lwm2m_carrier_*_set rules):
  --battery-level N          0-100
  --battery-status N         0-6
  --device-type S  --hardware-version S  --software-version S
  --power-sources LIST       comma-separated, e.g. 1,5
  --memory-total KB
Run control:
  --state DIR                persisted records (a second run is a reboot); default: a
                             fresh temporary directory
  --until EVENT              exit 0 when EVENT happens (ready, bootstrapped, deferred,
                             error, connected, ... with or without LWM2M_CARRIER_EVENT_)
  --timeout SECS             give up after SECS: exit 2
  --lifetime SECS            registration lifetime the in-process bootstrap gives (300)
  --log LEVEL                off, error, warn (default), info, debug (CoAP traffic), trace
  -h, --help
";

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help,
    Run(Box<Options>),
}

/// Every option, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub bootstrap_uri: Option<String>,
    /// Never printed (`Debug` of `Options` is only used in tests).
    pub psk: Option<Vec<u8>>,
    pub apn: Option<String>,
    pub certification: bool,
    pub imei: String,
    pub msisdn: Option<String>,
    pub link_delay: Duration,
    pub handshake_timeout: Duration,
    pub device: DeviceValues,
    pub state: Option<PathBuf>,
    pub until: Option<Until>,
    pub timeout: Option<Duration>,
    pub lifetime_s: u32,
    pub log: LevelFilter,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bootstrap_uri: None,
            psk: None,
            apn: None,
            certification: false,
            imei: DEFAULT_IMEI.to_owned(),
            msisdn: None,
            link_delay: Duration::from_millis(200),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            device: DeviceValues::default(),
            state: None,
            until: None,
            timeout: None,
            lifetime_s: 300,
            log: LevelFilter::Warn,
        }
    }
}

/// Device object values from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceValues {
    pub battery_level: Option<u8>,
    pub battery_status: Option<i32>,
    pub device_type: Option<String>,
    pub hardware_version: Option<String>,
    pub software_version: Option<String>,
    pub power_sources: Option<Vec<u8>>,
    pub memory_total_kb: Option<u32>,
}

impl DeviceValues {
    /// Applies the values through the setters; the error names the flag and the errno.
    pub fn apply(&self, d: &mut Device) -> Result<(), String> {
        fn check(flag: &str, r: Result<(), SetError>) -> Result<(), String> {
            r.map_err(|e| format!("{flag}: value rejected by the Device object ({})", e.errno()))
        }
        if let Some(v) = &self.power_sources {
            check("--power-sources", d.avail_power_sources_set(v))?;
        }
        if let Some(v) = self.battery_level {
            check("--battery-level", d.battery_level_set(v))?;
        }
        if let Some(v) = self.battery_status {
            check("--battery-status", d.battery_status_set(v))?;
        }
        if let Some(v) = &self.device_type {
            check("--device-type", d.device_type_set(v))?;
        }
        if let Some(v) = &self.hardware_version {
            check("--hardware-version", d.hardware_version_set(v))?;
        }
        if let Some(v) = &self.software_version {
            check("--software-version", d.software_version_set(v))?;
        }
        if let Some(v) = self.memory_total_kb {
            check("--memory-total", d.memory_total_set(v))?;
        }
        Ok(())
    }
}

/// The event `--until` waits for: its C type number and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Until {
    pub type_id: u32,
    pub name: &'static str,
}

const EVENTS: &[(&str, u32)] = &[
    ("BSDLIB_INIT", 1),
    ("CONNECTING", 2),
    ("CONNECTED", 3),
    ("DISCONNECTING", 4),
    ("DISCONNECTED", 5),
    ("BOOTSTRAPPED", 6),
    ("READY", 7),
    ("DEFERRED", 8),
    ("FOTA_START", 9),
    ("REBOOT", 10),
    ("ERROR", 20),
];

impl Until {
    /// `ready`, `READY`, `LWM2M_CARRIER_EVENT_READY`, `lwm2m_carrier_event_ready`.
    pub fn parse(s: &str) -> Option<Until> {
        let upper = s.to_ascii_uppercase();
        let short = upper.strip_prefix("LWM2M_CARRIER_EVENT_").unwrap_or(&upper);
        EVENTS.iter().find(|(n, _)| *n == short).map(|&(name, type_id)| Until { type_id, name })
    }

    pub fn matches(&self, event: &CarrierEvent) -> bool {
        event.type_id() == self.type_id
    }
}

/// The line printed for an event: the C name and its data.
pub fn event_line(event: &CarrierEvent) -> String {
    match event {
        CarrierEvent::Deferred { reason, timeout_s } => {
            format!("{} reason={} timeout={timeout_s}", event.name(), reason.name())
        }
        CarrierEvent::Error { code, value } => {
            format!("{} code={} value={value}", event.name(), code.name())
        }
        _ => event.name().to_owned(),
    }
}

/// Parses the arguments (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut o = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        // Switches take no value.
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--certification" => {
                if inline.is_some() {
                    return Err("--certification takes no value".into());
                }
                o.certification = true;
                continue;
            }
            _ => {}
        }
        if !flag.starts_with('-') {
            return Err(format!("unexpected argument {arg:?}"));
        }
        if !is_value_flag(&flag) {
            return Err(format!("unknown option {flag}"));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => return Err(format!("{flag} needs a value")),
        };
        set(&mut o, &flag, &value)?;
    }
    let mut scratch = Device::new();
    o.device.apply(&mut scratch)?;
    Ok(Command::Run(Box::new(o)))
}

const VALUE_FLAGS: &[&str] = &[
    "--bootstrap-uri",
    "--psk",
    "--apn",
    "--imei",
    "--msisdn",
    "--link-delay",
    "--handshake-timeout",
    "--battery-level",
    "--battery-status",
    "--device-type",
    "--hardware-version",
    "--software-version",
    "--power-sources",
    "--memory-total",
    "--state",
    "--until",
    "--timeout",
    "--lifetime",
    "--log",
];

fn is_value_flag(flag: &str) -> bool {
    VALUE_FLAGS.contains(&flag)
}

fn set(o: &mut Options, flag: &str, v: &str) -> Result<(), String> {
    let bad = |what: &str| format!("{flag}: {what}, got {v:?}");
    match flag {
        "--bootstrap-uri" => {
            ServerUri::parse(v).map_err(|e| format!("{flag}: {e}"))?;
            if v.len() > 63 {
                return Err(format!("{flag}: at most 63 characters"));
            }
            o.bootstrap_uri = Some(v.to_owned());
        }
        "--psk" => {
            // Not echoed back: it is a secret.
            let key = from_hex(v).filter(|k| !k.is_empty() && k.len() <= 64);
            o.psk = Some(key.ok_or_else(|| format!("{flag}: expected 1-64 bytes of hex"))?);
        }
        "--apn" => {
            if v.is_empty() || v.len() > 63 {
                return Err(bad("expected 1-63 characters"));
            }
            o.apn = Some(v.to_owned());
        }
        "--imei" => {
            if v.len() != 15 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("expected 15 digits"));
            }
            o.imei = v.to_owned();
        }
        "--msisdn" => {
            if v.is_empty() || v.len() > 15 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("expected 1-15 digits"));
            }
            o.msisdn = Some(v.to_owned());
        }
        "--link-delay" => {
            let ms: u64 = v.parse().map_err(|_| bad("expected milliseconds"))?;
            o.link_delay = Duration::from_millis(ms);
        }
        "--handshake-timeout" => {
            o.handshake_timeout = seconds(v).ok_or_else(|| bad("expected seconds > 0"))?
        }
        "--timeout" => o.timeout = Some(seconds(v).ok_or_else(|| bad("expected seconds > 0"))?),
        "--lifetime" => {
            o.lifetime_s =
                v.parse().ok().filter(|&s| s > 0).ok_or_else(|| bad("expected seconds > 0"))?;
        }
        "--battery-level" => {
            o.device.battery_level = Some(v.parse().map_err(|_| bad("expected 0-100"))?);
        }
        "--battery-status" => {
            o.device.battery_status = Some(v.parse().map_err(|_| bad("expected 0-6"))?);
        }
        "--device-type" => o.device.device_type = Some(v.to_owned()),
        "--hardware-version" => o.device.hardware_version = Some(v.to_owned()),
        "--software-version" => o.device.software_version = Some(v.to_owned()),
        "--power-sources" => {
            let list: Result<Vec<u8>, _> = v.split(',').map(|s| s.trim().parse::<u8>()).collect();
            o.device.power_sources =
                Some(list.map_err(|_| bad("expected a comma-separated list such as 1,5"))?);
        }
        "--memory-total" => {
            o.device.memory_total_kb = Some(v.parse().map_err(|_| bad("expected kilobytes"))?);
        }
        "--state" => {
            if v.is_empty() {
                return Err(bad("expected a directory"));
            }
            o.state = Some(PathBuf::from(v));
        }
        "--until" => {
            o.until = Some(Until::parse(v).ok_or_else(|| {
                bad("expected an event such as ready, bootstrapped, deferred, error, connected")
            })?);
        }
        "--log" => {
            o.log = match v.to_ascii_lowercase().as_str() {
                "off" => LevelFilter::Off,
                "error" => LevelFilter::Error,
                "warn" => LevelFilter::Warn,
                "info" => LevelFilter::Info,
                "debug" => LevelFilter::Debug,
                "trace" => LevelFilter::Trace,
                _ => return Err(bad("expected off, error, warn, info, debug or trace")),
            };
        }
        _ => return Err(format!("unknown option {flag}")),
    }
    Ok(())
}

/// Positive, finite seconds, fractions allowed (`0.5`).
fn seconds(v: &str) -> Option<Duration> {
    let s: f64 = v.parse().ok()?;
    (s.is_finite() && s > 0.0 && s < 1e9).then(|| Duration::from_secs_f64(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwm2m_carrier::{DeferredReason, ErrorCode};

    fn run(args: &[&str]) -> Result<Options, String> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Command::Run(o) => Ok(*o),
            Command::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults_and_values() {
        let o = run(&[]).unwrap();
        assert_eq!(o, Options::default());
        let o = run(&[
            "--bootstrap-uri",
            "coaps://127.0.0.1:5684",
            "--psk=0011aabb",
            "--until",
            "LWM2M_CARRIER_EVENT_READY",
            "--timeout",
            "1.5",
            "--power-sources",
            "1,5",
            "--certification",
            "--log",
            "DEBUG",
        ])
        .unwrap();
        assert_eq!(o.bootstrap_uri.as_deref(), Some("coaps://127.0.0.1:5684"));
        assert_eq!(o.psk, Some(vec![0, 0x11, 0xaa, 0xbb]));
        assert_eq!(o.until, Some(Until { type_id: 7, name: "READY" }));
        assert_eq!(o.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(o.device.power_sources, Some(vec![1, 5]));
        assert!(o.certification);
        assert_eq!(o.log, LevelFilter::Debug);
        assert_eq!(parse(["--help".to_string()]), Ok(Command::Help));
    }

    #[test]
    fn bad_flags_are_explained() {
        for (args, needle) in [
            (&["--nope"][..], "unknown option --nope"),
            (&["--imei", "123"], "15 digits"),
            (&["--until", "party"], "--until"),
            (&["--timeout"], "needs a value"),
            (&["--timeout", "-1"], "--timeout"),
            (&["--psk", "xyz"], "hex"),
            (&["--battery-level", "101"], "--battery-level: value rejected"),
            (&["--battery-level", "300"], "expected 0-100"),
            (&["--power-sources", "1,3"], "--power-sources"),
            (&["--device-type", ""], "--device-type"),
            (&["--bootstrap-uri", "http://x"], "unsupported scheme"),
            (&["stray"], "unexpected argument"),
            (&["--certification=yes"], "no value"),
        ] {
            let e = run(args).unwrap_err();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn psk_is_not_echoed() {
        let e = run(&["--psk", "00112233445566zz"]).unwrap_err();
        assert!(!e.contains("00112233"), "{e}");
    }

    #[test]
    fn until_forms() {
        for s in ["ready", "Ready", "LWM2M_CARRIER_EVENT_READY", "lwm2m_carrier_event_ready"] {
            assert_eq!(Until::parse(s).map(|u| u.type_id), Some(7), "{s}");
        }
        assert!(Until::parse("error")
            .unwrap()
            .matches(&CarrierEvent::Error { code: ErrorCode::Bootstrap, value: -8 }));
        assert_eq!(Until::parse("LWM2M_CARRIER_EVENT_"), None);
    }

    #[test]
    fn event_lines() {
        let d = CarrierEvent::Deferred { reason: DeferredReason::ServerConnect, timeout_s: 120 };
        assert_eq!(
            event_line(&d),
            "LWM2M_CARRIER_EVENT_DEFERRED reason=LWM2M_CARRIER_DEFERRED_SERVER_CONNECT timeout=120"
        );
        let e = CarrierEvent::Error { code: ErrorCode::Bootstrap, value: -8 };
        assert_eq!(
            event_line(&e),
            "LWM2M_CARRIER_EVENT_ERROR code=LWM2M_CARRIER_ERROR_BOOTSTRAP value=-8"
        );
        assert_eq!(event_line(&CarrierEvent::Ready), "LWM2M_CARRIER_EVENT_READY");
    }
}

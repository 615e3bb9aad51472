//! `lwm2m-carrier-sim`: a simulated device running the carrier library on the host port.
//!
//! Prints one line per carrier event on stdout (logs and CoAP traffic go to stderr). With no
//! `--bootstrap-uri`, it starts the in-process bootstrap and management servers first; their
//! ports and keys are kept in the state directory so that a second run with the same
//! `--state` finds them again and goes straight to READY.
//!
//! A REBOOT the carrier asks for restarts the carrier in-process from the same state
//! directory (the servers keep running), as a device would come back after a reset.
//!
//! Exit codes: 0 `--until` reached, 2 `--timeout` reached, 64 bad usage, 1 anything else.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use lwm2m_carrier::{
    Carrier, CarrierConfig, CarrierEvent, DeviceIdentity, EventHandler, Port, Runner,
};
use lwm2m_carrier_host::cli::{self, Command, Options, Until, EXIT_TIMEOUT, EXIT_USAGE};
use lwm2m_carrier_host::{
    logger, FileStore, HostPort, HostPortConfig, ModemConfig, ServerSettings, ServersConfig,
    TestServers,
};

/// The simulated modem's security tags, in the state directory.
const MODEM_KEYS_FILE: &str = "modem-keys";

fn main() {
    let code = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            0
        }
        Ok(Command::Run(options)) => {
            logger::init(options.log);
            match simulate(&options) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("lwm2m-carrier-sim: {e}");
                    1
                }
            }
        }
        Err(e) => {
            eprintln!("lwm2m-carrier-sim: {e}\nTry 'lwm2m-carrier-sim --help'.");
            EXIT_USAGE
        }
    };
    std::process::exit(code);
}

/// The application's event handler: prints each event and notices `--until`.
struct Printer {
    until: Option<Until>,
    reached: bool,
}

impl EventHandler for Printer {
    fn on_event(&mut self, event: &CarrierEvent) -> i32 {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", cli::event_line(event));
        let _ = out.flush();
        if self.until.is_some_and(|u| u.matches(event)) {
            self.reached = true;
        }
        0 // REBOOT: agreed
    }
}

/// The state directory; a temporary one is removed at the end.
struct StateDir {
    path: PathBuf,
    temporary: bool,
}

impl StateDir {
    fn new(given: Option<&PathBuf>) -> Result<StateDir, String> {
        let (path, temporary) = match given {
            Some(p) => (p.clone(), false),
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let name = format!("lwm2m-carrier-sim-{}-{nanos}", std::process::id());
                (std::env::temp_dir().join(name), true)
            }
        };
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create state directory {}: {e}", path.display()))?;
        Ok(StateDir { path, temporary })
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    // A fixed seed still works (it only varies message ids and tokens).
    let _ = openssl::rand::rand_bytes(&mut b);
    u64::from_le_bytes(b)
}

/// Starts the in-process servers with the settings of `state` (saved back with the ports
/// actually bound).
fn start_servers(o: &Options, state: &StateDir, endpoint: &str) -> Result<TestServers, String> {
    let settings = ServerSettings::load_or_generate(&state.path)
        .map_err(|e| format!("server settings in {}: {e}", state.path.display()))?;
    let mut config = ServersConfig::new(settings, endpoint);
    config.lifetime_s = o.lifetime_s;
    let servers = TestServers::start(config).map_err(|e| {
        format!("cannot start the in-process servers (ports from {}): {e}", state.path.display())
    })?;
    servers.settings().save(&state.path).map_err(|e| format!("saving server settings: {e}"))?;
    eprintln!(
        "# in-process servers: bootstrap {}, management {}",
        servers.bootstrap_uri(),
        servers.management_uri()
    );
    Ok(servers)
}

fn simulate(o: &Options) -> Result<i32, String> {
    let end = o.timeout.map(|t| Instant::now() + t);
    let state = StateDir::new(o.state.as_ref())?;
    let identity = DeviceIdentity {
        imei: o.imei.as_str().try_into().map_err(|_| "--imei: expected 15 digits")?,
        msisdn: match &o.msisdn {
            Some(m) => Some(m.as_str().try_into().map_err(|_| "--msisdn: too long")?),
            None => None,
        },
        home_network: None,
    };
    // No operator SIM: the endpoint name (and PSK identity) is urn:imei:<IMEI>.
    let endpoint = format!("urn:imei:{}", o.imei);

    let servers = match &o.bootstrap_uri {
        Some(_) => None,
        None => Some(start_servers(o, &state, &endpoint)?),
    };
    let mut config = CarrierConfig::default();
    let uri = match (&o.bootstrap_uri, &servers) {
        (Some(uri), _) => uri.clone(),
        (None, Some(s)) => s.bootstrap_uri(),
        (None, None) => return Err("no bootstrap server".into()),
    };
    config.bootstrap_uri = Some(uri.as_str().try_into().map_err(|_| "bootstrap URI too long")?);
    let psk =
        o.psk.clone().or_else(|| servers.as_ref().map(|s| s.settings().bootstrap_psk.clone()));
    if let Some(psk) = psk {
        config.psk = Some(psk.as_slice().try_into().map_err(|_| "--psk: too long")?);
    }
    if let Some(apn) = &o.apn {
        config.apn = Some(apn.as_str().try_into().map_err(|_| "--apn: too long")?);
    }
    config.certification_mode = o.certification;

    let mut modem = ModemConfig::default();
    modem.imei = o.imei.clone();
    modem.msisdn = o.msisdn.clone();
    modem.link_delay = o.link_delay;
    // The modem's security tags outlive a reboot, as in the modem's own flash.
    modem.keys_file = Some(state.path.join(MODEM_KEYS_FILE));
    let mut port_config = HostPortConfig::default();
    port_config.modem = modem;
    port_config.dtls = port_config.dtls.with_handshake_timeout(o.handshake_timeout);
    port_config.trace_coap = o.log >= log::LevelFilter::Debug;

    let code = loop {
        let store = FileStore::open(&state.path)
            .map_err(|e| format!("state directory {}: {e}", state.path.display()))?;
        let carrier = Carrier::new(&config, &identity, store, random_seed())
            .map_err(|e| format!("cannot create the carrier: {e:?}"))?;
        let port = HostPort::new(port_config.clone());
        let mut runner = Runner::new(carrier, port, Printer { until: o.until, reached: false });
        runner.port.set_wake_by(end);
        let booted = Instant::now();
        let now = runner.port.now();
        let applied = runner.carrier.with_registry(now, |r| o.device.apply(&mut r.device));
        if let Err(e) = applied {
            eprintln!("lwm2m-carrier-sim: {e}");
            break EXIT_USAGE;
        }
        let done = |r: &Runner<HostPort, Printer>| {
            r.handler.reached
                || r.port.reboot_requested()
                || end.is_some_and(|e| Instant::now() >= e)
        };
        runner.init();
        if !done(&runner) {
            runner.run_until(done);
        }
        if runner.handler.reached {
            break 0;
        }
        if runner.port.reboot_requested() {
            eprintln!(
                "# reboot after {:.1} s: restarting the device from {}",
                booted.elapsed().as_secs_f64(),
                state.path.display()
            );
            continue;
        }
        let waited = o.timeout.map_or(0.0, |t| t.as_secs_f64());
        let goal =
            o.until.map_or(String::new(), |u| format!(" without LWM2M_CARRIER_EVENT_{}", u.name));
        eprintln!("lwm2m-carrier-sim: timeout after {waited} s{goal}");
        break EXIT_TIMEOUT;
    };
    if let Some(s) = servers {
        s.detach();
    }
    drop(state);
    Ok(code)
}

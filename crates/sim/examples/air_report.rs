//! Bytes on air, datagrams and round trips of the carrier library against the scripted servers
//! on the virtual clock, compared with the minimum the protocol allows. Run by
//! `scripts/air-report`.
//!
//! Every figure is CoAP level: the UDP payload inside DTLS. The `dtls_*` figures add the DTLS 1.2
//! record overhead of each datagram (13-byte header, 8-byte explicit nonce, 8-byte CCM-8 tag = 29
//! bytes). DTLS handshakes are not included in any figure (their count is printed).
//!
//! How the minimum is computed, per datagram that crossed the air:
//! - retransmissions are not needed (the simulated link loses nothing): 0 bytes;
//! - a client-initiated request (Bootstrap-Request, Register, Update) and the server's response to
//!   it could use an empty token (RFC 7252 §5.3.1 allows it when no other exchange is open to
//!   the peer, which holds with NSTART = 1): the token bytes are not needed. The figure with our
//!   4-byte tokens kept is printed as well;
//! - Register parameters equal to their LwM2M 1.0 default (§5.3.1, Register parameter table:
//!   `lt` 86400, `lwm2m` 1.0, `b` U) are not needed: their Uri-Query options are not counted;
//! - everything else is needed as sent: the mandatory options (Uri-Path, `ep`, Content-Format of
//!   the link list, Location-Path, Observe), the payloads (the link list of our objects, the
//!   values the server asked for) and what the server chose to send (its bootstrap writes, its
//!   tokens, its registration id);
//! - round trips: Bootstrap-Request + each bootstrap operation the server sends + Register for a
//!   first boot; Register after a reboot; one Update per lifetime to stay registered through 24
//!   hours (floor(86400 / lifetime): each Update extends the registration by one lifetime, so n
//!   Updates keep it alive for (n + 1) lifetimes); one confirmable notification (carriers ask
//!   for CON) for a value change. For the idle day the minimum is that number of Updates times
//!   the minimal Update exchange.

use lwm2m_carrier::CarrierEvent;
use lwm2m_carrier_simport::{
    bootstrap_script, config, AirStats, Datagram, Dir, MemStore, Sim, SimPort, DM_PSK, DM_URI,
    DTLS_RECORD_OVERHEAD,
};
use lwm2m_testkit::{cf, BootstrapServer, Received};

const DAY_MS: u64 = 86_400_000;
const SEED: u64 = 1;

fn ready(e: &CarrierEvent) -> bool {
    *e == CarrierEvent::Ready
}

/// Encoded size of an option with value length `len` whose delta is below 13.
fn option_size(len: usize) -> usize {
    1 + match len {
        0..=12 => 0,
        13..=268 => 1,
        _ => 2,
    } + len
}

/// Bytes of `d` the protocol does not need (see the module docs), and whether the token counts
/// among them (`tokens`).
fn unneeded(d: &Datagram, client_tokens: &[Vec<u8>], tokens: bool) -> usize {
    if d.retransmission {
        return d.len;
    }
    let Ok(m) = Received::parse(&d.bytes) else { return 0 };
    let mut n = 0;
    let client_initiated = match d.dir {
        Dir::Up => d.is_request(),
        Dir::Down => !d.is_request() && client_tokens.contains(&m.token),
    };
    if tokens && client_initiated {
        n += m.token.len();
    }
    if d.dir == Dir::Up && d.is_request() && m.path == ["rd"] {
        for q in &m.queries {
            if q == "lt=86400" || q == "lwm2m=1.0" || q == "b=U" {
                n += option_size(q.len());
            }
        }
    }
    n
}

/// Minimum bytes (sent + received) of a log.
fn minimum_bytes(log: &[Datagram], tokens: bool) -> usize {
    let client_tokens: Vec<Vec<u8>> = log
        .iter()
        .filter(|d| d.dir == Dir::Up && d.is_request())
        .filter_map(|d| Received::parse(&d.bytes).ok().map(|m| m.token))
        .collect();
    log.iter().map(|d| d.len - unneeded(d, &client_tokens, tokens)).sum()
}

fn minimum_datagrams(log: &[Datagram]) -> usize {
    log.iter().filter(|d| !d.retransmission).count()
}

/// One measured scenario.
struct Scenario {
    name: &'static str,
    lifetime_s: u32,
    log: Vec<Datagram>,
    handshakes: usize,
    min_round_trips: usize,
    min_bytes: usize,
    min_bytes_tok4: usize,
    min_datagrams: usize,
    note: String,
}

impl Scenario {
    fn new(
        name: &'static str,
        lifetime_s: u32,
        sim: &mut Sim,
        min_round_trips: usize,
        note: String,
    ) -> Scenario {
        let log = sim.port().air.datagrams.clone();
        Scenario {
            name,
            lifetime_s,
            min_bytes: minimum_bytes(&log, true),
            min_bytes_tok4: minimum_bytes(&log, false),
            min_datagrams: minimum_datagrams(&log),
            handshakes: sim.port().air.handshakes,
            log,
            min_round_trips,
            note,
        }
    }

    fn stats(&self) -> AirStats {
        AirStats::of(&self.log)
    }
}

fn describe(d: &Datagram) -> String {
    let Ok(m) = Received::parse(&d.bytes) else { return "not CoAP".into() };
    let t = ["CON", "NON", "ACK", "RST"][usize::from(d.mtype.unwrap_or(0))];
    let mut s = format!("{t} {}", d.code_str());
    if !m.path.is_empty() {
        s += &format!(" /{}", m.path.join("/"));
    }
    if !m.queries.is_empty() {
        s += &format!("?{}", m.queries.join("&"));
    }
    if !m.location_path.is_empty() {
        s += &format!(" loc=/{}", m.location_path.join("/"));
    }
    if let Some(o) = m.observe {
        s += &format!(" obs={o}");
    }
    if !m.token.is_empty() {
        s += &format!(" tok={}B", m.token.len());
    }
    if !m.payload.is_empty() {
        s += &format!(" payload={}B", m.payload.len());
    }
    if d.retransmission {
        s += " (retransmission)";
    }
    s
}

/// A factory-fresh device whose bootstrap server gives the management server `lifetime_s`.
fn fresh(lifetime_s: u32) -> Sim {
    let script = bootstrap_script(DM_URI, &DM_PSK, i64::from(lifetime_s));
    Sim::with(config(), MemStore::new(), SimPort::new(BootstrapServer::new(script)), SEED)
}

fn run_all(lifetime_s: u32) -> Vec<Scenario> {
    let mut out = Vec::new();

    // (a) First boot to READY, bootstrap included.
    let mut sim = fresh(lifetime_s);
    assert!(sim.run_until(600_000, ready), "first boot: no READY");
    let bs_ops = sim
        .port()
        .air
        .datagrams
        .iter()
        .filter(|d| d.dir == Dir::Down && d.is_request() && !d.retransmission)
        .count();
    out.push(Scenario::new(
        "first_boot",
        lifetime_s,
        &mut sim,
        1 + bs_ops + 1,
        format!(
            "Bootstrap-Request + {bs_ops} bootstrap operations (the server's script) + Register"
        ),
    ));

    // (b) Reboot to READY (registration from storage).
    let mut sim = sim.reboot(config());
    assert!(sim.run_until(600_000, ready), "reboot: no READY");
    out.push(Scenario::new("reboot", lifetime_s, &mut sim, 1, "Register".into()));

    // (c) 24 hours idle and registered.
    sim.port().air.clear();
    sim.advance(DAY_MS);
    let n_min = (86_400 / lifetime_s) as usize;
    let mut idle = Scenario::new(
        "idle_24h",
        lifetime_s,
        &mut sim,
        n_min,
        format!("{n_min} Update(s): one per lifetime of {lifetime_s} s"),
    );
    let updates = idle.stats().round_trips.max(1);
    idle.min_bytes = idle.min_bytes * n_min / updates;
    idle.min_bytes_tok4 = idle.min_bytes_tok4 * n_min / updates;
    idle.min_datagrams = idle.min_datagrams * n_min / updates;
    out.push(idle);

    // (d) One observe notification: the server observes Battery Level, the value changes once.
    let obs = sim.port().dm.observe("/3/0/9", Some(cf::TEXT));
    sim.advance(10_000);
    assert!(sim.port().dm.response(obs).is_some(), "observe: no response");
    sim.port().air.clear();
    sim.runner.with_device(|d| d.battery_level_set(42)).expect("battery level");
    sim.advance(10_000);
    assert_eq!(sim.port().dm.notifications(obs).len(), 1, "observe: no notification");
    out.push(Scenario::new(
        "observe_notify",
        lifetime_s,
        &mut sim,
        1,
        "one confirmable notification (text/plain, Accept of the Observe)".into(),
    ));
    out
}

fn main() {
    let verbose = std::env::args().any(|a| a == "-v" || a == "--verbose");
    let mut all = run_all(86_400);
    all.extend(run_all(3_600));

    println!(
        "air report: CoAP payload bytes (UDP payload inside DTLS); DTLS handshakes not included"
    );
    println!(
        "dtls_* = CoAP bytes + {DTLS_RECORD_OVERHEAD} B DTLS 1.2 record overhead per datagram \
         (13 header + 8 explicit nonce + 8 CCM-8 tag)"
    );
    println!();
    for s in &all {
        let st = s.stats();
        let dtls_min = s.min_bytes + s.min_datagrams * DTLS_RECORD_OVERHEAD;
        println!(
            "scenario={} lifetime_s={} sent_bytes={} recv_bytes={} datagrams_sent={} \
             datagrams_recv={} round_trips={} retransmissions={} handshakes={} \
             dtls_sent_bytes={} dtls_recv_bytes={} minimum_bytes={} minimum_bytes_4b_tokens={} \
             minimum_round_trips={} dtls_minimum_bytes={}",
            s.name,
            s.lifetime_s,
            st.bytes_sent,
            st.bytes_recv,
            st.datagrams_sent,
            st.datagrams_recv,
            st.round_trips,
            st.retransmissions,
            s.handshakes,
            st.dtls_bytes_sent(),
            st.dtls_bytes_recv(),
            s.min_bytes,
            s.min_bytes_tok4,
            s.min_round_trips,
            dtls_min,
        );
    }

    println!();
    println!(
        "| scenario | lifetime s | sent B | recv B | total B | total B + DTLS records | \
         datagrams up/down | round trips | minimum B (empty tokens / 4 B tokens) | \
         minimum round trips | DTLS handshakes |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in &all {
        let st = s.stats();
        println!(
            "| {} | {} | {} | {} | {} | {} | {}/{} | {} | {} / {} | {} | {} |",
            s.name,
            s.lifetime_s,
            st.bytes_sent,
            st.bytes_recv,
            st.bytes_sent + st.bytes_recv,
            st.dtls_bytes_sent() + st.dtls_bytes_recv(),
            st.datagrams_sent,
            st.datagrams_recv,
            st.round_trips,
            s.min_bytes,
            s.min_bytes_tok4,
            s.min_round_trips,
            s.handshakes,
        );
    }
    println!();
    println!("minimum round trips:");
    for s in &all {
        println!("  {} (lt {} s): {}", s.name, s.lifetime_s, s.note);
    }
    println!();
    println!("datagrams (up = device to server):");
    for s in &all {
        if s.name == "idle_24h" && !verbose {
            let first = s.log.iter().find(|d| d.dir == Dir::Up).map(describe);
            println!(
                "  {} (lt {} s): {} datagrams, e.g. {} B up: {}",
                s.name,
                s.lifetime_s,
                s.log.len(),
                s.log.iter().find(|d| d.dir == Dir::Up).map_or(0, |d| d.len),
                first.unwrap_or_default()
            );
            continue;
        }
        println!("  {} (lt {} s):", s.name, s.lifetime_s);
        for d in &s.log {
            let arrow = if d.dir == Dir::Up { "->" } else { "<-" };
            println!("    {:>9} ms {arrow} {:>4} B  {}", d.at_ms, d.len, describe(d));
        }
    }
}

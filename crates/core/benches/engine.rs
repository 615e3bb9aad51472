//! CPU cost of the engine's hot paths, and proof that they allocate nothing:
//! - `read_3_0_tlv`: a registered engine is fed a CON GET /3/0 with Accept TLV and the reply (a
//!   piggybacked 2.05 with the whole Device object in TLV) is polled out;
//! - `register_encode`: a connected engine builds its Register (`POST /rd` with queries and the
//!   object links) when polled.
//!
//! Before criterion runs, a counting global allocator checks that neither operation allocates
//! (the process exits non-zero if one does). `cargo test -p lwm2m-carrier-core --bench engine`
//! runs that check and each benchmark once; `scripts/bench` measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{BatchSize, Criterion};
use lwm2m_carrier_core::coap::{content_format, opt, Code, Instant, Message, MessageBuilder};
use lwm2m_carrier_core::coap::{MsgType, Token};
use lwm2m_carrier_core::objects::security::{mode, SecurityInstance};
use lwm2m_carrier_core::objects::server::ServerInstance;
use lwm2m_carrier_core::objects::Registry;
use lwm2m_carrier_core::{Action, Config, ConnId, Engine};

/// Counts every allocation (and reallocation) of the process.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` through this allocator with `layout`; the caller
        // upholds the rest of `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ENDPOINT: &str = "urn:imei:490154203237518";
const NOW: Instant = Instant(1_000);
const CONN: ConnId = ConnId(0);

/// An engine with one management server account (short id 1, lifetime 86400 s, binding U), as
/// a bootstrap leaves it, connected and about to register.
fn connected_engine() -> Engine {
    let mut registry = Registry::new();
    let mut sec = SecurityInstance::new(1);
    sec.set_uri("coaps://dm.example:5684").expect("uri");
    sec.mode = mode::PSK;
    sec.short_server_id = 1;
    registry.security.put(sec).expect("security");
    let mut srv = ServerInstance::new(0);
    srv.short_server_id = 1;
    registry.server.put(srv).expect("server");
    let mut engine = Engine::new(Config::new(ENDPOINT).expect("config"), registry, 7);
    engine.start(NOW);
    while let Some(a) = engine.poll_action(NOW) {
        assert!(matches!(a, Action::Connect { .. }), "{a:?}");
    }
    engine.handle_connected(NOW, CONN);
    engine
}

/// A registered engine: its Register was answered 2.01 Created, Location-Path rd/1.
fn registered_engine() -> Engine {
    let mut engine = connected_engine();
    let (mid, token) = {
        let (_, register) = engine.poll_transmit(NOW).expect("register");
        let m = Message::parse(register).expect("parse");
        (m.mid, m.token)
    };
    let mut buf = [0u8; 32];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Ack, Code::CREATED, mid, &token).unwrap();
    b.option(opt::LOCATION_PATH, b"rd").unwrap();
    b.option(opt::LOCATION_PATH, b"1").unwrap();
    let n = b.finish(0).unwrap();
    engine.handle_datagram(NOW, CONN, &buf[..n]);
    while engine.poll_transmit(NOW).is_some() {}
    while engine.poll_action(NOW).is_some() {}
    assert!(engine.is_registered());
    engine
}

/// CON GET /3/0, Accept TLV, 4-byte token; the message id is set per request.
fn read_request() -> ([u8; 32], usize) {
    let mut buf = [0u8; 32];
    let token = Token::from_slice(&[0xA1, 0xB2, 0xC3, 0xD4]).unwrap();
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 0, &token).unwrap();
    b.option(opt::URI_PATH, b"3").unwrap();
    b.option(opt::URI_PATH, b"0").unwrap();
    b.option_uint(opt::ACCEPT, u32::from(content_format::LWM2M_TLV)).unwrap();
    let n = b.finish(0).unwrap();
    (buf, n)
}

/// Feeds the `n`-th read request (message id and arrival time from `n`) and returns the reply's
/// length. Each request is 1 ms after the previous one with the next message id, so the
/// duplicate cache ages its entries out as on a real link (a repeated message id would be
/// answered from the cache or dropped). The registration Update is due only after 77,760 s of
/// this time, far beyond any benchmark run.
fn read_once(engine: &mut Engine, request: &mut [u8], n: u64) -> usize {
    request[2..4].copy_from_slice(&(n as u16).to_be_bytes());
    let now = NOW.add_ms(n);
    engine.handle_datagram(now, CONN, black_box(request));
    let (_, reply) = engine.poll_transmit(now).expect("reply");
    black_box(reply).len()
}

/// Polls the Register out of a connected engine and returns its length.
fn register_once(engine: &mut Engine) -> usize {
    let (_, register) = engine.poll_transmit(NOW).expect("register");
    black_box(register).len()
}

/// Asserts that neither operation allocates; prints what they produce.
fn check_no_allocations() {
    let mut engine = registered_engine();
    let (mut request, n) = read_request();
    let request = &mut request[..n];
    read_once(&mut engine, request, 1); // warm-up: nothing lazily initialised is counted.
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let reply_len = read_once(&mut engine, request, 2);
    let read_allocs = ALLOCATIONS.load(Ordering::SeqCst) - before;

    let mut engine = connected_engine();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let register_len = register_once(&mut engine);
    let register_allocs = ALLOCATIONS.load(Ordering::SeqCst) - before;

    println!(
        "allocations: read_3_0_tlv={read_allocs} (request {n} B, reply {reply_len} B) \
         register_encode={register_allocs} (register {register_len} B)"
    );
    if read_allocs != 0 || register_allocs != 0 {
        eprintln!("FAIL: the engine allocated on a path that must not allocate");
        std::process::exit(1);
    }
}

fn bench_read(c: &mut Criterion) {
    let mut engine = registered_engine();
    let (mut request, len) = read_request();
    let mut n = 100u64;
    c.bench_function("read_3_0_tlv", |b| {
        b.iter(|| {
            n += 1;
            read_once(&mut engine, &mut request[..len], n)
        })
    });
}

fn bench_register(c: &mut Criterion) {
    c.bench_function("register_encode", |b| {
        b.iter_batched_ref(connected_engine, register_once, BatchSize::SmallInput)
    });
}

fn main() {
    check_no_allocations();
    let mut c = Criterion::default().configure_from_args();
    bench_read(&mut c);
    bench_register(&mut c);
    c.final_summary();
}

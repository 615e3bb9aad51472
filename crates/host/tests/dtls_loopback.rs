//! Our DTLS client against our DTLS server over loopback.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use lwm2m_carrier_host::{
    DtlsConfig, DtlsConnection, DtlsServer, Psk, PskLookup, Security, Transport, TransportError,
};

const IDENTITY: &[u8] = b"urn:imei:351358815178345";
const KEY: &[u8] = b"0123456789abcdef";

fn psk(key: &[u8]) -> Psk {
    Psk::new(IDENTITY, key).unwrap()
}

/// A server thread that echoes every record back, session after session, until `stop`.
/// Returns its address, the number of sessions it finished, and the stop flag.
fn echo_server(config: DtlsConfig) -> (SocketAddr, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let mut server =
        DtlsServer::bind("127.0.0.1:0".parse().unwrap(), PskLookup::single(psk(KEY)), config)
            .unwrap();
    let addr = server.local_addr().unwrap();
    let sessions = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (s, st) = (sessions.clone(), stop.clone());
    thread::spawn(move || {
        while !st.load(Ordering::SeqCst) {
            let mut conn = match server.accept(Duration::from_millis(100)) {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    eprintln!("server: handshake failed: {e}");
                    continue;
                }
            };
            assert_eq!(conn.psk_identity().as_deref(), Some(IDENTITY));
            let mut buf = [0u8; 2048];
            loop {
                match conn.recv(&mut buf, Duration::from_millis(100)) {
                    Ok(Some(n)) => conn.send(&buf[..n]).unwrap(),
                    Ok(None) if st.load(Ordering::SeqCst) => break,
                    Ok(None) => {}
                    Err(TransportError::Closed) => break,
                    Err(e) => panic!("server recv: {e}"),
                }
            }
            s.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr, sessions, stop)
}

fn echo_once(conn: &mut DtlsConnection, payload: &[u8]) {
    conn.send(payload).unwrap();
    let mut buf = [0u8; 2048];
    let n = conn.recv(&mut buf, Duration::from_secs(5)).unwrap().expect("echo");
    assert_eq!(&buf[..n], payload);
}

#[test]
fn right_key_echoes_with_every_cipher_suite() {
    let (addr, _, stop) = echo_server(DtlsConfig::default());
    for suite in
        ["PSK-AES128-CCM8", "PSK-AES128-GCM-SHA256", "PSK-AES128-CBC-SHA256", "PSK-AES128-CCM"]
    {
        let config = DtlsConfig::default().with_ciphers(suite);
        let mut conn = DtlsConnection::connect_to(addr, &psk(KEY), &config)
            .unwrap_or_else(|e| panic!("{suite}: {e}"));
        assert_eq!(conn.cipher(), Some(suite));
        echo_once(&mut conn, b"\x40\x01\x12\x34hello");
        // A datagram bigger than one handshake fragment still goes as one record.
        echo_once(&mut conn, &[0xA5; 1024]);
        conn.close().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn recv_times_out_with_none() {
    let (addr, _, stop) = echo_server(DtlsConfig::default());
    let mut conn = DtlsConnection::connect_to(addr, &psk(KEY), &DtlsConfig::default()).unwrap();
    let mut buf = [0u8; 64];
    let start = Instant::now();
    assert_eq!(conn.recv(&mut buf, Duration::from_millis(200)).unwrap(), None);
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(start.elapsed() < Duration::from_secs(2));
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn wrong_key_fails_the_handshake() {
    let (addr, _, stop) = echo_server(DtlsConfig::default());
    let config = DtlsConfig::default().with_handshake_timeout(Duration::from_secs(3));
    let start = Instant::now();
    let err = DtlsConnection::connect_to(addr, &psk(b"not the right key"), &config).unwrap_err();
    assert!(matches!(err, TransportError::HandshakeFailed(_)), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn unknown_identity_fails_fast_with_an_alert() {
    let (addr, _, stop) = echo_server(DtlsConfig::default());
    let start = Instant::now();
    let other = Psk::new(b"someone-else", KEY).unwrap();
    let err = DtlsConnection::connect_to(addr, &other, &DtlsConfig::default()).unwrap_err();
    match &err {
        TransportError::HandshakeFailed(why) => assert!(why.contains("psk"), "{why}"),
        e => panic!("{e:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn silent_peer_times_out() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let config = DtlsConfig::default().with_handshake_timeout(Duration::from_secs(2));
    let start = Instant::now();
    let err =
        DtlsConnection::connect_to(silent.local_addr().unwrap(), &psk(KEY), &config).unwrap_err();
    assert!(matches!(err, TransportError::Timeout), "{err:?}");
    let took = start.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(3), "{took:?}");
    // The ClientHello was retransmitted on OpenSSL's timer (at 1 s), not just sent once.
    silent.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 2048];
    let mut hellos = 0;
    while silent.recv_from(&mut buf).is_ok() {
        hellos += 1;
    }
    assert!(hellos >= 2, "only {hellos} ClientHello(s)");
}

#[test]
fn server_takes_a_new_session_after_close_and_after_a_client_restart() {
    let (addr, sessions, stop) = echo_server(DtlsConfig::default());
    // Two sessions in a row from different client ports, each closed properly.
    for i in 0..2u8 {
        let mut conn = DtlsConnection::connect_to(addr, &psk(KEY), &DtlsConfig::default()).unwrap();
        echo_once(&mut conn, &[i; 10]);
        conn.close().unwrap();
    }
    // A client that "reboots": the same local port handshakes again without closing.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(addr).unwrap();
    let mut first =
        DtlsConnection::connect(socket.try_clone().unwrap(), &psk(KEY), &DtlsConfig::default())
            .unwrap();
    echo_once(&mut first, b"before reboot");
    std::mem::forget(first); // no close_notify, like a power cut
    let mut second = DtlsConnection::connect(socket, &psk(KEY), &DtlsConfig::default()).unwrap();
    echo_once(&mut second, b"after reboot");
    second.close().unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while sessions.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sessions.load(Ordering::SeqCst), 4);
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn server_sees_close_notify() {
    let mut server = DtlsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        PskLookup::single(psk(KEY)),
        DtlsConfig::default(),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let client = thread::spawn(move || {
        let mut c = DtlsConnection::connect_to(addr, &psk(KEY), &DtlsConfig::default()).unwrap();
        c.send(b"bye").unwrap();
        c.close().unwrap();
        assert!(matches!(c.send(b"x"), Err(TransportError::Closed)));
    });
    let mut conn = server.accept(Duration::from_secs(5)).unwrap().unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(conn.recv(&mut buf, Duration::from_secs(5)).unwrap(), Some(3));
    let err = conn.recv(&mut buf, Duration::from_secs(5)).unwrap_err();
    assert!(matches!(err, TransportError::Closed), "{err:?}");
    client.join().unwrap();
}

/// A UDP relay between a client and `server` that drops the first datagram in each direction,
/// so both sides must retransmit a flight.
fn lossy_relay(server: SocketAddr) -> SocketAddr {
    let relay = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = relay.local_addr().unwrap();
    thread::spawn(move || {
        let upstream = UdpSocket::bind("127.0.0.1:0").unwrap();
        upstream.connect(server).unwrap();
        relay.set_nonblocking(true).unwrap();
        upstream.set_nonblocking(true).unwrap();
        let (mut client, mut dropped_up, mut dropped_down) = (None, false, false);
        let mut buf = [0u8; 4096];
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let mut idle = true;
            if let Ok((n, from)) = relay.recv_from(&mut buf) {
                idle = false;
                client = Some(from);
                if dropped_up {
                    let _ = upstream.send(&buf[..n]);
                }
                dropped_up = true;
            }
            if let (Ok(n), Some(c)) = (upstream.recv(&mut buf), client) {
                idle = false;
                if dropped_down {
                    let _ = relay.send_to(&buf[..n], c);
                }
                dropped_down = true;
            }
            if idle {
                thread::sleep(Duration::from_millis(2));
            }
        }
    });
    addr
}

#[test]
fn handshake_survives_lost_flights() {
    let (addr, _, stop) = echo_server(DtlsConfig::default());
    let relay = lossy_relay(addr);
    let start = Instant::now();
    let mut conn = DtlsConnection::connect_to(relay, &psk(KEY), &DtlsConfig::default()).unwrap();
    // One lost ClientHello and one lost server flight: about 1 s + 1 s of timers.
    assert!(start.elapsed() >= Duration::from_millis(900), "{:?}", start.elapsed());
    echo_once(&mut conn, b"through the relay");
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn transport_enum_speaks_both() {
    let (addr, _, stop) = echo_server(DtlsConfig::default());
    let mut t = Transport::connect(addr, &Security::Psk(psk(KEY)), &DtlsConfig::default()).unwrap();
    assert_eq!(t.peer_addr(), addr);
    t.send(b"dtls").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(t.recv(&mut buf, Duration::from_secs(5)).unwrap(), Some(4));
    t.close().unwrap();
    stop.store(true, Ordering::SeqCst);

    let plain = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut t =
        Transport::connect(plain.local_addr().unwrap(), &Security::NoSec, &DtlsConfig::default())
            .unwrap();
    t.send(b"udp").unwrap();
    let (n, from) = plain.recv_from(&mut buf).unwrap();
    plain.send_to(&buf[..n], from).unwrap();
    assert_eq!(t.recv(&mut buf, Duration::from_secs(5)).unwrap(), Some(3));
}

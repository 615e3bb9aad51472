//! Our DTLS client against libcoap's `coap-server` (a third-party DTLS stack).
//!
//! Debian/Ubuntu `libcoap3-bin` installs one binary per TLS backend: `coap-server-gnutls`,
//! `coap-server-openssl` (and `-notls`); other builds install plain `coap-server`. Every one
//! found is tested. With none installed the tests print why and pass (skip).
//!
//! The server is started as `coap-server-X -A 127.0.0.1 -p PORT -k KEY -h IDENTITY`: CoAP on
//! PORT, CoAP over DTLS on PORT+1, the PSK `KEY` for any client identity.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use lwm2m_carrier_host::{DtlsConfig, DtlsConnection, Psk, TransportError};

const IDENTITY: &str = "lwm2m-carrier-test";
const KEY: &str = "secretPSK-0123456789";

const SERVER_NAMES: &[&str] = &["coap-server", "coap-server-gnutls", "coap-server-openssl"];

/// Says why a test did nothing. Written to the stderr handle directly: libtest captures
/// `println!`/`eprintln!` of passing tests, and a skip should be visible.
fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// Every libcoap server binary on PATH.
fn installed_servers() -> Vec<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut found = Vec::new();
    for name in SERVER_NAMES {
        if let Some(p) = std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()) {
            found.push(p);
        }
    }
    if found.is_empty() {
        skip(&format!(
            "none of {SERVER_NAMES:?} is installed \
             (apt-get install libcoap3-bin to run this interop test)"
        ));
    }
    found
}

/// A coap-server process, killed on drop.
struct Server {
    child: Child,
    name: String,
    coap: SocketAddr,
    coaps: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port P with P and P+1 both free on loopback UDP (coap-server takes both).
fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p < u16::MAX && UdpSocket::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no free UDP port pair");
}

fn start(binary: &PathBuf) -> Server {
    let port = free_port_pair();
    let child = Command::new(binary)
        .args(["-A", "127.0.0.1", "-p", &port.to_string(), "-k", KEY, "-h", IDENTITY])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let server = Server {
        child,
        name: binary.file_name().unwrap().to_string_lossy().into_owned(),
        coap: SocketAddr::from(([127, 0, 0, 1], port)),
        coaps: SocketAddr::from(([127, 0, 0, 1], port + 1)),
    };
    wait_until_up(&server);
    server
}

/// Waits for the server to answer plain CoAP, so the DTLS tests do not race its start-up.
fn wait_until_up(server: &Server) {
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.connect(server.coap).unwrap();
    probe.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        let _ = probe.send(&well_known_core_get(0x0001));
        if let Ok(n) = probe.recv(&mut buf) {
            assert!(n >= 4, "{}: short answer to the probe", server.name);
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("{} did not come up on {}", server.name, server.coap);
}

/// CON GET /.well-known/core with token AB CD, by hand (RFC 7252 section 3).
fn well_known_core_get(mid: u16) -> Vec<u8> {
    let mut m = vec![0x42, 0x01]; // ver 1, CON, TKL 2; code 0.01 GET
    m.extend_from_slice(&mid.to_be_bytes());
    m.extend_from_slice(&[0xAB, 0xCD]);
    m.push(0xBB); // option delta 11 (Uri-Path), length 11
    m.extend_from_slice(b".well-known");
    m.push(0x04); // delta 0 (Uri-Path again), length 4
    m.extend_from_slice(b"core");
    m
}

fn psk(key: &str) -> Psk {
    Psk::new(IDENTITY.as_bytes(), key.as_bytes()).unwrap()
}

/// Handshake, GET /.well-known/core, expect a piggybacked 2.05 Content.
fn get_well_known_core(server: &Server, config: &DtlsConfig) -> Result<String, TransportError> {
    let mut conn = DtlsConnection::connect_to(server.coaps, &psk(KEY), config)?;
    let cipher = conn.cipher().unwrap_or("?").to_owned();
    conn.send(&well_known_core_get(0x7A01))?;
    let mut buf = [0u8; 2048];
    let n = conn
        .recv(&mut buf, Duration::from_secs(5))?
        .unwrap_or_else(|| panic!("{}: no answer over DTLS ({cipher})", server.name));
    let resp = &buf[..n];
    assert!(n >= 6, "{}: short response {resp:02x?}", server.name);
    assert_eq!(resp[0], 0x62, "{}: expected ACK with TKL 2: {resp:02x?}", server.name);
    assert_eq!(resp[1], 0x45, "{}: expected 2.05: {resp:02x?}", server.name);
    assert_eq!(&resp[2..6], &[0x7A, 0x01, 0xAB, 0xCD], "{}", server.name);
    let text = String::from_utf8_lossy(resp);
    assert!(text.contains("</>"), "{}: link format missing: {text}", server.name);
    conn.close()?;
    Ok(cipher)
}

#[test]
fn psk_handshake_and_get_against_coap_server() {
    for binary in installed_servers() {
        let server = start(&binary);
        let cipher = get_well_known_core(&server, &DtlsConfig::default())
            .unwrap_or_else(|e| panic!("{}: {e}", server.name));
        println!("{}: default cipher list negotiated {cipher}", server.name);
    }
}

/// CCM8 (the LwM2M 1.0 mandatory suite) and GCM must work with every backend. libcoap's
/// OpenSSL backend (4.3.1) restricts DTLS to `TLSv1.2` ciphers and so refuses CBC-SHA256 with
/// a handshake_failure alert; refusals of the optional suites must at least be clean.
#[test]
fn each_cipher_suite_against_coap_server() {
    const REQUIRED: &[&str] = &["PSK-AES128-CCM8", "PSK-AES128-GCM-SHA256"];
    const OPTIONAL: &[&str] = &["PSK-AES128-CBC-SHA256", "PSK-AES128-CCM"];
    for binary in installed_servers() {
        let server = start(&binary);
        for suite in REQUIRED.iter().chain(OPTIONAL) {
            let config = DtlsConfig::default()
                .with_ciphers(suite)
                .with_handshake_timeout(Duration::from_secs(5));
            match get_well_known_core(&server, &config) {
                Ok(c) => {
                    assert_eq!(c, *suite);
                    println!("{}: {suite} ok", server.name);
                }
                Err(TransportError::HandshakeFailed(why)) if OPTIONAL.contains(suite) => {
                    println!("{}: {suite} refused by the peer: {why}", server.name);
                }
                Err(e) => panic!("{}: {suite}: {e}", server.name),
            }
        }
    }
}

#[test]
fn wrong_key_against_coap_server_fails_the_handshake() {
    for binary in installed_servers() {
        let server = start(&binary);
        let config = DtlsConfig::default().with_handshake_timeout(Duration::from_secs(4));
        let start = Instant::now();
        let err = DtlsConnection::connect_to(server.coaps, &psk("wrong-key-wrong-key"), &config)
            .unwrap_err();
        println!("{}: wrong key -> {err} after {:?}", server.name, start.elapsed());
        assert!(matches!(err, TransportError::HandshakeFailed(_)), "{}: {err:?}", server.name);
        assert!(start.elapsed() < Duration::from_secs(6), "{}", server.name);
        // The server is still fine for a client with the right key.
        get_well_known_core(&server, &DtlsConfig::default())
            .unwrap_or_else(|e| panic!("{} after a failed handshake: {e}", server.name));
    }
}

/// The other direction: libcoap's `coap-client` (both backends) against our `DtlsServer`,
/// which answers one GET by hand.
#[test]
fn coap_client_against_our_dtls_server() {
    use lwm2m_carrier_host::{DtlsServer, PskLookup};
    let path = std::env::var_os("PATH").unwrap_or_default();
    let clients: Vec<PathBuf> = ["coap-client", "coap-client-gnutls", "coap-client-openssl"]
        .iter()
        .filter_map(|n| std::env::split_paths(&path).map(|d| d.join(n)).find(|p| p.is_file()))
        .collect();
    if clients.is_empty() {
        skip("no coap-client installed (apt-get install libcoap3-bin)");
        return;
    }
    for client in clients {
        let mut server = DtlsServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            PskLookup::single(psk(KEY)),
            DtlsConfig::default(),
        )
        .unwrap();
        let addr = server.local_addr().unwrap();
        let uri = format!("coaps://{addr}/.well-known/core");
        let child = Command::new(&client)
            .args(["-m", "get", "-k", KEY, "-u", IDENTITY, "-B", "10", &uri])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let name = client.file_name().unwrap().to_string_lossy().into_owned();
        let mut conn = server
            .accept(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or_else(|| panic!("{name}: no ClientHello"));
        println!("{name}: negotiated {}", conn.cipher().unwrap_or("?"));
        let mut buf = [0u8; 1500];
        let n = conn.recv(&mut buf, Duration::from_secs(5)).unwrap().expect("request");
        let req = &buf[..n];
        assert!(n >= 4 && req[1] == 0x01, "{name}: not a GET: {req:02x?}");
        let tkl = usize::from(req[0] & 0x0F);
        // ACK, same MID and token, 2.05, Content-Format 40 (link format), payload.
        let mut resp = vec![0x60 | req[0] & 0x0F, 0x45, req[2], req[3]];
        resp.extend_from_slice(&req[4..4 + tkl]);
        resp.extend_from_slice(&[0xC1, 40, 0xFF]);
        resp.extend_from_slice(b"</3>,</1/1>");
        conn.send(&resp).unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("</3>,</1/1>"),
            "{name}: stdout {stdout:?} stderr {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

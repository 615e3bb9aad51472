//! Test support: an nginx instance on loopback (HTTP, HTTPS with a CA generated here, a location
//! that ignores Range, redirects) and a std driver that executes a `Download`'s actions over real
//! TCP/TLS sockets, optionally cutting the connection at given offsets.

#![allow(dead_code)]

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant as StdInstant};

use lwm2m_fota::sink::seal;
use lwm2m_fota::{Action, ConnectErrorKind, DfuSink, Download, Instant, Status};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslConnector, SslMethod, SslStream};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};

/// Size of the served test image.
pub const IMAGE_LEN: usize = 300 * 1024;

fn nginx_binary() -> Option<PathBuf> {
    for p in ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx"]
    {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    None
}

/// Deterministic pseudo-random image with the CRC-32 trailer of the test image format.
pub fn make_image(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v: Vec<u8> = (0..len - 4)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let t = seal(&v);
    v.extend_from_slice(&t);
    v
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn temp_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "lwm2m-fota-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn serial() -> openssl::asn1::Asn1Integer {
    let mut bn = BigNum::new().unwrap();
    bn.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    bn.to_asn1_integer().unwrap()
}

fn name(cn: &str) -> openssl::x509::X509Name {
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    n.build()
}

/// A self-signed CA: (certificate, key).
pub fn make_ca(cn: &str) -> (X509, PKey<Private>) {
    let k = key();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    b.set_subject_name(&name(cn)).unwrap();
    b.set_issuer_name(&name(cn)).unwrap();
    b.set_pubkey(&k).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap()).unwrap();
    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
    b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap())
        .unwrap();
    b.sign(&k, MessageDigest::sha256()).unwrap();
    (b.build(), k)
}

/// A server certificate for 127.0.0.1 and localhost signed by the CA.
fn make_server_cert(ca: &X509, ca_key: &PKey<Private>) -> (X509, PKey<Private>) {
    let k = key();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    b.set_subject_name(&name("localhost")).unwrap();
    b.set_issuer_name(ca.subject_name()).unwrap();
    b.set_pubkey(&k).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap()).unwrap();
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .dns("localhost")
        .build(&b.x509v3_context(Some(ca), None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.sign(ca_key, MessageDigest::sha256()).unwrap();
    (b.build(), k)
}

/// One nginx on loopback, killed and cleaned up on drop.
pub struct Nginx {
    child: Child,
    pub dir: PathBuf,
    pub http_port: u16,
    pub https_port: u16,
    /// PEM of the CA that signed the HTTPS certificate.
    pub ca_file: PathBuf,
    /// The 300 KB image served as `/image.bin`.
    pub image: Vec<u8>,
}

impl Nginx {
    /// Starts nginx, or `None` (with a printed SKIP message) when it is not installed.
    pub fn start(test: &str) -> Option<Nginx> {
        let Some(bin) = nginx_binary() else {
            eprintln!(
                "SKIP {test}: nginx is not installed (apt-get install -y nginx-light); \
                 the FOTA interop tests need it"
            );
            return None;
        };
        let dir = temp_dir();
        let www = dir.join("www");
        fs::create_dir_all(&www).unwrap();
        fs::create_dir_all(dir.join("tmp")).unwrap();
        let image = make_image(IMAGE_LEN, 0x5eed_1234_abcd);
        fs::write(www.join("image.bin"), &image).unwrap();
        let mut corrupt = image.clone();
        corrupt[IMAGE_LEN / 2] ^= 0x40;
        fs::write(www.join("corrupt.bin"), &corrupt).unwrap();

        let (ca, ca_key) = make_ca("lwm2m-fota test CA");
        let (cert, cert_key) = make_server_cert(&ca, &ca_key);
        let ca_file = dir.join("ca.pem");
        fs::write(&ca_file, ca.to_pem().unwrap()).unwrap();
        fs::write(dir.join("server.pem"), cert.to_pem().unwrap()).unwrap();
        fs::write(dir.join("server.key"), cert_key.private_key_to_pem_pkcs8().unwrap()).unwrap();

        let (http_port, https_port) = (free_port(), free_port());
        let d = dir.display();
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format ranges '$request|$http_range|$status|$body_bytes_sent';
    access_log {d}/access.log ranges;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type application/octet-stream;
    keepalive_timeout 30s;
    server {{
        listen 127.0.0.1:{http_port};
        root {d}/www;
        location /norange/ {{ alias {d}/www/; max_ranges 0; }}
        location = /redirect.bin {{ return 302 /image.bin; }}
        location = /loop.bin {{ return 302 http://127.0.0.1:{http_port}/loop.bin; }}
    }}
    server {{
        listen 127.0.0.1:{https_port} ssl;
        ssl_certificate {d}/server.pem;
        ssl_certificate_key {d}/server.key;
        root {d}/www;
    }}
}}
"#
        );
        fs::write(dir.join("nginx.conf"), conf).unwrap();
        let mut child = Command::new(bin)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nginx");
        let deadline = StdInstant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let log = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                panic!("nginx exited ({status}): {err}\n{log}");
            }
            let up = |p| TcpStream::connect(("127.0.0.1", p)).is_ok();
            if up(http_port) && up(https_port) {
                break;
            }
            assert!(StdInstant::now() < deadline, "nginx did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Nginx { child, dir, http_port, https_port, ca_file, image })
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    pub fn https(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.https_port)
    }

    /// Lines `request|range|status|bytes` of the access log.
    pub fn access_log(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// The access log once it has at least `n` lines (nginx logs an aborted request only
    /// when it notices the close), waiting up to 2 s.
    pub fn access_log_at_least(&self, n: usize) -> Vec<String> {
        let deadline = StdInstant::now() + Duration::from_secs(2);
        loop {
            let log = self.access_log();
            if log.len() >= n || StdInstant::now() >= deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to 2 s for an access-log line matching `pred`.
    pub fn wait_log(&self, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = StdInstant::now() + Duration::from_secs(2);
        while StdInstant::now() < deadline {
            if self.access_log().iter().any(|l| pred(l)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// A fresh path for a downloaded image.
    pub fn out_path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill(); // the nginx this test started (by its handle)
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_ref(),
        }
    }
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.write_all(b),
            Conn::Tls(s) => s.write_all(b),
        }
    }
}

/// Executes a Download's actions over real sockets.
pub struct Driver {
    /// CA file for HTTPS (the device's security tag 11).
    pub ca_file: Option<PathBuf>,
    /// Image offsets at which the driver drops the connection (once each, ascending).
    pub cut_at: Vec<u32>,
    /// Stop driving (simulated reboot) once the offset reaches this.
    pub stop_at: Option<u32>,
    /// Largest single read.
    pub read_size: usize,
    /// Statistics.
    pub connects: u32,
    pub cuts: u32,
}

impl Driver {
    pub fn new(ca_file: Option<&Path>) -> Driver {
        Driver {
            ca_file: ca_file.map(Path::to_path_buf),
            cut_at: Vec::new(),
            stop_at: None,
            read_size: 2048,
            connects: 0,
            cuts: 0,
        }
    }

    fn connect(&self, host: &str, port: u16, tls: bool) -> Result<Conn, ConnectErrorKind> {
        let addrs: Vec<_> =
            (host, port).to_socket_addrs().map_err(|_| ConnectErrorKind::Dns)?.collect();
        if addrs.is_empty() {
            return Err(ConnectErrorKind::Dns);
        }
        let mut last = ConnectErrorKind::Refused;
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::TimedOut => last = ConnectErrorKind::Timeout,
                Err(_) => last = ConnectErrorKind::Refused,
            }
        }
        let stream = stream.ok_or(last)?;
        if !tls {
            return Ok(Conn::Plain(stream));
        }
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        if let Some(ca) = &self.ca_file {
            b.set_ca_file(ca).map_err(|_| ConnectErrorKind::Tls)?;
        }
        let s = b.build().connect(host, stream).map_err(|_| ConnectErrorKind::Tls)?;
        Ok(Conn::Tls(Box::new(s)))
    }

    /// Runs until the download finishes (or `stop_at`); returns its status.
    pub fn run(&mut self, d: &mut Download, sink: &mut dyn DfuSink) -> Status {
        let t0 = StdInstant::now();
        let now = || Instant::from_millis(t0.elapsed().as_millis() as u64);
        let mut conn: Option<Conn> = None;
        let mut buf = vec![0u8; self.read_size.max(1)];
        let hard_deadline = t0 + Duration::from_secs(120);
        loop {
            assert!(StdInstant::now() < hard_deadline, "download hung");
            let mut connect_result = None;
            let mut send_failed = false;
            while let Some(a) = d.poll_action() {
                match a {
                    Action::Connect { host, port, tls } => {
                        self.connects += 1;
                        connect_result = Some(self.connect(host, port, tls));
                    }
                    Action::Send(bytes) => {
                        let ok = conn.as_mut().is_some_and(|c| c.write_all(bytes).is_ok());
                        send_failed |= !ok;
                    }
                    Action::Close => conn = None,
                }
            }
            if let Some(r) = connect_result {
                match r {
                    Ok(c) => {
                        conn = Some(c);
                        d.connected(now());
                    }
                    Err(k) => d.connect_failed(now(), k),
                }
                continue;
            }
            if send_failed {
                conn = None;
                d.closed(now());
                continue;
            }
            if d.status() != Status::Running {
                return d.status();
            }
            if self.stop_at.is_some_and(|s| d.offset() >= s) {
                return d.status();
            }
            let wait = d
                .poll_at()
                .map(|at| at.as_millis().saturating_sub(now().as_millis()))
                .unwrap_or(1000)
                .clamp(1, 1000);
            let Some(c) = conn.as_mut() else {
                std::thread::sleep(Duration::from_millis(wait));
                d.poll(now());
                continue;
            };
            c.tcp().set_read_timeout(Some(Duration::from_millis(wait))).unwrap();
            match c.read(&mut buf) {
                Ok(0) => {
                    conn = None;
                    d.closed(now());
                }
                Ok(n) => {
                    d.received(now(), &buf[..n], sink);
                    if self.cut_at.first().is_some_and(|&cut| d.offset() >= cut)
                        && d.status() == Status::Running
                    {
                        while self.cut_at.first().is_some_and(|&cut| d.offset() >= cut) {
                            self.cut_at.remove(0);
                        }
                        self.cuts += 1;
                        conn = None; // drop the TCP connection mid-transfer
                        d.closed(now());
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    d.poll(now());
                }
                Err(_) => {
                    conn = None;
                    d.closed(now());
                }
            }
        }
    }
}

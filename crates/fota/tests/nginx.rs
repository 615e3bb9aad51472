//! FOTA downloads against a real nginx on loopback (HTTP and HTTPS with a CA generated in the
//! test). Skipped with a printed message when nginx is not installed (`nginx-light`).

mod support;

use std::fs;

use lwm2m_fota::http::HttpError;
use lwm2m_fota::sink::FileSink;
use lwm2m_fota::{
    error_code, update_result, Config, ConnectErrorKind, DfuError, DfuSink, Download, FotaError,
    Instant, ProtoError, Status,
};
use support::{make_ca, Driver, Nginx, IMAGE_LEN};

fn cfg(fragment: u32) -> Config {
    Config::new().with_fragment_size(fragment).with_retries(3, 50).with_io_timeout(5000)
}

fn start(c: Config, uri: &str, resume: u32) -> Download {
    Download::start_with(c, uri, resume, Instant::from_millis(0)).unwrap()
}

/// Downloads `uri` into a fresh file; returns (status, file contents, driver).
fn download(
    ng: &Nginx,
    c: Config,
    uri: &str,
    tls: bool,
    setup: impl FnOnce(&mut Driver),
) -> (Status, Vec<u8>, Driver) {
    let path = ng.out_path(&format!("out-{}.bin", rand_suffix()));
    let mut sink = FileSink::open(&path).unwrap();
    let mut drv = Driver::new(tls.then_some(ng.ca_file.as_path()));
    setup(&mut drv);
    let mut d = start(c, uri, 0);
    let st = drv.run(&mut d, &mut sink);
    (st, fs::read(&path).unwrap(), drv)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn done() -> Status {
    Status::Done { total: IMAGE_LEN as u32 }
}

#[test]
fn http_full_download_open_ended() {
    let Some(ng) = Nginx::start("http_full_download_open_ended") else { return };
    let (st, data, drv) = download(&ng, cfg(0), &ng.http("/image.bin"), false, |_| {});
    assert_eq!(st, done());
    assert!(data == ng.image, "byte-identical");
    assert_eq!(drv.connects, 1);
    let log = ng.access_log();
    assert_eq!(log, [format!("GET /image.bin HTTP/1.1|bytes=0-|206|{IMAGE_LEN}")]);
}

#[test]
fn http_full_download_in_4k_fragments() {
    let Some(ng) = Nginx::start("http_full_download_in_4k_fragments") else { return };
    let (st, data, drv) = download(&ng, cfg(4096), &ng.http("/image.bin"), false, |_| {});
    assert_eq!(st, done());
    assert!(data == ng.image);
    assert_eq!(drv.connects, 1, "all fragments over one keep-alive connection");
    let log = ng.access_log();
    assert_eq!(log.len(), IMAGE_LEN / 4096);
    assert_eq!(log[1], "GET /image.bin HTTP/1.1|bytes=4096-8191|206|4096");
}

#[test]
fn https_full_download_open_ended() {
    let Some(ng) = Nginx::start("https_full_download_open_ended") else { return };
    let (st, data, _) = download(&ng, cfg(0), &ng.https("/image.bin"), true, |_| {});
    assert_eq!(st, done());
    assert!(data == ng.image);
}

#[test]
fn https_full_download_in_2k_fragments() {
    let Some(ng) = Nginx::start("https_full_download_in_2k_fragments") else { return };
    let (st, data, drv) = download(&ng, cfg(2048), &ng.https("/image.bin"), true, |_| {});
    assert_eq!(st, done());
    assert!(data == ng.image);
    assert_eq!(drv.connects, 1);
    assert_eq!(ng.access_log().len(), IMAGE_LEN / 2048);
}

#[test]
fn http_cut_at_several_offsets_and_resumed() {
    let Some(ng) = Nginx::start("http_cut_at_several_offsets_and_resumed") else { return };
    let cuts = vec![1000, 50_000, 123_457, 200_001, 299_000];
    let (st, data, drv) = download(&ng, cfg(0), &ng.http("/image.bin"), false, |d| {
        d.cut_at = cuts.clone();
        d.read_size = 1000;
    });
    assert_eq!(st, done());
    assert!(data == ng.image, "byte-identical after {} cuts", drv.cuts);
    assert_eq!(drv.cuts, 5);
    assert_eq!(drv.connects, 6);
    // Each reconnect asked for the rest from where it stopped.
    let log = ng.access_log_at_least(6);
    let starts: Vec<u32> = log
        .iter()
        .map(|l| l.split('|').nth(1).unwrap())
        .map(|r| r.trim_start_matches("bytes=").trim_end_matches('-').parse().unwrap())
        .collect();
    assert_eq!(starts.len(), 6);
    assert_eq!(starts[0], 0);
    for (s, cut) in starts[1..].iter().zip(&cuts) {
        assert!(*s >= *cut && *s < *cut + 1000, "resumed at {s} after a cut at {cut}");
    }
}

#[test]
fn https_cut_at_several_offsets_and_resumed_in_fragments() {
    let Some(ng) = Nginx::start("https_cut_at_several_offsets_and_resumed_in_fragments") else {
        return;
    };
    let (st, data, drv) = download(&ng, cfg(4096), &ng.https("/image.bin"), true, |d| {
        d.cut_at = vec![777, 4096 * 10 + 5, 150_000, 302_000];
        d.read_size = 700;
    });
    assert_eq!(st, done());
    assert!(data == ng.image);
    assert_eq!(drv.cuts, 4);
    assert!(ng.access_log_at_least(4 + 1).iter().any(|l| {
        let range = l.split('|').nth(1).unwrap();
        let start: u32 = range[6..].split('-').next().unwrap().parse().unwrap();
        start % 4096 != 0
    }));
}

#[test]
fn resumed_after_reboot_from_the_stored_offset() {
    let Some(ng) = Nginx::start("resumed_after_reboot_from_the_stored_offset") else { return };
    let path = ng.out_path("reboot.bin");
    for (i, stop) in [Some(100_000), Some(220_000), None].into_iter().enumerate() {
        // A "reboot": a new sink on the same file and a new Download from its length.
        let mut sink = FileSink::open(&path).unwrap();
        let resume = sink.offset();
        if i == 0 {
            assert_eq!(resume, 0);
        } else {
            assert!(resume >= 100_000);
        }
        let mut drv = Driver::new(Some(&ng.ca_file));
        drv.stop_at = stop;
        let mut d = start(cfg(0), &ng.https("/image.bin"), resume);
        let st = drv.run(&mut d, &mut sink);
        if stop.is_some() {
            assert_eq!(st, Status::Running);
        } else {
            assert_eq!(st, done());
        }
    }
    assert!(fs::read(&path).unwrap() == ng.image);
    let log = ng.access_log_at_least(3);
    assert_eq!(log.len(), 3);
    assert!(log[2].contains("|bytes=2"), "third request resumed past 200000: {}", log[2]);
}

#[test]
fn server_ignoring_range_when_resuming_is_fota_proto() {
    let Some(ng) = Nginx::start("server_ignoring_range_when_resuming_is_fota_proto") else {
        return;
    };
    // From offset 0 a 200 with the whole image is what we wanted.
    let (st, data, _) = download(&ng, cfg(4096), &ng.http("/norange/image.bin"), false, |_| {});
    assert_eq!(st, done());
    assert!(data == ng.image);
    // Cut mid-way: the resume gets 200 instead of 206.
    let (st, _, drv) = download(&ng, cfg(4096), &ng.http("/norange/image.bin"), false, |d| {
        d.cut_at = vec![10_000]
    });
    let e = FotaError::Protocol(ProtoError::RangeIgnored);
    assert_eq!(st, Status::Failed(e));
    assert_eq!(drv.cuts, 1);
    assert_eq!(e.error_code(), error_code::FOTA_PROTO);
    // nginx logs an aborted request when it notices the close: wait for the line.
    assert!(
        ng.wait_log(|l| l.contains("|bytes=1") && l.contains("|200|")),
        "{:?}",
        ng.access_log()
    );
    // Same after a reboot.
    let path = ng.out_path("norange.bin");
    fs::write(&path, &ng.image[..5000]).unwrap();
    let mut sink = FileSink::open(&path).unwrap();
    let mut d = start(cfg(0), &ng.http("/norange/image.bin"), sink.offset());
    assert_eq!(Driver::new(None).run(&mut d, &mut sink), Status::Failed(e));
}

#[test]
fn missing_file_is_not_found() {
    let Some(ng) = Nginx::start("missing_file_is_not_found") else { return };
    for (uri, tls) in [(ng.http("/nope.bin"), false), (ng.https("/nope.bin"), true)] {
        let (st, data, _) = download(&ng, cfg(4096), &uri, tls, |_| {});
        let e = FotaError::NotFound(404);
        assert_eq!(st, Status::Failed(e));
        assert_eq!(e.error_code(), error_code::FOTA_PROTO);
        assert_eq!(e.update_result(), update_result::INVALID_URI);
        assert!(data.is_empty());
    }
}

#[test]
fn refused_connection_is_fota_conn() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("lwm2m-fota-refused-{}", std::process::id()));
    let mut sink = FileSink::open(&dir).unwrap();
    let mut d = start(cfg(0), &format!("http://127.0.0.1:{port}/image.bin"), 0);
    let st = Driver::new(None).run(&mut d, &mut sink);
    let _ = fs::remove_file(&dir);
    let e = FotaError::Connect(ConnectErrorKind::Refused);
    assert_eq!(st, Status::Failed(e));
    assert_eq!(e.error_code(), error_code::FOTA_CONN);
    assert_eq!(e.update_result(), update_result::CONNECTION_LOST);
}

#[test]
fn unresolvable_host_is_fota_conn() {
    let dir = std::env::temp_dir().join(format!("lwm2m-fota-dns-{}", std::process::id()));
    let mut sink = FileSink::open(&dir).unwrap();
    // RFC 2606: .invalid never resolves.
    let mut d = start(cfg(0), "https://firmware.nonexistent.invalid/image.bin", 0);
    let st = Driver::new(None).run(&mut d, &mut sink);
    let _ = fs::remove_file(&dir);
    let e = FotaError::Connect(ConnectErrorKind::Dns);
    assert_eq!(st, Status::Failed(e));
    assert_eq!(e.error_code(), error_code::FOTA_CONN);
    assert_eq!(e.update_result(), update_result::INVALID_URI);
}

#[test]
fn untrusted_certificate_is_fota_conn() {
    let Some(ng) = Nginx::start("untrusted_certificate_is_fota_conn") else { return };
    let (other, _) = make_ca("some other CA");
    let other_file = ng.out_path("other-ca.pem");
    fs::write(&other_file, other.to_pem().unwrap()).unwrap();
    let mut sink = FileSink::open(ng.out_path("tls.bin")).unwrap();
    let mut d = start(cfg(0), &ng.https("/image.bin"), 0);
    let st = Driver::new(Some(&other_file)).run(&mut d, &mut sink);
    assert_eq!(st, Status::Failed(FotaError::Connect(ConnectErrorKind::Tls)));
}

#[test]
fn corrupt_image_is_fota_pkg() {
    let Some(ng) = Nginx::start("corrupt_image_is_fota_pkg") else { return };
    for (uri, tls) in [(ng.http("/corrupt.bin"), false), (ng.https("/corrupt.bin"), true)] {
        let (st, data, _) = download(&ng, cfg(4096), &uri, tls, |_| {});
        let e = FotaError::Package(DfuError::Integrity);
        assert_eq!(st, Status::Failed(e));
        assert_eq!(e.error_code(), error_code::FOTA_PKG);
        assert_eq!(e.update_result(), update_result::INTEGRITY_FAILURE);
        assert_eq!(data.len(), IMAGE_LEN, "downloaded completely, then rejected");
    }
}

#[test]
fn redirect_followed_and_loop_refused() {
    let Some(ng) = Nginx::start("redirect_followed_and_loop_refused") else { return };
    let (st, data, drv) = download(&ng, cfg(0), &ng.http("/redirect.bin"), false, |_| {});
    assert_eq!(st, done());
    assert!(data == ng.image);
    assert_eq!(drv.connects, 2);
    let (st, _, drv) = download(&ng, cfg(0), &ng.http("/loop.bin"), false, |_| {});
    assert_eq!(st, Status::Failed(FotaError::Protocol(ProtoError::TooManyRedirects)));
    assert_eq!(drv.connects, 4, "the first request and 3 redirects");
}

#[test]
fn resume_at_the_end_and_beyond() {
    let Some(ng) = Nginx::start("resume_at_the_end_and_beyond") else { return };
    // The whole image was stored before the reboot: nginx answers 416 bytes */N.
    let path = ng.out_path("complete.bin");
    fs::write(&path, &ng.image).unwrap();
    let mut sink = FileSink::open(&path).unwrap();
    let mut d = start(cfg(4096), &ng.http("/image.bin"), sink.offset());
    assert_eq!(Driver::new(None).run(&mut d, &mut sink), done());
    assert!(ng.access_log()[0].contains("|416|"));
    // A stored offset past the end: 416 that does not match → FOTA_PROTO.
    let path = ng.out_path("toolong.bin");
    fs::write(&path, vec![0u8; IMAGE_LEN + 10]).unwrap();
    let mut sink = FileSink::open(&path).unwrap();
    let mut d = start(cfg(4096), &ng.http("/image.bin"), sink.offset());
    let st = Driver::new(None).run(&mut d, &mut sink);
    assert_eq!(st, Status::Failed(FotaError::Protocol(ProtoError::RangeNotSatisfiable)));
}

#[test]
fn plain_http_to_the_tls_port_is_a_protocol_error() {
    let Some(ng) = Nginx::start("plain_http_to_the_tls_port_is_a_protocol_error") else { return };
    let uri = format!("http://127.0.0.1:{}/image.bin", ng.https_port);
    let (st, _, _) = download(&ng, cfg(0), &uri, false, |_| {});
    // nginx answers "400 The plain HTTP request was sent to HTTPS port".
    assert_eq!(st, Status::Failed(FotaError::Protocol(ProtoError::Status(400))));
    let _ = HttpError::Malformed;
}

//! Download state machine against a scripted in-memory server (virtual time, no sockets).

use super::*;
use crate::http::HttpError;
use crate::sink::{seal, DfuError, MemSink};
use std::collections::VecDeque;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

fn image(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    let mut v: Vec<u8> = (0..len - 4)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let t = seal(&v);
    v.extend_from_slice(&t);
    v
}

/// What the scripted server sees.
#[derive(Debug)]
enum On<'a> {
    Connect { host: &'a str, port: u16, tls: bool },
    Request(&'a str),
}

/// What it answers.
enum Reply {
    Accept,
    Refuse(ConnectErrorKind),
    /// Response bytes; then close the connection if `close`.
    Bytes(Vec<u8>, bool),
    /// No answer at all (the machine's timeout fires).
    Silence,
}

enum Ev {
    Connected,
    ConnectFailed(ConnectErrorKind),
    Data(Vec<u8>),
    Closed,
}

struct Run {
    status: Status,
    now: u64,
    closes: u32,
}

fn drive(
    d: &mut Download,
    sink: &mut dyn DfuSink,
    chunk: usize,
    mut server: impl FnMut(On<'_>) -> Reply,
) -> Run {
    let mut queue: VecDeque<Ev> = VecDeque::new();
    let mut now = 0u64;
    let mut closes = 0;
    for _ in 0..1_000_000 {
        while let Some(a) = d.poll_action() {
            match a {
                Action::Close => {
                    queue.clear();
                    closes += 1;
                }
                Action::Connect { host, port, tls } => {
                    match server(On::Connect { host, port, tls }) {
                        Reply::Accept => queue.push_back(Ev::Connected),
                        Reply::Refuse(k) => queue.push_back(Ev::ConnectFailed(k)),
                        _ => {}
                    }
                }
                Action::Send(req) => {
                    let req = std::str::from_utf8(req).unwrap();
                    match server(On::Request(req)) {
                        Reply::Bytes(b, close) => {
                            for c in b.chunks(chunk.max(1)) {
                                queue.push_back(Ev::Data(c.to_vec()));
                            }
                            if close {
                                queue.push_back(Ev::Closed);
                            }
                        }
                        Reply::Silence => {}
                        _ => panic!("bad reply to a request"),
                    }
                }
            }
        }
        if d.status() != Status::Running {
            return Run { status: d.status(), now, closes };
        }
        let t = Instant::from_millis(now);
        match queue.pop_front() {
            Some(Ev::Connected) => d.connected(t),
            Some(Ev::ConnectFailed(k)) => d.connect_failed(t, k),
            Some(Ev::Data(b)) => d.received(t, &b, sink),
            Some(Ev::Closed) => d.closed(t),
            None => {
                let at = d.poll_at().expect("running without a deadline and nothing to do");
                now = now.max(at.as_millis());
                d.poll(Instant::from_millis(now));
            }
        }
    }
    panic!("download did not finish");
}

fn range_of(req: &str) -> (u32, Option<u32>) {
    let line = req.lines().find(|l| l.starts_with("Range: bytes=")).expect("no Range");
    let spec = &line["Range: bytes=".len()..];
    let (a, b) = spec.split_once('-').unwrap();
    (a.parse().unwrap(), if b.is_empty() { None } else { Some(b.parse().unwrap()) })
}

fn partial(img: &[u8], req: &str, keep_alive: bool) -> Vec<u8> {
    let (first, last) = range_of(req);
    let last = last.unwrap_or(u32::MAX).min(img.len() as u32 - 1);
    let body = &img[first as usize..=last as usize];
    let mut r = format!(
        "HTTP/1.1 206 Partial Content\r\nServer: test\r\nContent-Length: {}\r\n\
Content-Range: bytes {}-{}/{}\r\nConnection: {}\r\n\r\n",
        body.len(),
        first,
        last,
        img.len(),
        if keep_alive { "keep-alive" } else { "close" }
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn cfg() -> Config {
    Config::new().with_retries(3, 1000).with_io_timeout(5000)
}

fn start(c: Config, resume: u32) -> Download {
    Download::start_with(c, "http://fw.example:8080/img.bin", resume, Instant::from_millis(0))
        .unwrap()
}

/// A well-behaved keep-alive server.
fn good(img: &[u8]) -> impl FnMut(On<'_>) -> Reply + '_ {
    move |on| match on {
        On::Connect { .. } => Reply::Accept,
        On::Request(req) => Reply::Bytes(partial(img, req, true), false),
    }
}

#[test]
fn fragments_over_one_keep_alive_connection() {
    let img = image(10_000);
    for chunk in [1, 7, 1500, 100_000] {
        let mut buf = vec![0u8; 20_000];
        let mut sink = MemSink::new(&mut buf);
        let mut d = start(cfg(), 0);
        let mut seen = Vec::new();
        let run = drive(&mut d, &mut sink, chunk, |on| {
            if let On::Request(r) = &on {
                seen.push(range_of(r));
                assert!(r.starts_with("GET /img.bin HTTP/1.1\r\nHost: fw.example:8080\r\n"));
            }
            good(&img)(on)
        });
        assert_eq!(run.status, Status::Done { total: 10_000 });
        assert_eq!(sink.data(), &img[..]);
        assert_eq!(seen, [(0, Some(4095)), (4096, Some(8191)), (8192, Some(9999))]);
        assert_eq!((d.connects(), d.requests()), (1, 3));
        assert_eq!(d.offset(), 10_000);
        assert_eq!(d.total(), Some(10_000));
    }
}

#[test]
fn open_ended_single_request() {
    let img = image(50_000);
    let mut buf = vec![0u8; 60_000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg().with_fragment_size(0), 0);
    let run = drive(&mut d, &mut sink, 1460, good(&img));
    assert_eq!(run.status, Status::Done { total: 50_000 });
    assert_eq!(sink.data(), &img[..]);
    assert_eq!((d.connects(), d.requests()), (1, 1));
}

#[test]
fn server_closing_after_each_fragment_is_not_an_error() {
    let img = image(9000);
    let mut buf = vec![0u8; 9000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg().with_retries(0, 1000), 0);
    let run = drive(&mut d, &mut sink, 512, |on| match on {
        On::Connect { .. } => Reply::Accept,
        On::Request(r) => Reply::Bytes(partial(&img, r, false), true),
    });
    assert_eq!(run.status, Status::Done { total: 9000 });
    assert_eq!(d.connects(), 3);
    assert_eq!(run.now, 0, "no retry delay was needed");
}

#[test]
fn resume_from_stored_offset() {
    let img = image(10_000);
    let mut buf = vec![0u8; 10_000];
    let mut sink = MemSink::new(&mut buf);
    sink.begin(None, 0).unwrap();
    sink.write(0, &img[..5000]).unwrap();
    let mut d = start(cfg(), sink.offset());
    let mut first = None;
    let run = drive(&mut d, &mut sink, 999, |on| {
        if let On::Request(r) = &on {
            first.get_or_insert(range_of(r));
        }
        good(&img)(on)
    });
    assert_eq!(run.status, Status::Done { total: 10_000 });
    assert_eq!(first, Some((5000, Some(9095))));
    assert_eq!(sink.data(), &img[..]);
}

#[test]
fn connection_cut_mid_body_resumes_after_delay() {
    let img = image(30_000);
    for frag in [0, 4096] {
        let mut buf = vec![0u8; 30_000];
        let mut sink = MemSink::new(&mut buf);
        let mut d = start(cfg().with_fragment_size(frag), 0);
        let mut n = 0;
        let run = drive(&mut d, &mut sink, 333, |on| match on {
            On::Connect { .. } => Reply::Accept,
            On::Request(r) => {
                n += 1;
                let mut resp = partial(&img, r, true);
                if n % 2 == 1 {
                    // Cut after the head and a bit of body.
                    resp.truncate(resp.len() / 2);
                    Reply::Bytes(resp, true)
                } else {
                    Reply::Bytes(resp, false)
                }
            }
        });
        assert_eq!(run.status, Status::Done { total: 30_000 }, "frag {frag}");
        assert_eq!(sink.data(), &img[..]);
        assert!(d.connects() >= 2);
        assert!(run.now >= 1000, "waited the retry delay");
    }
}

#[test]
fn lost_connection_gives_up_after_bounded_retries() {
    let img = image(20_000);
    let mut buf = vec![0u8; 20_000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let mut requests = 0;
    let run = drive(&mut d, &mut sink, 1000, |on| match on {
        On::Connect { .. } => Reply::Accept,
        On::Request(r) => {
            requests += 1;
            if requests == 1 {
                Reply::Bytes(partial(&img, r, true), false)
            } else {
                Reply::Bytes(Vec::new(), true) // accept, then drop without a byte
            }
        }
    });
    let err = FotaError::ConnectionLost;
    assert_eq!(run.status, Status::Failed(err));
    assert_eq!(err.error_code(), crate::error_code::FOTA_CONN_LOST);
    assert_eq!(err.update_result(), crate::update_result::CONNECTION_LOST);
    assert_eq!(d.offset(), 4096, "progress is kept for a later resume");
    assert_eq!(requests, 1 + 1 + 3);
    assert_eq!(run.now, 3000);
}

#[test]
fn reconnect_failures_after_progress_are_conn_lost() {
    let img = image(20_000);
    let mut buf = vec![0u8; 20_000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let mut connects = 0;
    let run = drive(&mut d, &mut sink, 1000, |on| match on {
        On::Connect { .. } => {
            connects += 1;
            if connects == 1 {
                Reply::Accept
            } else {
                Reply::Refuse(ConnectErrorKind::Refused)
            }
        }
        On::Request(r) => {
            let mut b = partial(&img, r, true);
            b.truncate(b.len() - 10);
            Reply::Bytes(b, true)
        }
    });
    assert_eq!(run.status, Status::Failed(FotaError::ConnectionLost));
    assert_eq!(connects, 4);
}

#[test]
fn first_connect_failure_is_fota_conn() {
    for kind in [
        ConnectErrorKind::Dns,
        ConnectErrorKind::Refused,
        ConnectErrorKind::Timeout,
        ConnectErrorKind::Tls,
    ] {
        let mut buf = [0u8; 16];
        let mut sink = MemSink::new(&mut buf);
        let mut d = start(cfg(), 1234);
        let run = drive(&mut d, &mut sink, 1, |on| match on {
            On::Connect { host, port, tls } => {
                assert_eq!((host, port, tls), ("fw.example", 8080, false));
                Reply::Refuse(kind)
            }
            On::Request(_) => unreachable!(),
        });
        assert_eq!(run.status, Status::Failed(FotaError::Connect(kind)));
        assert_eq!(FotaError::Connect(kind).error_code(), crate::error_code::FOTA_CONN);
        assert_eq!(d.connects(), 1);
    }
}

#[test]
fn connect_timeout_from_the_machines_own_deadline() {
    let mut buf = [0u8; 16];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let run = drive(&mut d, &mut sink, 1, |_| Reply::Silence);
    assert_eq!(run.status, Status::Failed(FotaError::Connect(ConnectErrorKind::Timeout)));
    assert_eq!(run.now, 5000);
    assert_eq!(run.closes, 1, "the pending connect is dropped");
}

#[test]
fn silent_server_times_out_and_retries() {
    let img = image(6000);
    let mut buf = vec![0u8; 6000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let mut n = 0;
    let run = drive(&mut d, &mut sink, 1000, |on| match on {
        On::Connect { .. } => Reply::Accept,
        On::Request(r) => {
            n += 1;
            if n == 2 {
                Reply::Silence
            } else {
                Reply::Bytes(partial(&img, r, true), false)
            }
        }
    });
    assert_eq!(run.status, Status::Done { total: 6000 });
    assert_eq!(run.now, 5000 + 1000);
    assert_eq!(d.connects(), 2);
}

fn one_response(resume: u32, frag: u32, resp: &[u8]) -> (Status, u32) {
    let mut buf = vec![0u8; 100_000];
    let mut sink = MemSink::new(&mut buf);
    if resume > 0 {
        sink.begin(None, 0).unwrap();
        sink.write(0, &vec![0; resume as usize]).unwrap();
    }
    let mut d = start(cfg().with_fragment_size(frag), resume);
    let run = drive(&mut d, &mut sink, 17, |on| match on {
        On::Connect { .. } => Reply::Accept,
        On::Request(_) => Reply::Bytes(resp.to_vec(), false),
    });
    (run.status, d.requests())
}

fn proto(e: ProtoError) -> Status {
    Status::Failed(FotaError::Protocol(e))
}

#[test]
fn full_200_is_fine_at_offset_zero_but_not_when_resuming() {
    let img = image(5000);
    let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", img.len()).into_bytes();
    resp.extend_from_slice(&img);
    assert_eq!(one_response(0, 4096, &resp).0, Status::Done { total: 5000 });
    let (st, _) = one_response(100, 4096, &resp);
    assert_eq!(st, proto(ProtoError::RangeIgnored));
    let e = FotaError::Protocol(ProtoError::RangeIgnored);
    assert_eq!((e.error_code(), e.update_result()), (5, 9));
    // 200 without a length cannot be checked.
    let resp = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabcdef";
    assert_eq!(one_response(0, 4096, resp).0, proto(ProtoError::LengthMismatch));
}

#[test]
fn bad_partial_responses() {
    let cases: &[(&[u8], Status)] = &[
        (
            b"HTTP/1.1 206 P\r\nContent-Length: 4\r\nContent-Range: bytes 1-4/100\r\n\r\nabcd",
            proto(ProtoError::RangeMismatch),
        ),
        (
            b"HTTP/1.1 206 P\r\nContent-Length: 4\r\nContent-Range: bytes 0-5000/9000\r\n\r\nabcd",
            proto(ProtoError::RangeMismatch),
        ),
        (b"HTTP/1.1 206 P\r\nContent-Length: 4\r\n\r\nabcd", proto(ProtoError::MissingContentRange)),
        (
            b"HTTP/1.1 206 P\r\nContent-Length: 4\r\nContent-Range: bytes 0-3/*\r\n\r\nabcd",
            proto(ProtoError::MissingContentRange),
        ),
        (
            b"HTTP/1.1 206 P\r\nContent-Length: 5\r\nContent-Range: bytes 0-3/100\r\n\r\nabcde",
            proto(ProtoError::LengthMismatch),
        ),
        (
            b"HTTP/1.1 206 P\r\nContent-Range: bytes 0-3/100\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n",
            proto(ProtoError::Http(HttpError::TransferCoding)),
        ),
        (
            b"HTTP/1.1 206 P\r\nContent-Length: 4\r\nContent-Range: bytes 0-3/100\r\n\r\nabcdHTTP/1.1",
            proto(ProtoError::UnexpectedData),
        ),
        (
            b"HTTP/1.1 416 R\r\nContent-Range: bytes */100\r\nContent-Length: 0\r\n\r\n",
            proto(ProtoError::RangeNotSatisfiable),
        ),
        (b"HTTP/1.1 500 E\r\nContent-Length: 0\r\n\r\n", proto(ProtoError::Status(500))),
        (b"HTTP/1.1 404 N\r\nContent-Length: 0\r\n\r\n", Status::Failed(FotaError::NotFound(404))),
        (b"HTTP/1.1 410 G\r\nContent-Length: 0\r\n\r\n", Status::Failed(FotaError::NotFound(410))),
        (b"garbage\r\n\r\n", proto(ProtoError::Http(HttpError::Malformed))),
    ];
    for (resp, want) in cases {
        assert_eq!(one_response(0, 4096, resp).0, *want, "{}", String::from_utf8_lossy(resp));
    }
    let e = FotaError::NotFound(404);
    assert_eq!((e.error_code(), e.update_result()), (5, 7));
}

#[test]
fn content_range_without_length_is_read_to_its_end() {
    let img = image(8);
    let mut resp = b"HTTP/1.1 206 P\r\nContent-Range: bytes 0-7/8\r\n\r\n".to_vec();
    resp.extend_from_slice(&img);
    assert_eq!(one_response(0, 0, &resp).0, Status::Done { total: 8 });
    // More than announced: after the last response extra bytes are ignored...
    resp.push(0);
    assert_eq!(one_response(0, 0, &resp).0, Status::Done { total: 8 });
    // ...but not inside a response.
    let mut resp = b"HTTP/1.1 206 P\r\nContent-Range: bytes 0-7/9\r\n\r\n".to_vec();
    resp.extend_from_slice(&[0; 9]);
    assert_eq!(one_response(0, 0, &resp).0, proto(ProtoError::UnexpectedData));
}

#[test]
fn total_length_must_not_change() {
    let img = image(10_000);
    let mut buf = vec![0u8; 20_000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let mut n = 0;
    let run = drive(&mut d, &mut sink, 1000, |on| match on {
        On::Connect { .. } => Reply::Accept,
        On::Request(r) => {
            n += 1;
            let mut b = partial(&img, r, true);
            if n == 2 {
                let s = String::from_utf8_lossy(&b).replace("/10000", "/10001");
                b = s.into_bytes();
            }
            Reply::Bytes(b, false)
        }
    });
    assert_eq!(run.status, proto(ProtoError::RangeMismatch));
}

#[test]
fn range_not_satisfiable_at_the_end_means_already_complete() {
    let img = image(3000);
    let mut buf = vec![0u8; 3000];
    let mut sink = MemSink::new(&mut buf);
    sink.begin(Some(3000), 0).unwrap();
    sink.write(0, &img).unwrap();
    let mut d = start(cfg(), 3000);
    let run = drive(&mut d, &mut sink, 5, |on| {
        match on {
        On::Connect { .. } => Reply::Accept,
        On::Request(_) => Reply::Bytes(
            b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */3000\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
            false,
        ),
    }
    });
    assert_eq!(run.status, Status::Done { total: 3000 });
}

#[test]
fn redirects_followed_then_bounded() {
    let img = image(5000);
    let mut buf = vec![0u8; 5000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let mut hosts = Vec::new();
    let run = drive(&mut d, &mut sink, 100, |on| {
        match on {
        On::Connect { host, port, tls } => {
            hosts.push(format!("{host}:{port}:{tls}"));
            Reply::Accept
        }
        On::Request(r) if r.starts_with("GET /img.bin ") => Reply::Bytes(
            b"HTTP/1.1 302 Found\r\nLocation: https://cdn.example/a/b.bin\r\nContent-Length: 3\r\n\r\nabc"
                .to_vec(),
            false,
        ),
        On::Request(r) if r.starts_with("GET /a/b.bin ") => Reply::Bytes(
            b"HTTP/1.1 301 Moved\r\nLocation: c.bin\r\nContent-Length: 0\r\n\r\n".to_vec(),
            false,
        ),
        On::Request(r) => {
            assert!(r.starts_with("GET /a/c.bin HTTP/1.1\r\nHost: cdn.example\r\n"), "{r}");
            Reply::Bytes(partial(&img, r, true), false)
        }
    }
    });
    assert_eq!(run.status, Status::Done { total: 5000 });
    assert_eq!(hosts, ["fw.example:8080:false", "cdn.example:443:true", "cdn.example:443:true"]);
    assert_eq!(d.uri(), "https://cdn.example/a/c.bin");

    let mut buf = vec![0u8; 5000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let run = drive(&mut d, &mut sink, 100, |on| match on {
        On::Connect { .. } => Reply::Accept,
        On::Request(_) => Reply::Bytes(
            b"HTTP/1.1 307 T\r\nLocation: /img.bin\r\nContent-Length: 0\r\n\r\n".to_vec(),
            false,
        ),
    });
    assert_eq!(run.status, proto(ProtoError::TooManyRedirects));
    assert_eq!(d.connects(), 4);
    let bad = b"HTTP/1.1 302 F\r\nLocation: ftp://x/y\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(one_response(0, 0, bad).0, Status::Failed(FotaError::UnsupportedProtocol));
    let bad = b"HTTP/1.1 302 F\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(one_response(0, 0, bad).0, proto(ProtoError::BadRedirect));
}

#[test]
fn sink_refusals_are_fota_pkg() {
    let mut img = image(6000);
    img[100] ^= 1;
    let mut buf = vec![0u8; 6000];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let run = drive(&mut d, &mut sink, 1000, good(&img));
    assert_eq!(run.status, Status::Failed(FotaError::Package(DfuError::Integrity)));
    let e = FotaError::Package(DfuError::Integrity);
    assert_eq!((e.error_code(), e.update_result()), (4, 5));
    assert_eq!(run.closes, 1);

    let img = image(6000);
    let mut buf = vec![0u8; 5999];
    let mut sink = MemSink::new(&mut buf);
    let mut d = start(cfg(), 0);
    let run = drive(&mut d, &mut sink, 1000, good(&img));
    assert_eq!(run.status, Status::Failed(FotaError::Package(DfuError::NoSpace)));
}

#[test]
fn invalid_uris_fail_at_start() {
    let t = Instant::from_millis(0);
    assert_eq!(Download::start("coap://h/x", 0, t).err(), Some(FotaError::UnsupportedProtocol));
    assert_eq!(
        Download::start("http://h x/", 0, t).err(),
        Some(FotaError::InvalidUri(UriError::Malformed))
    );
    assert_eq!(Download::start("", 0, t).err(), Some(FotaError::InvalidUri(UriError::Empty)));
}

#[test]
fn inputs_in_the_wrong_state_are_ignored() {
    let mut buf = [0u8; 16];
    let mut sink = MemSink::new(&mut buf);
    let t = Instant::from_millis(0);
    let mut d = start(cfg(), 0);
    d.received(t, b"HTTP/1.1 200 OK\r\n\r\n", &mut sink); // before connected
    d.timeout(t);
    assert_eq!(d.status(), Status::Failed(FotaError::Connect(ConnectErrorKind::Timeout)));
    d.connected(t);
    d.closed(t);
    d.poll(Instant::from_millis(u64::MAX));
    assert_eq!(d.poll_action(), None);
    assert_eq!(d.poll_at(), None);
}

#[test]
fn ram_footprint() {
    // URI (255) + request buffer (640) + parser (Location 255 + small buffers) + state.
    let size = core::mem::size_of::<Download>();
    std::println!("size_of::<Download>() = {size}");
    assert!(size <= 1200, "{size}");
}

#[test]
fn longest_uris_fit_the_request_buffer() {
    let t = Instant::from_millis(0);
    let host = "h".repeat(200);
    let path = "p".repeat(255 - "http://".len() - 200 - ":65535/".len());
    let uris = [
        format!("http://{host}:65535/{path}"),
        format!("https://[{}]:65535/{}", "1:".repeat(50) + "1", "q".repeat(131)),
        format!("http://a/{}", "x".repeat(246)),
    ];
    for uri in &uris {
        assert!(uri.len() <= 255, "{}", uri.len());
        let mut d = Download::start(uri, u32::MAX - 1, t).unwrap();
        assert!(matches!(d.poll_action(), Some(Action::Connect { .. })));
        d.connected(t);
        match d.poll_action() {
            Some(Action::Send(req)) => assert!(req.ends_with(b"keep-alive\r\n\r\n")),
            other => panic!("{other:?} for {uri}"),
        }
    }
}

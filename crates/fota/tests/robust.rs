//! Robustness of the HTTP response parser and the download machine against hostile input:
//! hundreds of thousands of random and mutated responses, every split point of valid ones.
//! Nothing may panic, and the parse result must not depend on how the input is chunked.

use lwm2m_fota::http::{fuzz_response, parse_chunks};
use lwm2m_fota::sink::{seal, MemSink};
use lwm2m_fota::{Action, Config, Download, Instant, Status};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"HTTP/1.1 ",
    b"HTTP/1.0 ",
    b"206 ",
    b"200 ",
    b"100 ",
    b"302 ",
    b"416 ",
    b"\r\n",
    b"\n",
    b"\r",
    b": ",
    b":",
    b" ",
    b"\t",
    b"Content-Length",
    b"Content-Range",
    b"bytes ",
    b"*/",
    b"-",
    b"/",
    b"Transfer-Encoding",
    b"chunked",
    b"Connection",
    b"close",
    b"keep-alive",
    b"Location",
    b"http://h/x",
    b"0",
    b"4294967295",
    b"4294967296",
    b"99999999999999999999",
    b"\x00",
    b"\xff",
    b",",
];

fn valid_responses() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        b"HTTP/1.1 206 Partial Content\r\nServer: nginx/1.22.1\r\nDate: Tue, 25 Nov 2025 07:00:00 GMT\r\n\
Content-Type: application/octet-stream\r\nContent-Length: 10\r\nLast-Modified: Tue, 25 Nov 2025 06:00:00 GMT\r\n\
Connection: keep-alive\r\nETag: \"6925f\"\r\nContent-Range: bytes 0-9/300000\r\n\r\n0123456789"
            .to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nAccept-Ranges: bytes\r\n\r\nhello".to_vec(),
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found".to_vec(),
        b"HTTP/1.1 302 Found\r\nLocation: https://cdn.example/fw.bin\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */1000\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
        b"HTTP/1.0 206 P\nContent-Range: bytes 5-7/8\n\nabc".to_vec(),
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_vec(),
    ];
    let mut big =
        b"HTTP/1.1 206 P\r\nContent-Length: 600\r\nContent-Range: bytes 100-699/5000\r\n\r\n"
            .to_vec();
    big.extend((0..600).map(|i| i as u8));
    v.push(big);
    v
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut d = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(d.len() + 1);
        match rng.below(7) {
            0 if !d.is_empty() => {
                let i = at.min(d.len() - 1);
                d[i] ^= 1 << rng.below(8);
            }
            1 if !d.is_empty() => {
                let i = at.min(d.len() - 1);
                d[i] = rng.next() as u8;
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                d.splice(at..at, t.iter().copied());
            }
            3 if at < d.len() => {
                let end = (at + 1 + rng.below(16)).min(d.len());
                d.drain(at..end);
            }
            4 if at < d.len() => {
                let end = (at + 1 + rng.below(32)).min(d.len());
                let seg = d[at..end].to_vec();
                d.splice(at..at, seg);
            }
            5 => d.truncate(at),
            _ => d.insert(at, rng.next() as u8),
        }
    }
    d
}

fn random_chunks<'a>(rng: &mut Rng, data: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let max = if rng.below(4) == 0 { 4 } else { 64 };
        let n = 1 + rng.below(max);
        let (a, b) = rest.split_at(n.min(rest.len()));
        out.push(a);
        rest = b;
    }
    out
}

#[test]
fn every_split_point_of_valid_responses() {
    for r in valid_responses() {
        let whole = parse_chunks([&r[..]]);
        for i in 0..=r.len() {
            assert_eq!(parse_chunks([&r[..i], &r[i..]]), whole, "split at {i}");
        }
        // Every pair of split points for the shorter ones, byte-by-byte for all.
        if r.len() <= 200 {
            for i in 0..=r.len() {
                for j in i..=r.len() {
                    assert_eq!(parse_chunks([&r[..i], &r[i..j], &r[j..]]), whole);
                }
            }
        }
        assert_eq!(parse_chunks(r.chunks(1)), whole);
    }
}

#[test]
fn random_and_mutated_responses_never_panic_and_ignore_chunking() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let bases = valid_responses();
    let mut n = 0u32;
    let mut ok = 0u32;
    // 150k mutated valid responses.
    for _ in 0..150_000 {
        let base = &bases[rng.below(bases.len())];
        let d = mutate(&mut rng, base);
        let whole = fuzz_response(&d);
        assert_eq!(parse_chunks(random_chunks(&mut rng, &d)), whole);
        ok += whole.is_ok() as u32;
        n += 1;
    }
    // 100k token soups and 100k random byte strings.
    for i in 0..200_000 {
        let mut d = Vec::new();
        let len = rng.below(200);
        while d.len() < len {
            if i % 2 == 0 {
                d.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
            } else {
                d.push(rng.next() as u8);
            }
        }
        if i % 4 == 0 {
            d.splice(0..0, b"HTTP/1.1 2".iter().copied());
        }
        let whole = fuzz_response(&d);
        assert_eq!(parse_chunks(random_chunks(&mut rng, &d)), whole);
        ok += whole.is_ok() as u32;
        n += 1;
    }
    println!("{n} inputs, {ok} parsed as complete responses");
    assert!(ok > 1000, "the mutations should keep some responses valid");
}

/// Feeds one scripted response per request into a Download; returns its final state.
fn run_download(responses: &[Vec<u8>], rng: &mut Rng) -> (Status, u32) {
    let mut buf = vec![0u8; 4096];
    let mut sink = MemSink::new(&mut buf);
    let cfg = Config::new().with_fragment_size(512).with_retries(2, 10).with_io_timeout(100);
    let mut d = Download::start_with(cfg, "http://h/x", 0, Instant::from_millis(0)).unwrap();
    let mut now = 0u64;
    let mut next = 0usize;
    let mut pending: Vec<Vec<u8>> = Vec::new();
    for _ in 0..10_000 {
        let mut connect = false;
        while let Some(a) = d.poll_action() {
            match a {
                Action::Connect { .. } => connect = true,
                Action::Send(_) => {
                    if let Some(r) = responses.get(next) {
                        pending = random_chunks(rng, r).into_iter().map(<[u8]>::to_vec).collect();
                        pending.reverse();
                    }
                    next += 1;
                }
                Action::Close => pending.clear(),
            }
        }
        if d.status() != Status::Running {
            return (d.status(), d.offset());
        }
        let t = Instant::from_millis(now);
        if connect {
            d.connected(t);
        } else if let Some(c) = pending.pop() {
            d.received(t, &c, &mut sink);
        } else {
            now = d.poll_at().expect("a running download always has a deadline").as_millis();
            d.poll(Instant::from_millis(now));
        }
    }
    panic!("download machine did not terminate");
}

#[test]
fn download_machine_survives_hostile_servers() {
    let mut rng = Rng(42);
    let mut img: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
    let t = seal(&img);
    img.extend_from_slice(&t);
    let good: Vec<Vec<u8>> = (0..3)
        .map(|k| {
            let first = k * 512;
            let last = (first + 511).min(img.len() - 1);
            let mut r = format!(
                "HTTP/1.1 206 P\r\nContent-Length: {}\r\nContent-Range: bytes {first}-{last}/{}\r\n\r\n",
                last - first + 1,
                img.len()
            )
            .into_bytes();
            r.extend_from_slice(&img[first..=last]);
            r
        })
        .collect();
    assert_eq!(run_download(&good, &mut rng).0, Status::Done { total: img.len() as u32 });
    let mut done = 0;
    for _ in 0..20_000 {
        let mut script = good.clone();
        let k = rng.below(script.len());
        script[k] = mutate(&mut rng, &script[k]);
        let (status, offset) = run_download(&script, &mut rng);
        assert!(offset as usize <= img.len());
        if let Status::Done { total } = status {
            assert_eq!(total as usize, img.len());
            done += 1;
        }
    }
    println!("{done} of 20000 mutated scripts still downloaded the image");
}

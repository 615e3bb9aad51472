//! CoRE link format: RFC 6690 examples, LwM2M Register/Discover payloads, malformed input.

use lwm2m_formats::link::{Link, LinkError, LinkErrorKind, Parser, Writer};
use lwm2m_formats::{CountSink, Overflow, Path, Sink, SliceSink};

type Attrs<'a> = Vec<(&'a str, Option<&'a str>)>;

fn parse(s: &str) -> Vec<(&str, Attrs<'_>)> {
    Parser::new(s.as_bytes())
        .map(|l| {
            let l: Link<'_> = l.unwrap();
            (l.target, l.attrs().collect())
        })
        .collect()
}

fn err(s: &str) -> LinkError {
    let items: Vec<_> = Parser::new(s.as_bytes()).collect();
    // The error, if any, is the last item (the parser is fused).
    let last = *items.last().expect("at least one item");
    assert!(items[..items.len() - 1].iter().all(Result::is_ok));
    last.unwrap_err()
}

#[test]
fn rfc6690_examples() {
    let l = parse(
        r#"</sensors/temp>;rt="temperature-c";if="sensor",</sensors/light>;rt="light-lux";if="sensor""#,
    );
    assert_eq!(
        l,
        [
            ("/sensors/temp", vec![("rt", Some("temperature-c")), ("if", Some("sensor"))]),
            ("/sensors/light", vec![("rt", Some("light-lux")), ("if", Some("sensor"))]),
        ]
    );
    // RFC 6690 §5, third example (list of links, anchors, absolute URIs).
    let doc = concat!(
        r#"</sensors>;ct=40;title="Sensor Index","#,
        r#"</sensors/temp>;rt="temperature-c";if="sensor","#,
        r#"</sensors/light>;rt="light-lux";if="sensor","#,
        r#"<http://www.example.com/sensors/t123>;anchor="/sensors/temp";rel="describedby","#,
        r#"</t>;anchor="/sensors/temp";rel="alternate""#
    );
    let l = parse(doc);
    assert_eq!(l.len(), 5);
    assert_eq!(l[0], ("/sensors", vec![("ct", Some("40")), ("title", Some("Sensor Index"))]));
    assert_eq!(l[3].0, "http://www.example.com/sensors/t123");
    assert_eq!(l[3].1, [("anchor", Some("/sensors/temp")), ("rel", Some("describedby"))]);
    // RFC 6690 §5, fourth example.
    let l = parse(r#"</firmware/v2.1>;rt="firmware";sz=262144"#);
    assert_eq!(l, [("/firmware/v2.1", vec![("rt", Some("firmware")), ("sz", Some("262144"))])]);
}

#[test]
fn quoted_values_with_separators_and_escapes() {
    let l = parse(r#"</a>;title="x, y; z",</b>;obs;t="say \"hi\"",<c>"#);
    assert_eq!(l[0], ("/a", vec![("title", Some("x, y; z"))]));
    assert_eq!(l[1], ("/b", vec![("obs", None), ("t", Some(r#"say \"hi\""#))]));
    assert_eq!(l[2], ("c", vec![]));
    let p = Parser::new(br#"</b>;obs;t="v";ct=40"#).next().unwrap().unwrap();
    assert_eq!(p.attr("obs"), Some(None));
    assert_eq!(p.attr("ct"), Some(Some("40")));
    assert_eq!(p.attr("rt"), None);
    assert_eq!(p.params, r#";obs;t="v";ct=40"#);
    // Non-ASCII inside quotes is fine when UTF-8.
    assert_eq!(parse("</a>;title=\"Grüße\"")[0].1, [("title", Some("Grüße"))]);
}

#[test]
fn lwm2m_register_payloads_parse() {
    let l = parse(r#"</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>,</5/0>"#);
    assert_eq!(l[0], ("/", vec![("rt", Some("oma.lwm2m")), ("ct", Some("11543"))]));
    let targets: Vec<_> = l.iter().map(|x| x.0).collect();
    assert_eq!(targets, ["/", "/1/0", "/3/0", "/5/0"]);
    let l = parse("</3/0>,</3/0/1>,</3/0/6>;dim=2,</3/0/9>;pmin=10;gt=50");
    assert_eq!(l[2].1, [("dim", Some("2"))]);
    assert_eq!(l[3].1, [("pmin", Some("10")), ("gt", Some("50"))]);
    // Whitespace after commas is tolerated.
    assert_eq!(parse("</1/0>, </3/0>,\r\n\t</5/0>").len(), 3);
}

fn written(f: impl FnOnce(&mut Writer<'_, SliceSink<'_>>) -> Result<(), Overflow>) -> String {
    let mut buf = [0u8; 256];
    let mut s = SliceSink::new(&mut buf);
    f(&mut Writer::new(&mut s)).unwrap();
    String::from_utf8(s.written().to_vec()).unwrap()
}

#[test]
fn writer_register_and_discover() {
    let reg = written(|w| {
        w.link_str("/")?;
        w.attr_str("rt", "oma.lwm2m")?;
        w.attr_uint("ct", 11543)?;
        for p in [Path::instance(1, 0), Path::instance(3, 0), Path::instance(5, 0)] {
            w.link(&p)?;
        }
        Ok(())
    });
    assert_eq!(reg, r#"</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>,</5/0>"#);
    let plain = written(|w| {
        w.link(&Path::object(1))?;
        w.attr_raw("ver", "1.0")?;
        w.link(&Path::instance(3, 0))
    });
    assert_eq!(plain, "</1>;ver=1.0,</3/0>");
    let disc = written(|w| {
        w.link(&Path::instance(3, 0))?;
        w.link(&Path::resource(3, 0, 1))?;
        w.link(&Path::resource(3, 0, 6))?;
        w.attr_uint("dim", 2)?;
        w.link(&Path::resource(3, 0, 9))?;
        w.attr_uint("pmin", 10)?;
        w.attr_float("gt", 50.0)?;
        w.attr_float("lt", -2.5)?;
        w.attr_int("x", -3)?;
        w.attr("obs")
    });
    assert_eq!(disc, "</3/0>,</3/0/1>,</3/0/6>;dim=2,</3/0/9>;pmin=10;gt=50;lt=-2.5;x=-3;obs");
    assert_eq!(written(|w| w.link(&Path::ROOT)), "</>");
    // Continuing writer starts with a comma.
    let mut buf = [0u8; 32];
    let mut s = SliceSink::new(&mut buf);
    s.put(b"</1/0>").unwrap();
    Writer::continuing(&mut s).link(&Path::instance(3, 0)).unwrap();
    assert_eq!(s.written(), b"</1/0>,</3/0>");
}

#[test]
fn writer_output_parses_back() {
    let doc = written(|w| {
        w.link(&Path::resource(3, 0, 1))?;
        w.attr_str("title", r#"a "quoted", \ thing; ok"#)?;
        w.attr_float("st", 0.5)?;
        w.link(&Path::ROOT)
    });
    let l = parse(&doc);
    assert_eq!(l[0].0, "/3/0/1");
    assert_eq!(l[0].1[0], ("title", Some(r#"a \"quoted\", \\ thing; ok"#)));
    assert_eq!(l[0].1[1], ("st", Some("0.5")));
    assert_eq!(l[1], ("/", vec![]));
}

#[test]
fn writer_overflow() {
    let mut c = CountSink::new();
    let mut w = Writer::new(&mut c);
    w.link(&Path::resource(3, 0, 1)).unwrap();
    w.attr_uint("pmin", 10).unwrap();
    let n = c.len();
    for size in 0..n {
        let mut buf = vec![0u8; size];
        let mut s = SliceSink::new(&mut buf);
        let mut w = Writer::new(&mut s);
        let r = w.link(&Path::resource(3, 0, 1)).and_then(|_| w.attr_uint("pmin", 10));
        assert_eq!(r, Err(Overflow));
    }
}

#[test]
fn malformed_input() {
    use LinkErrorKind::*;
    assert_eq!(Parser::new(b"").count(), 0);
    for (doc, kind, at) in [
        (",", ExpectedLink, 0),
        ("</a>,", ExpectedLink, 5),
        ("</a>,,</b>", ExpectedLink, 5),
        ("/a", ExpectedLink, 0),
        (" </a>", ExpectedLink, 0),
        ("</a", BadTarget, 3),
        ("</a b>", BadTarget, 3),
        ("</a<b>", BadTarget, 3),
        ("</a>;", BadParam, 5),
        ("</a>;=1", BadParam, 5),
        ("</a>;x=", BadParam, 7),
        ("</a>;x=;y", BadParam, 7),
        ("</a>;x=a,b", ExpectedLink, 9),
        ("</a>;x=a b", ExpectedSeparator, 8),
        ("</a>x", ExpectedSeparator, 4),
        ("</a> ,</b>", ExpectedSeparator, 4),
        ("</a>;t=\"abc", UnterminatedQuote, 7),
        ("</a>;t=\"abc\\\"", UnterminatedQuote, 7),
        ("</a>;t=\"a\"b", ExpectedSeparator, 10),
        ("</a>;t=\"a\nb\"", BadParam, 7),
    ] {
        assert_eq!(err(doc), LinkError { at, kind }, "{doc:?}");
    }
    // Invalid UTF-8 inside quotes.
    assert_eq!(err("</a>;t=\"\u{1}\"").kind, BadParam);
    let bad = b"</a>;t=\"\xFF\"";
    assert_eq!(Parser::new(bad).next().unwrap().unwrap_err().kind, BadUtf8);
    // Fused after an error.
    let mut p = Parser::new(b"</a>,x,</b>");
    assert!(p.next().unwrap().is_ok());
    assert!(p.next().unwrap().is_err());
    assert!(p.next().is_none());
    assert!(p.next().is_none());
    // Display mentions the offset.
    assert_eq!(err("</a>x").to_string(), "expected ';' or ',' at byte 4");
}

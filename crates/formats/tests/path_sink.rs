//! Paths and sinks.

use lwm2m_formats::{tlv, CountSink, Overflow, Path, PathError, Sink, SliceSink, WindowSink};

#[test]
fn path_constructors_getters_display() {
    let p = Path::resource_instance(3, 0, 6, 1);
    assert_eq!(p.ids(), &[3, 0, 6, 1]);
    assert_eq!(
        (p.object_id(), p.instance_id(), p.resource_id(), p.resource_instance_id()),
        (Some(3), Some(0), Some(6), Some(1))
    );
    assert_eq!(Path::object(5).instance_id(), None);
    assert_eq!(Path::ROOT.object_id(), None);
    assert_eq!(p.to_string(), "/3/0/6/1");
    assert_eq!(Path::ROOT.to_string(), "/");
    assert_eq!(Path::instance(1, 0).to_string(), "/1/0");
    assert_eq!(format!("{:?}", Path::resource(3, 0, 1)), "Path(/3/0/1)");
    assert_eq!(Path::ROOT.len(), 0);
    assert!(Path::ROOT.is_root());
    assert_eq!(p.len(), 4);
}

#[test]
fn path_from_str() {
    assert_eq!(Path::from_str("/3/0/1"), Ok(Path::resource(3, 0, 1)));
    assert_eq!(Path::from_str("3/0"), Ok(Path::instance(3, 0)));
    assert_eq!(Path::from_str("/"), Ok(Path::ROOT));
    assert_eq!(Path::from_str(""), Ok(Path::ROOT));
    assert_eq!(Path::from_str("/65534"), Ok(Path::object(65534)));
    assert_eq!("/3/0".parse::<Path>(), Ok(Path::instance(3, 0)));
    assert_eq!(Path::from_str("/65535"), Err(PathError::OutOfRange));
    assert_eq!(Path::from_str("/99999999999"), Err(PathError::OutOfRange));
    assert_eq!(Path::from_str("/3/"), Err(PathError::EmptySegment));
    assert_eq!(Path::from_str("//"), Err(PathError::EmptySegment));
    assert_eq!(Path::from_str("/3//1"), Err(PathError::EmptySegment));
    assert_eq!(Path::from_str("/3/a"), Err(PathError::NotANumber));
    assert_eq!(Path::from_str("/+3"), Err(PathError::NotANumber));
    assert_eq!(Path::from_str("/-3"), Err(PathError::NotANumber));
    assert_eq!(Path::from_str("/1/2/3/4/5"), Err(PathError::TooLong));
    assert_eq!(Path::from_str("/007"), Ok(Path::object(7)));
}

#[test]
fn path_from_uri_path() {
    let seg = |v: &[&'static str]| Path::from_uri_path(v.iter().map(|s| s.as_bytes()));
    assert_eq!(seg(&[]), Ok(Path::ROOT));
    assert_eq!(seg(&[""]), Ok(Path::ROOT));
    assert_eq!(seg(&["3", "0", "1"]), Ok(Path::resource(3, 0, 1)));
    assert_eq!(seg(&["3", ""]), Err(PathError::EmptySegment));
    assert_eq!(seg(&["", ""]), Err(PathError::EmptySegment));
    assert_eq!(seg(&["", "3"]), Err(PathError::EmptySegment));
    assert_eq!(seg(&["rd"]), Err(PathError::NotANumber));
    assert_eq!(seg(&["1", "2", "3", "4", "5"]), Err(PathError::TooLong));
    assert_eq!(seg(&["65535"]), Err(PathError::OutOfRange));
}

#[test]
fn path_relations_and_order() {
    let r = Path::resource(3, 0, 1);
    assert!(r.starts_with(&Path::ROOT));
    assert!(r.starts_with(&Path::object(3)));
    assert!(r.starts_with(&Path::instance(3, 0)));
    assert!(r.starts_with(&r));
    assert!(!r.starts_with(&Path::instance(3, 1)));
    assert!(!Path::object(3).starts_with(&r));
    assert_eq!(r.parent(), Some(Path::instance(3, 0)));
    assert_eq!(Path::object(3).parent(), Some(Path::ROOT));
    assert_eq!(Path::ROOT.parent(), None);
    // parent() gives a path equal to the directly built one (unused ids are cleared).
    assert_eq!(Path::resource_instance(1, 2, 3, 4).parent().unwrap(), Path::resource(1, 2, 3));
    let mut v = vec![Path::instance(3, 1), Path::resource(3, 0, 5), Path::object(3), Path::ROOT];
    v.push(Path::instance(3, 0));
    v.sort();
    assert_eq!(
        v,
        [
            Path::ROOT,
            Path::object(3),
            Path::instance(3, 0),
            Path::resource(3, 0, 5),
            Path::instance(3, 1)
        ]
    );
    assert_eq!(Path::from_ids(&[1, 2]), Ok(Path::instance(1, 2)));
    assert_eq!(Path::instance(1, 2).child(3), Ok(Path::resource(1, 2, 3)));
    assert_eq!(Path::resource_instance(1, 2, 3, 4).child(3), Err(PathError::TooLong));
}

#[test]
fn slice_and_count_sinks() {
    let mut buf = [0u8; 5];
    let mut s = SliceSink::new(&mut buf);
    assert!(s.is_empty());
    s.put(b"abc").unwrap();
    assert_eq!(s.put(b"def"), Err(Overflow));
    assert_eq!(s.written(), b"abc");
    s.put(b"de").unwrap();
    assert_eq!(s.written(), b"abcde");
    assert_eq!(s.put(b"x"), Err(Overflow));
    s.put(b"").unwrap();
    assert_eq!(s.len(), 5);
    let mut c = CountSink::new();
    c.put(b"abc").unwrap();
    c.put(&[0; 1000]).unwrap();
    assert_eq!(c.len(), 1003);
    // Through &mut.
    let r = &mut c;
    Sink::put(&mut &mut *r, b"x").unwrap();
    assert_eq!(c.len(), 1004);
}

fn render<S: Sink>(s: &mut S) -> Result<(), Overflow> {
    for i in 0..40u16 {
        tlv::write_int(s, tlv::Kind::Resource, i * 7, i64::from(i) * 1000 - 5000)?;
        s.put(b"")?;
        tlv::write_str(s, tlv::Kind::Resource, 300 + i, &"xyz".repeat(usize::from(i)))?;
    }
    Ok(())
}

#[test]
fn window_sink_every_size_and_offset() {
    let mut c = CountSink::new();
    render(&mut c).unwrap();
    let total = c.len();
    let mut full = vec![0u8; total];
    let mut s = SliceSink::new(&mut full);
    render(&mut s).unwrap();
    for size in 1..=total + 3 {
        let mut joined = Vec::new();
        let mut skip = 0;
        loop {
            let mut out = vec![0xEEu8; size];
            let mut w = WindowSink::new(&mut out, skip);
            render(&mut w).unwrap();
            assert_eq!(w.len(), total);
            let n = w.copied();
            assert_eq!(n, size.min(total.saturating_sub(skip)));
            assert_eq!(w.window().len(), n);
            joined.extend_from_slice(&out[..n]);
            skip += size;
            if skip >= total {
                break;
            }
        }
        assert_eq!(joined, full, "window size {size}");
    }
    // Window entirely past the end, and an empty window.
    let mut out = [0u8; 4];
    let mut w = WindowSink::new(&mut out, total + 10);
    render(&mut w).unwrap();
    assert_eq!((w.copied(), w.len()), (0, total));
    let mut w = WindowSink::new(&mut [], 3);
    render(&mut w).unwrap();
    assert_eq!((w.copied(), w.len()), (0, total));
}

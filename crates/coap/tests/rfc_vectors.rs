//! Byte vectors from RFC 7252, RFC 7959 and RFC 7641, decoded and re-encoded.

use lwm2m_coap::{
    opt, Block, BuildError, CoapOption, Code, Message, MessageBuilder, MsgType, ParseError, Token,
};

fn build(
    mtype: MsgType,
    code: Code,
    mid: u16,
    token: &[u8],
    opts: &[(u16, &[u8])],
    payload: &[u8],
) -> Vec<u8> {
    let mut buf = [0u8; 2048];
    let tok = Token::from_slice(token).unwrap();
    let mut b = MessageBuilder::new(&mut buf, mtype, code, mid, &tok).unwrap();
    for (n, v) in opts {
        b.option(*n, v).unwrap();
    }
    let n = b.finish_with(payload).unwrap();
    buf[..n].to_vec()
}

// RFC 7252 Appendix A, Figure 16: "GET /temperature", CON, MID 0x7d34, no token.
const GET_TEMPERATURE: &[u8] = b"\x40\x01\x7d\x34\xbbtemperature";
// ... and its piggybacked response: ACK 2.05 Content, payload "22.3 C".
const CONTENT_22_3: &[u8] = b"\x60\x45\x7d\x34\xff22.3 C";

#[test]
fn rfc7252_appendix_a_con_get_uri_path() {
    let m = Message::parse(GET_TEMPERATURE).unwrap();
    assert_eq!(m.mtype, MsgType::Con);
    assert_eq!(m.code, Code::GET);
    assert_eq!(m.mid, 0x7d34);
    assert!(m.token.is_empty());
    assert!(m.payload.is_empty());
    assert_eq!(m.uri_path().collect::<Vec<_>>(), vec![&b"temperature"[..]]);
    assert_eq!(
        m.options().collect::<Vec<_>>(),
        vec![CoapOption { number: opt::URI_PATH, value: b"temperature" }]
    );
    let enc = build(MsgType::Con, Code::GET, 0x7d34, &[], &[(opt::URI_PATH, b"temperature")], &[]);
    assert_eq!(enc, GET_TEMPERATURE);
}

#[test]
fn rfc7252_appendix_a_piggybacked_ack_content() {
    let m = Message::parse(CONTENT_22_3).unwrap();
    assert_eq!(m.mtype, MsgType::Ack);
    assert_eq!(m.code, Code::CONTENT);
    assert_eq!(m.code.to_string(), "2.05");
    assert_eq!(m.payload, b"22.3 C");
    assert_eq!(m.options().count(), 0);
    let enc = build(MsgType::Ack, Code::CONTENT, 0x7d34, &[], &[], b"22.3 C");
    assert_eq!(enc, CONTENT_22_3);
}

// RFC 7252 §3 header: Ver=1 | T | TKL, Code, Message ID; §4.1 empty message is 4 bytes.
#[test]
fn rfc7252_s3_header_layout_with_token() {
    let bytes = [0x52, 0x45, 0x12, 0x34, 0xAB, 0xCD];
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.mtype, MsgType::Non);
    assert_eq!(m.code, Code::new(2, 5));
    assert_eq!(m.mid, 0x1234);
    assert_eq!(m.token.as_slice(), &[0xAB, 0xCD]);
    let enc = build(MsgType::Non, Code::CONTENT, 0x1234, &[0xAB, 0xCD], &[], &[]);
    assert_eq!(enc, bytes);
}

#[test]
fn rfc7252_s4_1_empty_ack_rst_and_ping() {
    for (bytes, t) in [
        ([0x60, 0x00, 0xBE, 0xEF], MsgType::Ack),
        ([0x70, 0x00, 0xBE, 0xEF], MsgType::Rst),
        ([0x40, 0x00, 0xBE, 0xEF], MsgType::Con), // CoAP ping (§4.3)
    ] {
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.mtype, t);
        assert!(m.code.is_empty());
        assert_eq!(m.mid, 0xBEEF);
        assert_eq!(build(t, Code::EMPTY, 0xBEEF, &[], &[], &[]), bytes);
    }
}

#[test]
fn rfc7252_s4_1_empty_message_with_content_is_error() {
    // TKL != 0
    assert_eq!(Message::parse(&[0x61, 0x00, 0, 1, 7]), Err(ParseError::BadEmptyMessage));
    // bytes after the message id
    assert_eq!(Message::parse(&[0x60, 0x00, 0, 1, 0xFF, 1]), Err(ParseError::BadEmptyMessage));
    assert_eq!(Message::parse(&[0x60, 0x00, 0, 1, 0xB1, b'a']), Err(ParseError::BadEmptyMessage));
    // and the builder refuses to produce them
    let mut buf = [0u8; 32];
    let t = Token::from_slice(&[1]).unwrap();
    assert_eq!(
        MessageBuilder::new(&mut buf, MsgType::Ack, Code::EMPTY, 1, &t).err(),
        Some(BuildError::EmptyMessage)
    );
    let mut b = MessageBuilder::new(&mut buf, MsgType::Ack, Code::EMPTY, 1, &Token::EMPTY).unwrap();
    assert_eq!(b.option(11, b"x"), Err(BuildError::EmptyMessage));
    assert_eq!(b.finish_with(b"x"), Err(BuildError::EmptyMessage));
}

#[test]
fn rfc7252_s3_header_errors() {
    assert_eq!(Message::parse(&[]), Err(ParseError::TooShort));
    assert_eq!(Message::parse(&[0x40, 1, 0]), Err(ParseError::TooShort));
    // version 0, 2, 3
    for v in [0x00, 0x80, 0xC0] {
        assert_eq!(Message::parse(&[v, 1, 0, 0]), Err(ParseError::BadVersion));
    }
    // TKL 9..=15 is a format error (§3)
    for tkl in 9..=15u8 {
        let mut m = vec![0x40 | tkl, 1, 0, 0];
        m.extend_from_slice(&[0; 15]);
        assert_eq!(Message::parse(&m), Err(ParseError::BadTokenLength));
    }
    // token longer than the datagram
    assert_eq!(Message::parse(&[0x44, 1, 0, 0, 1, 2]), Err(ParseError::Truncated));
    // reserved classes 1, 6, 7 (§12.1)
    for class in [1u8, 6, 7] {
        assert_eq!(
            Message::parse(&[0x40, Code::new(class, 1).0, 0, 0]),
            Err(ParseError::ReservedCode)
        );
    }
}

#[test]
fn rfc7252_s3_payload_marker_without_payload_is_error() {
    assert_eq!(Message::parse(&[0x40, 0x01, 0, 1, 0xFF]), Err(ParseError::EmptyPayload));
    assert_eq!(Message::parse(b"\x40\x01\x00\x01\xb1a\xff"), Err(ParseError::EmptyPayload));
}

// §3.1: delta nibble 13 = 8-bit extended (minus 13), 14 = 16-bit extended (minus 269).
#[test]
fn rfc7252_s3_1_option_delta_and_length_extended_forms() {
    let long = [0x5Au8; 300];
    let mid13 = [0xA5u8; 20];
    let opts: &[(u16, &[u8])] = &[
        (opt::URI_PATH, b"a"),  // delta 11, len 1: 0xB1
        (opt::BLOCK2, &[0x0B]), // delta 12: 0xC1
        (opt::SIZE2, &mid13),   // delta 5, len 20 -> 13 form: 0x5D 0x07
        (opt::SIZE1, &[]),      // delta 32 -> 13 form: 0xD0 0x13
        (1000, &long),          // delta 940 -> 14 form, len 300 -> 14 form
        (1000, b""),            // repeated, delta 0
    ];
    let enc = build(MsgType::Con, Code::POST, 2, &[], opts, b"p");
    let mut exp = vec![0x40, 0x02, 0x00, 0x02];
    exp.extend_from_slice(&[0xB1, b'a']);
    exp.extend_from_slice(&[0xC1, 0x0B]);
    exp.extend_from_slice(&[0x5D, 20 - 13]);
    exp.extend_from_slice(&mid13);
    exp.extend_from_slice(&[0xD0, 32 - 13]);
    let d = (940u16 - 269).to_be_bytes();
    let l = (300u16 - 269).to_be_bytes();
    exp.extend_from_slice(&[0xEE, d[0], d[1], l[0], l[1]]);
    exp.extend_from_slice(&long);
    exp.push(0x00);
    exp.extend_from_slice(&[0xFF, b'p']);
    assert_eq!(enc, exp);

    let m = Message::parse(&exp).unwrap();
    let got: Vec<_> = m.options().map(|o| (o.number, o.value)).collect();
    assert_eq!(got, opts.to_vec());
    assert_eq!(m.payload, b"p");
    assert_eq!(m.options_with(1000).count(), 2);
    assert_eq!(m.option(opt::SIZE1), Some(&[][..]));
    assert_eq!(m.option(opt::URI_QUERY), None);
}

#[test]
fn rfc7252_s3_1_option_boundaries() {
    // Deltas/lengths 12, 13, 268, 269 and the largest 16-bit forms round-trip.
    for &n in &[12u16, 13, 268, 269, 270, 65535] {
        let enc = build(MsgType::Con, Code::GET, 0, &[], &[(n, b"")], &[]);
        let m = Message::parse(&enc).unwrap();
        assert_eq!(m.options().next().unwrap().number, n);
    }
    for &len in &[12usize, 13, 268, 269, 270, 1500] {
        let v = vec![7u8; len];
        let enc = build(MsgType::Con, Code::GET, 0, &[], &[(4, &v)], &[]);
        let m = Message::parse(&enc).unwrap();
        assert_eq!(m.option(4).unwrap().len(), len);
    }
}

#[test]
fn rfc7252_s3_1_option_errors() {
    let h = [0x40u8, 0x01, 0, 0];
    let cases: &[(&[u8], ParseError)] = &[
        (&[0xF1, 0], ParseError::ReservedNibble), // delta 15, not the marker
        (&[0x1F, 0], ParseError::ReservedNibble), // length 15
        (&[0xD1], ParseError::Truncated),         // missing 8-bit delta
        (&[0xE1, 0], ParseError::Truncated),      // missing half of 16-bit delta
        (&[0x1D], ParseError::Truncated),         // missing 8-bit length
        (&[0x1E, 0], ParseError::Truncated),      // missing half of 16-bit length
        (&[0x13, 1, 2], ParseError::Truncated),   // value runs past the end
        (&[0xE0, 0xFF, 0xFF], ParseError::OptionNumberOverflow), // 65535 + 269
        (&[0xE0, 0xFE, 0xF2, 0x10], ParseError::OptionNumberOverflow), // 65535, then +1
    ];
    for (opts, err) in cases {
        let mut m = h.to_vec();
        m.extend_from_slice(opts);
        assert_eq!(Message::parse(&m), Err(*err), "{opts:02x?}");
    }
}

#[test]
fn rfc7252_s3_2_uint_options() {
    let enc = |v: u32| {
        let mut buf = [0u8; 16];
        let mut b =
            MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 0, &Token::EMPTY).unwrap();
        b.option_uint(opt::MAX_AGE, v).unwrap();
        let n = b.finish(0).unwrap();
        buf[..n].to_vec()
    };
    // Max-Age (14): delta 14 -> 13 form with extended byte 1; value 0 -> zero-length.
    assert_eq!(enc(0), [0x40, 1, 0, 0, 0xD0, 1]);
    assert_eq!(enc(255)[4..], [0xD1, 1, 0xFF]);
    assert_eq!(enc(256)[4..], [0xD2, 1, 1, 0]);
    assert_eq!(enc(0x10000)[4..], [0xD3, 1, 1, 0, 0]);
    assert_eq!(enc(u32::MAX)[4..], [0xD4, 1, 0xFF, 0xFF, 0xFF, 0xFF]);
    for v in [0, 1, 255, 256, 65535, 0x123456, u32::MAX] {
        let bytes = enc(v);
        assert_eq!(Message::parse(&bytes).unwrap().uint_option(opt::MAX_AGE), Ok(Some(v)));
    }
    // more than 4 bytes is malformed for a uint option
    let m = build(MsgType::Con, Code::GET, 0, &[], &[(opt::MAX_AGE, &[0, 0, 0, 0, 1])], &[]);
    let m = Message::parse(&m).unwrap();
    assert_eq!(m.uint_option(opt::MAX_AGE), Err(ParseError::BadOptionValue));
    assert_eq!(m.uint_option(opt::ETAG), Ok(None));
}

#[test]
fn rfc7252_s5_10_content_format_and_accept() {
    let m = build(
        MsgType::Con,
        Code::GET,
        0,
        &[],
        &[(opt::CONTENT_FORMAT, &[0x2D, 0x16]), (opt::ACCEPT, &[40])],
        &[],
    );
    let m = Message::parse(&m).unwrap();
    assert_eq!(m.content_format(), Ok(Some(lwm2m_coap::content_format::LWM2M_TLV)));
    assert_eq!(m.accept(), Ok(Some(lwm2m_coap::content_format::LINK_FORMAT)));
    let m = build(MsgType::Con, Code::GET, 0, &[], &[(opt::CONTENT_FORMAT, &[1, 0, 0])], &[]);
    assert_eq!(Message::parse(&m).unwrap().content_format(), Err(ParseError::BadOptionValue));
}

#[test]
fn rfc7252_s5_4_1_critical_options() {
    assert!(opt::is_critical(opt::URI_PATH));
    assert!(opt::is_critical(opt::BLOCK1));
    assert!(opt::is_critical(opt::IF_MATCH));
    assert!(!opt::is_critical(opt::CONTENT_FORMAT));
    assert!(!opt::is_critical(opt::OBSERVE));
    let m = build(
        MsgType::Con,
        Code::GET,
        0,
        &[],
        &[(opt::OBSERVE, &[]), (opt::URI_PATH, b"3"), (opt::PROXY_URI, b"x")],
        &[],
    );
    let m = Message::parse(&m).unwrap();
    assert_eq!(m.unknown_critical_option(&[opt::URI_PATH]), Some(opt::PROXY_URI));
    assert_eq!(m.unknown_critical_option(&[opt::URI_PATH, opt::PROXY_URI]), None);
}

#[test]
fn rfc7252_s12_1_code_registry() {
    let table = [
        (Code::GET, 0x01, "0.01"),
        (Code::POST, 0x02, "0.02"),
        (Code::PUT, 0x03, "0.03"),
        (Code::DELETE, 0x04, "0.04"),
        (Code::CREATED, 0x41, "2.01"),
        (Code::DELETED, 0x42, "2.02"),
        (Code::VALID, 0x43, "2.03"),
        (Code::CHANGED, 0x44, "2.04"),
        (Code::CONTENT, 0x45, "2.05"),
        (Code::CONTINUE, 0x5F, "2.31"),
        (Code::BAD_REQUEST, 0x80, "4.00"),
        (Code::UNAUTHORIZED, 0x81, "4.01"),
        (Code::BAD_OPTION, 0x82, "4.02"),
        (Code::FORBIDDEN, 0x83, "4.03"),
        (Code::NOT_FOUND, 0x84, "4.04"),
        (Code::METHOD_NOT_ALLOWED, 0x85, "4.05"),
        (Code::NOT_ACCEPTABLE, 0x86, "4.06"),
        (Code::REQUEST_ENTITY_INCOMPLETE, 0x88, "4.08"),
        (Code::PRECONDITION_FAILED, 0x8C, "4.12"),
        (Code::REQUEST_ENTITY_TOO_LARGE, 0x8D, "4.13"),
        (Code::UNSUPPORTED_CONTENT_FORMAT, 0x8F, "4.15"),
        (Code::INTERNAL_SERVER_ERROR, 0xA0, "5.00"),
        (Code::NOT_IMPLEMENTED, 0xA1, "5.01"),
        (Code::SERVICE_UNAVAILABLE, 0xA3, "5.03"),
    ];
    for (c, raw, s) in table {
        assert_eq!(c.0, raw);
        assert_eq!(c.to_string(), s);
        assert_eq!(Code::new(c.class(), c.detail()), c);
    }
    assert!(Code::GET.is_request() && !Code::GET.is_response());
    assert!(Code::CONTENT.is_response() && Code::CONTENT.is_success());
    assert!(Code::NOT_FOUND.is_response() && !Code::NOT_FOUND.is_success());
    assert!(Code::EMPTY.is_empty() && !Code::EMPTY.is_request());
    assert_eq!(format!("{:?}", Code::CONTENT), "Code(2.05)");
}

#[test]
fn token_helpers() {
    assert_eq!(Token::EMPTY.as_slice(), &[] as &[u8]);
    assert!(Token::from_slice(&[0; 9]).is_none());
    assert_eq!(Token::from_u64(0x0102_0304_0506_0708, 3).as_slice(), &[6, 7, 8]);
    assert_eq!(Token::from_u64(0x0102_0304_0506_0708, 8).as_slice(), &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(Token::from_u64(5, 12).len(), 8);
    assert_eq!(Token::from_slice(&[1, 2]), Some(Token::from_u64(0x0102, 2)));
}

// RFC 7959 §2.2: Block value = NUM (4, 12 or 20 bits) | M (1 bit) | SZX (3 bits), size 2^(SZX+4).
#[test]
fn rfc7959_s2_2_block_values() {
    // §3.1 Figure 2: Block2 0/1/128, 1/1/128, 2/0/128.
    for (v, num, more, size) in [
        (0x0Bu32, 0u32, true, 128usize),
        (0x1B, 1, true, 128),
        (0x23, 2, false, 128),
        (0x00, 0, false, 16),
        (0x06, 0, false, 1024),
        (0x0106, 16, false, 1024),
        (0xFF_FFFE, 0xF_FFFF, true, 1024),
    ] {
        let b = Block::from_uint(v).unwrap();
        assert_eq!((b.num, b.more, b.size()), (num, more, size), "{v:#x}");
        assert_eq!(b.to_uint(), v);
        assert_eq!(b.offset(), num as usize * size);
        assert_eq!(Block::new(num, more, b.szx), Some(b));
    }
    // SZX 7 is reserved (BERT over TCP only) and values above 3 bytes are invalid.
    assert_eq!(Block::from_uint(0x07), Err(ParseError::BadOptionValue));
    assert_eq!(Block::from_uint(0x1F), Err(ParseError::BadOptionValue));
    assert_eq!(Block::from_uint(0x100_0000), Err(ParseError::BadOptionValue));
    assert_eq!(Block::new(0, false, 7), None);
    assert_eq!(Block::new(1 << 20, false, 0), None);
    assert_eq!(Block::szx_for_size(16), Some(0));
    assert_eq!(Block::szx_for_size(1024), Some(6));
    assert_eq!(Block::szx_for_size(2048), None);
    assert_eq!(Block::szx_for_size(100), None);
}

#[test]
fn rfc7959_s2_2_block_options_on_the_wire() {
    // Block2 0/0/64 (0x02, 1 byte), Block1 16/1/1024 (0x010E, 2 bytes), NUM 0 M 0 SZX 0 = empty.
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::PUT, 9, &Token::EMPTY).unwrap();
    b.option_uint(opt::BLOCK2, Block::new(0, false, 2).unwrap().to_uint()).unwrap();
    b.option_uint(opt::BLOCK1, Block::new(16, true, 6).unwrap().to_uint()).unwrap();
    let n = b.finish(0).unwrap();
    assert_eq!(&buf[4..n], &[0xD1, 23 - 13, 0x02, 0x42, 0x01, 0x0E]);
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(m.block2(), Ok(Some(Block { num: 0, more: false, szx: 2 })));
    assert_eq!(m.block1(), Ok(Some(Block { num: 16, more: true, szx: 6 })));

    let m = build(MsgType::Con, Code::GET, 0, &[], &[(opt::BLOCK2, &[])], &[]);
    assert_eq!(
        Message::parse(&m).unwrap().block2(),
        Ok(Some(Block { num: 0, more: false, szx: 0 }))
    );
    let m = build(MsgType::Con, Code::GET, 0, &[], &[(opt::BLOCK2, &[0x17])], &[]);
    assert_eq!(Message::parse(&m).unwrap().block2(), Err(ParseError::BadOptionValue));
    let m = build(MsgType::Con, Code::GET, 0, &[], &[(opt::BLOCK1, &[0, 0, 0, 1])], &[]);
    assert_eq!(Message::parse(&m).unwrap().block1(), Err(ParseError::BadOptionValue));
}

// RFC 7641 §2: Observe is a 0-3 byte uint; in a GET 0 = register, 1 = deregister;
// in notifications a 24-bit sequence number.
#[test]
fn rfc7641_s2_observe_values() {
    let hdr = [0x40u8, 0x01, 0, 0];
    for (opt_bytes, want) in [
        (&[0x60][..], Ok(Some(0))),       // register: empty value
        (&[0x61, 0x01][..], Ok(Some(1))), // deregister
        (&[0x61, 0x00][..], Ok(Some(0))), // non-minimal zero still decodes
        (&[0x63, 0x12, 0x34, 0x56][..], Ok(Some(0x12_3456))),
        (&[0x63, 0xFF, 0xFF, 0xFF][..], Ok(Some(0xFF_FFFF))),
        (&[0x64, 0x01, 0, 0, 0][..], Err(ParseError::BadOptionValue)),
        (&[][..], Ok(None)),
    ] {
        let mut m = hdr.to_vec();
        m.extend_from_slice(opt_bytes);
        assert_eq!(Message::parse(&m).unwrap().observe(), want, "{opt_bytes:02x?}");
    }
    let mut buf = [0u8; 16];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 0, &Token::EMPTY).unwrap();
    b.option_uint(opt::OBSERVE, 0).unwrap();
    let n = b.finish(0).unwrap();
    assert_eq!(&buf[..n], &[0x40, 0x01, 0, 0, 0x60]);
}

#[test]
fn builder_option_order_and_buffer_limits() {
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(&mut buf, MsgType::Con, Code::GET, 0, &Token::EMPTY).unwrap();
    b.option(opt::URI_PATH, b"3").unwrap();
    b.option(opt::URI_PATH, b"0").unwrap();
    assert_eq!(b.option(opt::OBSERVE, b""), Err(BuildError::OptionOrder));
    b.option(opt::URI_QUERY, b"q").unwrap();

    // Every buffer shorter than the message fails cleanly, the exact size succeeds.
    let full = build(
        MsgType::Con,
        Code::POST,
        77,
        &[1, 2, 3],
        &[(opt::URI_PATH, b"rd"), (300, &[9; 20])],
        b"payload",
    );
    for len in 0..=full.len() {
        let mut buf = vec![0u8; len];
        let tok = Token::from_slice(&[1, 2, 3]).unwrap();
        let r =
            MessageBuilder::new(&mut buf, MsgType::Con, Code::POST, 77, &tok).and_then(|mut b| {
                b.option(opt::URI_PATH, b"rd")?;
                b.option(300, &[9; 20])?;
                b.finish_with(b"payload")
            });
        if len == full.len() {
            assert_eq!(r, Ok(len));
            assert_eq!(buf, full);
        } else {
            assert_eq!(r, Err(BuildError::BufferTooSmall), "len {len}");
        }
    }
    // payload_space + finish
    let mut buf = [0u8; 12];
    let mut b =
        MessageBuilder::new(&mut buf, MsgType::Non, Code::CONTENT, 1, &Token::EMPTY).unwrap();
    let room = b.payload_space();
    assert_eq!(room.len(), 7);
    room[..3].copy_from_slice(b"abc");
    let n = b.finish(3).unwrap();
    assert_eq!(&buf[..n], b"\x50\x45\x00\x01\xffabc");
    let mut b =
        MessageBuilder::new(&mut buf, MsgType::Non, Code::CONTENT, 1, &Token::EMPTY).unwrap();
    assert_eq!(b.payload_space().len(), 7);
    assert!(b.finish(8).is_err());
    let mut tiny = [0u8; 4];
    let mut b =
        MessageBuilder::new(&mut tiny, MsgType::Non, Code::CONTENT, 1, &Token::EMPTY).unwrap();
    assert!(b.payload_space().is_empty());
    assert_eq!(b.finish(1), Err(BuildError::BufferTooSmall));
}

#[test]
fn error_display() {
    assert_eq!(ParseError::EmptyPayload.to_string(), "payload marker without payload");
    assert_eq!(BuildError::OptionOrder.to_string(), "option numbers out of order");
}

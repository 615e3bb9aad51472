//! The test kit talking to itself: hand-built client datagrams (via `Msg`) against the scripted
//! servers, checked with the kit's own parser, TLV decoder and link-format reader.

use lwm2m_testkit::{
    cf, link, opt, tlv, Block, BootstrapOp, BootstrapServer, Code, Link, ManagementServer, Msg,
    MsgType, Received, SecurityInstance, ServerInstance,
};

fn parse(d: &[u8]) -> Received {
    Received::parse(d).expect("server produced an unparsable datagram")
}

fn one(out: Vec<Vec<u8>>) -> Received {
    assert_eq!(out.len(), 1, "expected exactly one datagram, got {out:02X?}");
    parse(&out[0])
}

fn register_msg(mid: u16) -> Msg {
    Msg::new(MsgType::Con, Code::POST, mid, &[0xC1, 0x1E])
        .path("/rd")
        .query("ep=urn:imei:123456789012345")
        .query("lt=86400")
        .query("lwm2m=1.0")
        .query("b=UQ")
        .content_format(cf::LINK_FORMAT)
        .payload(b"</>;rt=\"oma.lwm2m\";ct=11542,</1/0>,</3/0>,</4/0>,</5/0>")
}

fn piggybacked(req: &Received, code: Code) -> Msg {
    Msg::new(MsgType::Ack, code, req.mid, &req.token)
}

fn registered() -> ManagementServer {
    let mut s = ManagementServer::new();
    let ack = one(s.handle(&register_msg(1).to_bytes()));
    assert_eq!(ack.code, Code::CREATED);
    s.take_received();
    s
}

#[test]
fn register_update_deregister() {
    let mut s = ManagementServer::new();
    let d = register_msg(0x0101).to_bytes();
    let ack = one(s.handle(&d));
    assert_eq!(ack.mtype, MsgType::Ack);
    assert_eq!(ack.code, Code::CREATED);
    assert_eq!(ack.mid, 0x0101);
    assert_eq!(ack.token, vec![0xC1, 0x1E]);
    assert_eq!(ack.location_path, vec!["rd", "r1"]);
    assert!(ack.payload.is_empty());

    let rec = &s.received()[0];
    assert_eq!(rec.path, vec!["rd"]);
    assert_eq!(rec.query("lt"), Some("86400"));
    assert_eq!(rec.query("b"), Some("UQ"));
    assert_eq!(rec.content_format, Some(40));
    let links = link::parse(&rec.payload_str()).unwrap();
    assert_eq!(links[0].0, "/");
    assert_eq!(link::attr(&links[0], "ct"), Some(Some("11542")));
    assert_eq!(link::targets(&rec.payload_str()).unwrap()[1..], ["/1/0", "/3/0", "/4/0", "/5/0"]);

    let reg = s.registration().unwrap().clone();
    assert_eq!(reg.endpoint, "urn:imei:123456789012345");
    assert_eq!(reg.lifetime, Some(86400));
    assert_eq!(reg.lwm2m.as_deref(), Some("1.0"));
    assert_eq!(reg.binding.as_deref(), Some("UQ"));
    assert!(s.is_registered());

    let upd = Msg::new(MsgType::Con, Code::POST, 0x0102, &[2]).path("/rd/r1").query("lt=60");
    let ack = one(s.handle(&upd.to_bytes()));
    assert_eq!((ack.code, ack.mid), (Code::CHANGED, 0x0102));
    assert_eq!(s.registration().unwrap().lifetime, Some(60));
    assert_eq!(s.registration().unwrap().updates, 1);

    let bad = Msg::new(MsgType::Con, Code::POST, 0x0103, &[3]).path("/rd/nope");
    assert_eq!(one(s.handle(&bad.to_bytes())).code, Code::NOT_FOUND);

    let dereg = Msg::new(MsgType::Con, Code::DELETE, 0x0104, &[4]).path("/rd/r1");
    assert_eq!(one(s.handle(&dereg.to_bytes())).code, Code::DELETED);
    assert!(!s.is_registered());
    assert!(s.anomalies().is_empty());
    assert_eq!(s.sent().len(), 4);
}

#[test]
fn refused_and_ignored_registration() {
    let mut s = ManagementServer::new();
    s.refuse_registration(Some(Code::FORBIDDEN));
    assert_eq!(one(s.handle(&register_msg(1).to_bytes())).code, Code::FORBIDDEN);
    assert!(!s.is_registered());

    s.refuse_registration(None);
    s.ignore_next_con(2);
    let d = register_msg(2).to_bytes();
    assert!(s.handle(&d).is_empty());
    assert!(s.handle(&d).is_empty()); // the client's retransmission, also ignored
    let ack = one(s.handle(&d));
    assert_eq!((ack.code, ack.mid), (Code::CREATED, 2));
    assert_eq!(s.take_received().len(), 4);
    assert_eq!(s.received_count(), 4);

    s.refuse_update(Some(Code::NOT_FOUND));
    let upd = Msg::new(MsgType::Con, Code::POST, 3, &[]).path("/rd/r1");
    assert_eq!(one(s.handle(&upd.to_bytes())).code, Code::NOT_FOUND);

    // Missing endpoint name
    let noep = Msg::new(MsgType::Con, Code::POST, 4, &[]).path("/rd").query("lt=5");
    assert_eq!(one(s.handle(&noep.to_bytes())).code, Code::BAD_REQUEST);
}

#[test]
fn separate_response_to_register() {
    let mut s = ManagementServer::new();
    s.set_separate_responses(true);
    let ack = one(s.handle(&register_msg(7).to_bytes()));
    assert_eq!((ack.mtype, ack.code, ack.mid), (MsgType::Ack, Code::EMPTY, 7));
    assert!(ack.token.is_empty());
    let sep = one(s.release_separate_responses());
    assert_eq!(sep.mtype, MsgType::Con);
    assert_eq!(sep.code, Code::CREATED);
    assert_eq!(sep.token, vec![0xC1, 0x1E]);
    assert_ne!(sep.mid, 7);
    assert_eq!(sep.location_path, vec!["rd", "r1"]);
    // Not yet acknowledged: a retransmission is byte-exact.
    let again = s.retransmit_pending();
    assert_eq!(again, vec![sep.raw.clone()]);
    assert!(s.handle(&Msg::empty_ack(sep.mid).to_bytes()).is_empty());
    assert!(s.retransmit_pending().is_empty());
}

#[test]
fn read_piggybacked_and_separate() {
    let mut s = registered();
    let h = s.read("/3/0", Some(cf::TLV));
    let h2 = s.read("/3/0/0", None);
    let get = one(s.poll_outgoing());
    assert!(s.poll_outgoing().is_empty(), "NSTART=1: second read waits");
    assert_eq!((get.mtype, get.code), (MsgType::Con, Code::GET));
    assert_eq!(get.path, vec!["3", "0"]);
    assert_eq!(get.accept, Some(cf::TLV));
    assert_eq!(get.token.len(), 4);
    assert!(s.is_pending(h));

    let body = tlv::concat(&[tlv::encode_str(0, "ACME"), tlv::encode_int(9, 87)]);
    let resp = piggybacked(&get, Code::CONTENT).content_format(cf::TLV).payload(&body);
    // The response completes the read and releases the queued one.
    let next = one(s.handle(&resp.to_bytes()));
    let r = s.response(h).unwrap();
    assert_eq!((r.code, r.mtype, r.separate), (Code::CONTENT, MsgType::Ack, false));
    assert_eq!(r.content_format, Some(cf::TLV));
    let nodes = tlv::decode(&r.payload).unwrap();
    assert_eq!(nodes[1].as_int().unwrap(), 87);

    // Second read answered separately: empty ACK, then CON response that the server ACKs.
    assert_eq!(next.path_str(), "/3/0/0");
    assert_ne!(next.token, get.token);
    assert_eq!(next.mid, get.mid.wrapping_add(1));
    assert!(s.handle(&Msg::empty_ack(next.mid).to_bytes()).is_empty());
    assert!(s.retransmit_pending().is_empty());
    let sep = Msg::new(MsgType::Con, Code::CONTENT, 0x9000, &next.token)
        .content_format(cf::TEXT)
        .payload(b"ACME");
    let ack = one(s.handle(&sep.to_bytes()));
    assert_eq!((ack.mtype, ack.code, ack.mid), (MsgType::Ack, Code::EMPTY, 0x9000));
    let r2 = s.response(h2).unwrap();
    assert!(r2.separate);
    assert_eq!(r2.payload_str(), "ACME");
    assert!(s.anomalies().is_empty());
}

#[test]
fn requests_have_the_right_shape() {
    let mut s = registered();
    s.set_nstart(16);
    s.write("/1/0/1", cf::TEXT, b"300".to_vec());
    s.write_partial("/3/0", cf::TLV, tlv::encode_int(13, 5));
    s.execute("/3/0/4", None);
    s.execute("/3/0/5", Some("0='x'"));
    s.discover("/3");
    s.write_attributes("/3/0/9", &["pmin=10", "pmax=60", "gt=50.5", "lt=4", "st=1"]);
    s.create("/2", cf::TLV, tlv::encode_object_instance(5, &[tlv::encode_int(0, 3)]));
    s.delete("/2/5");
    s.write_text("/1/0/7", "UQ");
    let out: Vec<Received> = s.poll_outgoing().iter().map(|d| parse(d)).collect();
    assert_eq!(out.len(), 9);
    let shape = |r: &Received| (r.code, r.path_str(), r.content_format, r.accept);
    assert_eq!(shape(&out[0]), (Code::PUT, "/1/0/1".into(), Some(0), None));
    assert_eq!(out[0].payload, b"300");
    assert_eq!(shape(&out[1]), (Code::POST, "/3/0".into(), Some(cf::TLV), None));
    assert_eq!(shape(&out[2]), (Code::POST, "/3/0/4".into(), None, None));
    assert!(out[2].payload.is_empty());
    assert_eq!(out[3].payload, b"0='x'");
    assert_eq!(shape(&out[4]), (Code::GET, "/3".into(), None, Some(40)));
    assert_eq!(shape(&out[5]), (Code::PUT, "/3/0/9".into(), None, None));
    assert_eq!(out[5].queries, vec!["pmin=10", "pmax=60", "gt=50.5", "lt=4", "st=1"]);
    assert!(out[5].payload.is_empty());
    assert_eq!(shape(&out[6]), (Code::POST, "/2".into(), Some(cf::TLV), None));
    assert_eq!(tlv::decode(&out[6].payload).unwrap()[0].id, 5);
    assert_eq!(shape(&out[7]), (Code::DELETE, "/2/5".into(), None, None));
    assert!(out.iter().all(|r| r.mtype == MsgType::Con));
    let mut mids: Vec<u16> = out.iter().map(|r| r.mid).collect();
    mids.dedup();
    assert_eq!(mids.len(), 9);
}

#[test]
fn block2_read_is_fetched_and_reassembled() {
    let mut s = registered();
    s.set_block2_size(Some(64));
    let body: Vec<u8> = (0..150u8).collect();
    let h = s.read("/5/0", None);
    let mut req = one(s.poll_outgoing());
    assert_eq!(req.block2, Some(Block { num: 0, more: false, szx: 2 }));
    let first_token = req.token.clone();
    let mut n = 0;
    loop {
        let b = req.block2.unwrap();
        assert_eq!(b.num, n);
        assert_eq!(req.token, first_token);
        let end = (b.offset() + 64).min(body.len());
        let more = end < body.len();
        let resp = piggybacked(&req, Code::CONTENT)
            .content_format(cf::OPAQUE)
            .block2(Block { num: n, more, szx: 2 })
            .payload(&body[b.offset()..end]);
        let out = s.handle(&resp.to_bytes());
        if !more {
            assert!(out.is_empty());
            break;
        }
        req = one(out);
        n += 1;
    }
    let r = s.response(h).unwrap();
    assert_eq!(r.payload, body);
    assert_eq!(r.block2_count, 3);
    assert_eq!(r.request_count, 3);
    assert_eq!(r.content_format, Some(cf::OPAQUE));
    assert!(s.anomalies().is_empty());
}

#[test]
fn block1_write_with_renegotiation() {
    let mut s = registered();
    s.set_block1_size(64);
    let payload: Vec<u8> = (0..200u8).collect();
    let h = s.write("/5/0/0", cf::OPAQUE, payload.clone());
    let r0 = one(s.poll_outgoing());
    assert_eq!(r0.block1, Some(Block { num: 0, more: true, szx: 2 }));
    assert_eq!(r0.size1, Some(200));
    assert_eq!(r0.content_format, Some(cf::OPAQUE));
    let mut got = r0.payload.clone();
    // The client wants 32-byte blocks from now on.
    let cont = piggybacked(&r0, Code::CONTINUE).block1(Block { num: 0, more: true, szx: 1 });
    let mut req = one(s.handle(&cont.to_bytes()));
    let mut blocks = 1;
    loop {
        let b = req.block1.unwrap();
        assert_eq!(b.szx, 1);
        assert_eq!(b.offset(), got.len());
        assert_eq!(req.token, r0.token);
        got.extend_from_slice(&req.payload);
        blocks += 1;
        if !b.more {
            let done = piggybacked(&req, Code::CHANGED).block1(b);
            assert!(s.handle(&done.to_bytes()).is_empty());
            break;
        }
        let cont = piggybacked(&req, Code::CONTINUE).block1(b);
        req = one(s.handle(&cont.to_bytes()));
    }
    assert_eq!(got, payload);
    assert_eq!(blocks, 1 + (200 - 64usize).div_ceil(32));
    let r = s.response(h).unwrap();
    assert_eq!(r.code, Code::CHANGED);
    assert_eq!(r.request_count, blocks as u32);
    assert!(s.anomalies().is_empty());
}

#[test]
fn block1_from_client_is_reassembled() {
    let mut s = ManagementServer::new();
    let links = b"</1/0>,</3/0>,</4/0>,</5/0>,</6/0>,</7/0>";
    let base = || {
        Msg::new(MsgType::Con, Code::POST, 0, &[9])
            .path("/rd")
            .query("ep=big")
            .content_format(cf::LINK_FORMAT)
    };
    let mut m = base().block1(Block { num: 0, more: true, szx: 0 }).payload(&links[..16]);
    m.mid = 1;
    let c = one(s.handle(&m.to_bytes()));
    assert_eq!(c.code, Code::CONTINUE);
    assert_eq!(c.block1, Some(Block { num: 0, more: true, szx: 0 }));
    let mut m = base().block1(Block { num: 1, more: true, szx: 0 }).payload(&links[16..32]);
    m.mid = 2;
    assert_eq!(one(s.handle(&m.to_bytes())).code, Code::CONTINUE);
    let mut m = base().block1(Block { num: 2, more: false, szx: 0 }).payload(&links[32..]);
    m.mid = 3;
    let fin = one(s.handle(&m.to_bytes()));
    assert_eq!(fin.code, Code::CREATED);
    assert_eq!(fin.block1, Some(Block { num: 2, more: false, szx: 0 }));
    assert_eq!(s.registration().unwrap().links.as_bytes(), links);
}

#[test]
fn observe_notify_cancel() {
    let mut s = registered();
    s.set_reset_unknown_notifications(true);
    let obs = s.observe("/3/0/9", Some(cf::TEXT));
    let get = one(s.poll_outgoing());
    assert_eq!(get.observe, Some(0));
    assert_eq!(get.accept, Some(cf::TEXT));
    let token = get.token.clone();
    assert_eq!(s.token_of(obs), Some(token.clone()));
    let first = piggybacked(&get, Code::CONTENT).observe(5).content_format(cf::TEXT).payload(b"90");
    assert!(s.handle(&first.to_bytes()).is_empty());
    let r = s.response(obs).unwrap();
    assert_eq!((r.code, r.observe), (Code::CONTENT, Some(5)));

    let n1 = Msg::new(MsgType::Con, Code::CONTENT, 0x700, &token).observe(6).payload(b"80");
    let ack = one(s.handle(&n1.to_bytes()));
    assert_eq!((ack.mtype, ack.code, ack.mid), (MsgType::Ack, Code::EMPTY, 0x700));
    let n2 = Msg::new(MsgType::Non, Code::CONTENT, 0x701, &token).observe(7).payload(b"70");
    assert!(s.handle(&n2.to_bytes()).is_empty());
    let ns = s.notifications(obs);
    assert_eq!(ns.len(), 2);
    assert_eq!(
        (ns[0].observe, ns[0].payload.as_slice(), ns[0].mtype),
        (Some(6), &b"80"[..], MsgType::Con)
    );
    assert_eq!((ns[1].observe, ns[1].mtype), (Some(7), MsgType::Non));
    assert!(ns.iter().all(|n| n.complete));

    // A notification for a token nobody observes: RST.
    let stray = Msg::new(MsgType::Con, Code::CONTENT, 0x702, &[1, 2, 3]).observe(1).payload(b"1");
    let rst = one(s.handle(&stray.to_bytes()));
    assert_eq!((rst.mtype, rst.mid), (MsgType::Rst, 0x702));

    let cancel = s.cancel_observe(obs);
    let c = one(s.poll_outgoing());
    assert_eq!((c.code, c.observe, c.token.clone()), (Code::GET, Some(1), token.clone()));
    assert_eq!(c.path_str(), "/3/0/9");
    // A notification racing the cancel is now unknown: RST.
    let late = Msg::new(MsgType::Con, Code::CONTENT, 0x703, &token).observe(8).payload(b"60");
    assert_eq!(one(s.handle(&late.to_bytes())).mtype, MsgType::Rst);
    assert!(s.is_pending(cancel));
    let done = piggybacked(&c, Code::CONTENT).payload(b"60");
    s.handle(&done.to_bytes());
    assert_eq!(s.response(cancel).unwrap().observe, None);
    assert_eq!(s.take_notifications(obs).len(), 2);
    assert!(s.notifications(obs).is_empty());
}

#[test]
fn notification_with_block2_is_completed() {
    let mut s = registered();
    let obs = s.observe("/3/0", Some(cf::TLV));
    let get = one(s.poll_outgoing());
    s.handle(&piggybacked(&get, Code::CONTENT).observe(1).payload(b"x").to_bytes());
    let body: Vec<u8> = (0..40u8).collect();
    let n = Msg::new(MsgType::Non, Code::CONTENT, 0x800, &get.token)
        .observe(2)
        .block2(Block { num: 0, more: true, szx: 1 })
        .payload(&body[..32]);
    let follow = one(s.handle(&n.to_bytes()));
    assert_eq!(follow.code, Code::GET);
    assert_eq!(follow.observe, None);
    assert_ne!(follow.token, get.token);
    assert_eq!(follow.block2, Some(Block { num: 1, more: false, szx: 1 }));
    assert!(!s.notifications(obs)[0].complete);
    let rest = piggybacked(&follow, Code::CONTENT)
        .block2(Block { num: 1, more: false, szx: 1 })
        .payload(&body[32..]);
    assert!(s.handle(&rest.to_bytes()).is_empty());
    let ns = s.notifications(obs);
    assert!(ns[0].complete);
    assert_eq!(ns[0].payload, body);
}

#[test]
fn reset_and_token_mismatch() {
    let mut s = registered();
    s.set_nstart(2);
    let h = s.execute("/3/0/4", None);
    let h2 = s.read("/3/0/1", None);
    let out = s.poll_outgoing();
    let (ex, rd) = (parse(&out[0]), parse(&out[1]));
    s.handle(&Msg::rst(ex.mid).to_bytes());
    let r = s.response(h).unwrap();
    assert!(r.reset);
    assert_eq!(r.code, Code::EMPTY);
    let wrong = Msg::new(MsgType::Ack, Code::CONTENT, rd.mid, &[0xEE]).payload(b"x");
    s.handle(&wrong.to_bytes());
    assert_eq!(s.anomalies().len(), 1);
    assert!(s.response(h2).is_none());
    // Garbage is recorded as an anomaly, not a panic.
    assert!(s.handle(&[0x40, 0x01]).is_empty());
    assert_eq!(s.anomalies().len(), 2);
    // CoAP ping gets RST.
    let pong = one(s.handle(&Msg::new(MsgType::Con, Code::EMPTY, 0x42, &[]).to_bytes()));
    assert_eq!((pong.mtype, pong.mid), (MsgType::Rst, 0x42));
}

#[test]
fn resend_exact_datagram() {
    let mut s = registered();
    s.read("/3/0/0", None);
    let first = s.poll_outgoing().remove(0);
    assert_eq!(s.last_sent(), Some(first.as_slice()));
    assert_eq!(s.retransmit_pending(), vec![first.clone()]);
    // After an empty ACK the request waits for a separate response: nothing to retransmit.
    s.handle(&Msg::empty_ack(parse(&first).mid).to_bytes());
    assert!(s.retransmit_pending().is_empty());
    // The sent log holds the register ACK too, for byte-exact replays.
    assert_eq!(parse(&s.sent()[0]).code, Code::CREATED);
    assert_eq!(s.sent().len(), 3);
}

fn security_tlv_check(payload: &[u8], uri: &str, bootstrap: bool, ssid: Option<i64>) {
    let nodes = tlv::decode(payload).unwrap();
    assert_eq!(nodes.len(), 1);
    let inst = &nodes[0];
    assert_eq!(inst.kind, tlv::Kind::ObjectInstance);
    assert_eq!(inst.child(0).unwrap().as_str().unwrap(), uri);
    assert_eq!(inst.child(1).unwrap().as_bool().unwrap(), bootstrap);
    assert_eq!(inst.child(2).unwrap().as_int().unwrap(), 0);
    assert_eq!(inst.child(3).unwrap().value, b"identity");
    assert_eq!(inst.child(5).unwrap().value, [0x01, 0x02, 0x03]);
    assert_eq!(inst.child(10).map(|n| n.as_int().unwrap()), ssid);
}

#[test]
fn bootstrap_full_sequence() {
    let script = BootstrapServer::standard_script(
        "coaps://bs.example:5784",
        "coaps://dm.example:5684",
        101,
        3600,
        b"identity",
        &[1, 2, 3],
    );
    let mut bs = BootstrapServer::new(script);
    let req =
        Msg::new(MsgType::Con, Code::POST, 0x20, &[0xB5]).path("/bs").query("ep=node-7").to_bytes();
    let ack = one(bs.handle(&req));
    assert_eq!(
        (ack.mtype, ack.code, ack.mid, ack.token.clone()),
        (MsgType::Ack, Code::CHANGED, 0x20, vec![0xB5])
    );
    assert_eq!(bs.bootstrap_requests(), ["node-7"]);
    assert!(bs.running());

    let mut op = one(bs.poll_outgoing());
    assert!(bs.poll_outgoing().is_empty(), "one operation at a time");
    let mut seen = Vec::new();
    loop {
        seen.push((op.code, op.path_str()));
        assert_eq!(op.mtype, MsgType::Con);
        let code = if op.code == Code::DELETE { Code::DELETED } else { Code::CHANGED };
        if op.path_str() == "/0/1" {
            security_tlv_check(&op.payload, "coaps://dm.example:5684", false, Some(101));
        }
        if op.path_str() == "/0/0" {
            security_tlv_check(&op.payload, "coaps://bs.example:5784", true, None);
        }
        if op.path_str() == "/1/0" {
            assert_eq!(op.content_format, Some(cf::TLV));
            let inst = &tlv::decode(&op.payload).unwrap()[0];
            assert_eq!(inst.child(0).unwrap().as_int().unwrap(), 101);
            assert_eq!(inst.child(1).unwrap().as_int().unwrap(), 3600);
            assert!(inst.child(6).unwrap().as_bool().unwrap());
            assert_eq!(inst.child(7).unwrap().as_str().unwrap(), "U");
        }
        let out = bs.handle(&piggybacked(&op, code).to_bytes());
        if out.is_empty() {
            break;
        }
        op = one(out);
    }
    assert_eq!(
        seen,
        vec![
            (Code::DELETE, "/".to_string()),
            (Code::PUT, "/0/0".to_string()),
            (Code::PUT, "/0/1".to_string()),
            (Code::PUT, "/1/0".to_string()),
            (Code::POST, "/bs".to_string()),
        ]
    );
    assert_eq!(
        bs.codes(),
        vec![Code::DELETED, Code::CHANGED, Code::CHANGED, Code::CHANGED, Code::CHANGED]
    );
    assert_eq!(bs.finish_code(), Some(Code::CHANGED));
    assert!(!bs.running());
    assert!(bs.anomalies().is_empty());

    // A retransmitted Bootstrap-Request after the run starts a new run.
    one(bs.handle(&req));
    assert!(bs.running());
}

#[test]
fn server_initiated_bootstrap_and_errors() {
    let mut bs = BootstrapServer::new(vec![
        BootstrapOp::write_server(1, &ServerInstance::new(1, 60)),
        BootstrapOp::Discover("/".into()),
        BootstrapOp::Finish,
    ]);
    bs.start();
    let w = one(bs.poll_outgoing());
    assert_eq!((w.code, w.path_str()), (Code::PUT, "/1/1".into()));
    let d = one(bs.handle(&piggybacked(&w, Code::BAD_REQUEST).to_bytes()));
    assert_eq!((d.code, d.accept), (Code::GET, Some(cf::LINK_FORMAT)));
    let f = one(bs.handle(
        &piggybacked(&d, Code::CONTENT)
            .content_format(cf::LINK_FORMAT)
            .payload(b"</0/0>,</1>")
            .to_bytes(),
    ));
    assert_eq!(f.path_str(), "/bs");
    bs.handle(&piggybacked(&f, Code::NOT_ACCEPTABLE).to_bytes());
    let res = bs.results();
    assert_eq!(res[0].code, Code::BAD_REQUEST);
    assert_eq!(res[1].response.payload_str(), "</0/0>,</1>");
    assert_eq!(bs.finish_code(), Some(Code::NOT_ACCEPTABLE));

    // Refused Bootstrap-Request does not start a run.
    bs.refuse_bootstrap_request(Some(Code::BAD_REQUEST));
    let req = Msg::new(MsgType::Con, Code::POST, 1, &[]).path("/bs").query("ep=x").to_bytes();
    assert_eq!(one(bs.handle(&req)).code, Code::BAD_REQUEST);
    assert!(!bs.running());
    assert!(bs.poll_outgoing().is_empty());
}

#[test]
fn security_instance_psk_tlv() {
    let s = SecurityInstance::psk("coaps://x:5684", 1, b"id", b"k");
    let nodes = tlv::decode(&s.to_tlv(3)).unwrap();
    assert_eq!(nodes[0].id, 3);
    let ids: Vec<u16> = nodes[0].children.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![0, 1, 2, 3, 5, 10]);
}

/// A tiny retransmitting "client" that registers through a lossy link: the server answers every
/// copy that arrives, and the client's retransmissions are byte-exact.
#[test]
fn register_over_lossy_link() {
    let mut up: Link = Link::new(11).latency(20);
    let mut down: Link = Link::new(12).latency(20);
    let mut s = ManagementServer::new();
    let d = register_msg(0x55).to_bytes();
    up.drop_next(2); // first two transmissions lost
    down.duplicate_next(1);
    let mut now = 0u64;
    let mut timeout = 2000u64;
    let mut next_tx = 0u64;
    let mut acks = Vec::new();
    while acks.is_empty() && now < 60_000 {
        if now == next_tx {
            up.send(now, d.clone());
            next_tx = now + timeout;
            timeout *= 2;
        }
        for dg in up.deliver(now) {
            for reply in s.handle(&dg) {
                down.send(now, reply);
            }
        }
        acks.extend(down.deliver(now));
        now += 10;
    }
    assert_eq!(now, 2000 + 4000 + 40 + 10);
    assert_eq!(acks.len(), 2); // duplicated on the way down
    assert_eq!(acks[0], acks[1]);
    assert_eq!(parse(&acks[0]).code, Code::CREATED);
    assert_eq!(up.stats().dropped, 2);
    assert_eq!(s.received_count(), 1);
    // Options are emitted in order; Content-Format sits between Uri-Path and Uri-Query.
    let rec = &s.received()[0];
    let nums: Vec<u16> = rec.options.iter().map(|(n, _)| *n).collect();
    assert_eq!(nums, vec![opt::URI_PATH, opt::CONTENT_FORMAT, 15, 15, 15, 15]);
}

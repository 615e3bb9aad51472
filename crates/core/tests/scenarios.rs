//! Deterministic scenarios on a virtual clock: the engine against the scripted servers of
//! lwm2m-testkit. Each test names the behaviour (and the OMA/RFC clause) it covers.

mod support;

use lwm2m_carrier_core::{Event, Failure};
use lwm2m_testkit::{cf, link, tlv, Code, MsgType, Received};
use support::{Target, World, ENDPOINT};

/// LwM2M 1.0 §5.2.7.1 client-initiated bootstrap, then §5.3.1 Register.
#[test]
fn bootstrap_then_register() {
    let mut w = World::new(1, 300);
    let registered_at = w.bootstrap_and_register();

    assert_eq!(
        w.event_list(),
        [Event::Bootstrapped, Event::Registered { short_id: 102 }],
        "event order"
    );
    assert!(registered_at < 10_000, "registered at {registered_at} ms on a perfect link");

    // The bootstrap server saw exactly one Bootstrap-Request with our endpoint name, and every
    // bootstrap operation was accepted (Delete 2.02, Writes 2.04, Finish 2.04).
    assert_eq!(w.bs.bootstrap_requests(), [ENDPOINT]);
    let codes = w.bs.codes();
    assert_eq!(codes, [Code::DELETED, Code::CHANGED, Code::CHANGED, Code::CHANGED, Code::CHANGED]);

    // Register carried the bootstrapped lifetime, LwM2M 1.0, a binding and our objects,
    // without the Security object (LwM2M 1.0 §5.3.1).
    let reg = w.dm.registration().expect("registered").clone();
    assert_eq!(reg.endpoint, ENDPOINT);
    assert_eq!(reg.lifetime, Some(300));
    assert_eq!(reg.lwm2m.as_deref(), Some("1.0"));
    let targets = link::targets(&reg.links).unwrap();
    assert!(targets.contains(&"/1/0".to_string()), "{targets:?}");
    assert!(targets.contains(&"/3/0".to_string()), "{targets:?}");
    assert!(targets.contains(&"/5/0".to_string()), "{targets:?}");
    assert!(!targets.iter().any(|t| t.starts_with("/0")), "Security listed: {targets:?}");
    assert!(w.engine.is_registered());
}

/// A restart with the bootstrapped objects goes straight to Register.
#[test]
fn registered_device_does_not_bootstrap_again() {
    let mut w = World::new(2, 300);
    w.bootstrap_and_register();
    let registry = w.engine.registry().clone();
    let engine = lwm2m_carrier_core::Engine::new(support::config(), registry, 3);
    let mut w2 = World::with(engine, lwm2m_testkit::BootstrapServer::new(vec![]));
    w2.start();
    w2.run_until_since(0, 30_000, |e| matches!(e, Event::Registered { .. }));
    assert!(w2.bs.bootstrap_requests().is_empty());
    assert_eq!(w2.event_list(), [Event::Registered { short_id: 102 }]);
}

/// LwM2M 1.0 §5.3.2: Update before the lifetime runs out, every lifetime, for a long time.
#[test]
fn update_before_lifetime_runs_out() {
    let lifetime_s = 300;
    let mut w = World::new(4, lifetime_s as i64);
    let t0 = w.bootstrap_and_register();
    w.advance_to(t0 + 10 * lifetime_s * 1000);

    let updates: Vec<u64> = w
        .requests_to_dm()
        .into_iter()
        .filter(|(_, r)| r.code == Code::POST && r.path_str().starts_with("/rd/"))
        .map(|(t, _)| t)
        .collect();
    assert!(updates.len() >= 10, "only {} updates in 10 lifetimes", updates.len());
    let mut last = t0;
    for t in &updates {
        let gap = t - last;
        assert!(gap < lifetime_s * 1000, "update {gap} ms after the previous registration");
        // Not absurdly early either: margin is max(lifetime/10, 93 s) capped at lifetime/2.
        assert!(gap >= lifetime_s * 1000 / 2, "update only {gap} ms after the previous one");
        last = *t;
    }
    // Plain updates carry nothing that did not change (LwM2M 1.0 §5.3.2).
    let (_, first) = &w.requests_to_dm()[1];
    assert!(first.queries.is_empty(), "update queries {:?}", first.queries);
    assert!(first.payload.is_empty());
    assert_eq!(w.dm.registration().unwrap().updates, updates.len() as u32);
}

/// LwM2M 1.0 §5.3.2: a changed lifetime goes into the next Update with `lt=`.
#[test]
fn server_write_of_lifetime_triggers_update_with_lt() {
    let mut w = World::new(5, 300);
    w.bootstrap_and_register();
    let h = w.dm.write_text("/1/0/1", "600");
    w.pump();
    assert_eq!(w.dm.response(h).unwrap().code, Code::CHANGED);
    let update = w.requests_to_dm().pop().unwrap().1;
    assert_eq!(update.code, Code::POST);
    assert_eq!(update.query("lt"), Some("600"));
    assert_eq!(w.dm.registration().unwrap().lifetime, Some(600));
}

/// /1/0/8 Registration Update Trigger sends an Update at once.
#[test]
fn registration_update_trigger() {
    let mut w = World::new(6, 300);
    w.bootstrap_and_register();
    let before = w.requests_to_dm().len();
    let h = w.dm.execute("/1/0/8", None);
    w.pump();
    assert_eq!(w.dm.response(h).unwrap().code, Code::CHANGED);
    assert_eq!(w.requests_to_dm().len(), before + 1);
    assert!(w.event_list().contains(&Event::Updated { short_id: 102 }));
}

/// LwM2M 1.0 §5.4.1 Read in TLV and text, checked with the independent TLV decoder.
#[test]
fn read_device_object_in_tlv_and_text() {
    let mut w = World::new(7, 300);
    w.bootstrap_and_register();
    w.engine.with_registry(w.instant(), |r| r.device.battery_level_set(77)).unwrap();

    let h = w.dm.read("/3/0", Some(cf::TLV));
    w.pump();
    let resp = w.dm.response(h).unwrap();
    assert_eq!(resp.code, Code::CONTENT);
    assert_eq!(resp.content_format, Some(cf::TLV));
    // An instance read lists its resources at the top level (OMA TS 1.0 §6.4.3.1).
    let nodes = tlv::decode(&resp.payload).unwrap();
    let res = |id: u16| nodes.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no /3/0/{id}"));
    assert_eq!(res(9).as_int().unwrap(), 77);
    assert_eq!(res(17).as_str().unwrap(), "Smart Device");
    assert_eq!(res(18).as_str().unwrap(), "1.0");
    assert!(res(19).as_str().unwrap().starts_with("LwM2M "));

    let h = w.dm.read("/3/0/9", Some(cf::TEXT));
    w.pump();
    let resp = w.dm.response(h).unwrap();
    assert_eq!((resp.code, resp.payload.as_slice()), (Code::CONTENT, &b"77"[..]));
}

/// RFC 7641 + LwM2M 1.0 §5.5: notifications honour pmin and pmax, carry increasing Observe
/// numbers, and stop after Cancel.
#[test]
fn observe_notify_timing_with_pmin_pmax() {
    let mut w = World::new(8, 86_400);
    w.bootstrap_and_register();
    let h = w.dm.write_attributes("/3/0/9", &["pmin=10", "pmax=60"]);
    w.pump();
    assert_eq!(w.dm.response(h).unwrap().code, Code::CHANGED);

    let t_obs = w.now;
    let obs = w.dm.observe("/3/0/9", Some(cf::TEXT));
    w.pump();
    let first = w.dm.response(obs).unwrap();
    assert_eq!(first.code, Code::CONTENT);
    assert!(first.observe.is_some());

    // A change 2 s later waits for pmin (10 s after the last notification).
    w.advance(2_000);
    w.engine.with_registry(w.instant(), |r| r.device.battery_level_set(50)).unwrap();
    w.pump();
    w.advance_to(t_obs + 9_900);
    assert!(w.dm.notifications(obs).is_empty(), "notified before pmin");
    w.advance_to(t_obs + 10_100);
    let n = w.dm.notifications(obs);
    assert_eq!(n.len(), 1, "one notification at pmin");
    assert_eq!(n[0].payload, b"50");

    // Nothing changes: the next one comes at pmax, 60 s after the previous.
    w.advance_to(t_obs + 10_000 + 59_900);
    assert_eq!(w.dm.notifications(obs).len(), 1, "notified before pmax");
    w.advance_to(t_obs + 10_000 + 60_100);
    let n = w.dm.notifications(obs);
    assert_eq!(n.len(), 2, "pmax notification");
    assert!(n[1].observe > n[0].observe, "Observe numbers increase");

    // Confirmable notifications were acknowledged; a Cancel stops them.
    assert!(n.iter().all(|n| n.mtype == MsgType::Con));
    let c = w.dm.cancel_observe(obs);
    w.pump();
    assert_eq!(w.dm.response(c).unwrap().code, Code::CONTENT);
    let count = w.dm.notifications(obs).len();
    w.advance(600_000);
    assert_eq!(w.dm.notifications(obs).len(), count, "notified after cancel");
}

/// LwM2M 1.0 §5.1.2: gt/lt/st on a numeric resource.
#[test]
fn observe_with_step_and_thresholds() {
    let mut w = World::new(9, 86_400);
    w.bootstrap_and_register();
    w.engine.with_registry(w.instant(), |r| r.device.battery_level_set(50)).unwrap();
    let h = w.dm.write_attributes("/3/0/9", &["st=10"]);
    w.pump();
    assert_eq!(w.dm.response(h).unwrap().code, Code::CHANGED);
    let obs = w.dm.observe("/3/0/9", Some(cf::TEXT));
    w.pump();
    for (level, expect) in [(55u8, 0usize), (59, 0), (60, 1), (65, 1), (49, 2)] {
        w.advance(1_000);
        w.engine.with_registry(w.instant(), |r| r.device.battery_level_set(level)).unwrap();
        w.pump();
        assert_eq!(w.dm.notifications(obs).len(), expect, "after level {level}");
    }
}

/// RFC 7252 §4.2: CON retransmission with exponential backoff, then give-up.
#[test]
fn retransmissions_then_give_up() {
    let mut w = World::new(10, 300);
    let t0 = w.bootstrap_and_register();
    // The server goes silent: every datagram to it is lost from now on.
    w.up.drop_if(|_| true);
    let failed = w.run_until(400_000, |e| matches!(e, Event::RegistrationFailed { .. }));
    assert!(w
        .event_list()
        .contains(&Event::RegistrationFailed { short_id: 102, failure: Failure::Timeout }));
    // 1 transmission + 4 retransmissions of the same Update, spaced 2-3 s, then x2 each time.
    let attempts: Vec<(u64, Vec<u8>)> = w
        .wire
        .iter()
        .filter(|x| x.to_server && x.at_ms > t0 + 1)
        .map(|x| (x.at_ms, x.bytes.clone()))
        .collect();
    assert_eq!(attempts.len(), 5, "{attempts:?}");
    assert!(attempts.windows(2).all(|p| p[0].1 == p[1].1), "retransmissions differ");
    let gaps: Vec<u64> = attempts.windows(2).map(|p| p[1].0 - p[0].0).collect();
    let first = gaps[0];
    assert!((2_000..3_000).contains(&first), "first timeout {first} ms");
    for (i, g) in gaps.iter().enumerate() {
        assert_eq!(*g, first << i, "gap {i}");
    }
    let span = failed - attempts[0].0;
    assert!(span <= 93_000, "gave up after {span} ms, MAX_TRANSMIT_WAIT is 93 s");
    assert!(span >= 45_000, "gave up after only {span} ms");
}

/// RFC 7252 §4.5: a duplicated CON request is answered again but executed once.
#[test]
fn duplicate_requests_are_answered_once() {
    let mut w = World::new(11, 300);
    w.bootstrap_and_register();
    // Execute Reboot; the network duplicates the request.
    w.down.duplicate_next(1);
    let h = w.dm.execute("/3/0/4", None);
    w.pump();
    assert_eq!(w.dm.response(h).unwrap().code, Code::CHANGED);
    let reboots = w.event_list().iter().filter(|e| **e == Event::Reboot).count();
    assert_eq!(reboots, 1, "executed twice");
    // Both copies were answered, with identical bytes.
    let acks: Vec<Vec<u8>> = w
        .wire
        .iter()
        .filter(|x| x.to_server && x.target == Target::Management)
        .filter_map(|x| {
            let r = Received::parse(&x.bytes).unwrap();
            (r.mtype == MsgType::Ack && r.code == Code::CHANGED).then(|| x.bytes.clone())
        })
        .collect();
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0], acks[1]);
}

/// RFC 7959 §2.4: a representation larger than one block is read block-wise.
#[test]
fn blockwise_read_of_a_large_resource() {
    let mut w = World::new(12, 300);
    w.bootstrap_and_register();
    // Fill /3/0 with long strings and many error codes so its TLV exceeds one 512-byte block.
    let now = w.instant();
    w.engine.with_registry(now, |r| {
        r.device.device_type_set(&"D".repeat(30)).unwrap();
        r.device.hardware_version_set(&"H".repeat(30)).unwrap();
        r.device.software_version_set(&"S".repeat(30)).unwrap();
        r.device.manufacturer_set(&"M".repeat(30)).unwrap();
        r.device.model_number_set(&"N".repeat(30)).unwrap();
        r.device.serial_number_set(&"X".repeat(30)).unwrap();
        for c in 1..=8 {
            r.device.error_code_add(c).unwrap();
        }
    });
    w.dm.set_block2_size(Some(64));
    let h = w.dm.read("/3/0", Some(cf::TLV));
    w.pump();
    let resp = w.dm.response(h).unwrap();
    assert_eq!(resp.code, Code::CONTENT);
    assert!(resp.block2_count > 3, "only {} blocks", resp.block2_count);
    let nodes = tlv::decode(&resp.payload).unwrap();
    let res = |id: u16| nodes.iter().find(|n| n.id == id).unwrap();
    assert_eq!(res(17).as_str().unwrap(), "D".repeat(30));
    assert_eq!(res(11).children.len(), 8);

    // The same read without asking for blocks: the engine splits on its own at 512 bytes only
    // when needed; this payload fits, so it comes whole.
    w.dm.set_block2_size(None);
    let h = w.dm.read("/3/0", Some(cf::TLV));
    w.pump();
    let whole = w.dm.response(h).unwrap();
    assert_eq!(whole.payload, resp.payload);
}

/// RFC 7959 §2.5: a Block1 write is reassembled and applied once, at the last block.
#[test]
fn blockwise_write() {
    let mut w = World::new(13, 300);
    w.bootstrap_and_register();
    w.dm.set_block1_size(16);
    let uri = "http://firmware.test/images/modem-1.2.3-to-1.2.4.delta.bin";
    let h = w.dm.write("/5/0/1", cf::TEXT, uri.as_bytes().to_vec());
    w.pump();
    let resp = w.dm.response(h).unwrap();
    assert_eq!(resp.code, Code::CHANGED, "{resp:?}");
    assert!(resp.request_count > 3);
    assert_eq!(w.engine.registry().firmware.package_uri(), uri);
    assert_eq!(w.event_list().iter().filter(|e| **e == Event::FirmwareUriWritten).count(), 1);
}

/// Bad input: each refused with the right code, and nothing changes.
#[test]
fn bad_requests_get_the_right_code_and_change_nothing() {
    let mut w = World::new(14, 300);
    w.bootstrap_and_register();
    let before = format!("{:?}", w.engine.registry());
    let cases: Vec<(lwm2m_testkit::RequestHandle, Code, &str)> = vec![
        (w.dm.read("/9/0", None), Code::NOT_FOUND, "unknown object"),
        (w.dm.read("/3/7", None), Code::NOT_FOUND, "unknown instance"),
        (w.dm.read("/0/0", None), Code::UNAUTHORIZED, "Security by a server"),
        (w.dm.read("/3/0", Some(9999)), Code::NOT_ACCEPTABLE, "unsupported Accept"),
        (
            w.dm.write("/3/0/13", 9999, b"1".to_vec()),
            Code::UNSUPPORTED_CONTENT_FORMAT,
            "bad format",
        ),
        (w.dm.write("/3/0/0", cf::TEXT, b"x".to_vec()), Code::METHOD_NOT_ALLOWED, "read-only"),
        (w.dm.write("/1/0", cf::TLV, vec![0xC8, 0x01]), Code::BAD_REQUEST, "truncated TLV"),
        (w.dm.write("/1/0/1", cf::TEXT, b"12x".to_vec()), Code::BAD_REQUEST, "not a number"),
        (w.dm.execute("/3/0/9", None), Code::METHOD_NOT_ALLOWED, "execute a value"),
        (w.dm.delete("/3/0"), Code::METHOD_NOT_ALLOWED, "delete the device"),
        (w.dm.write_attributes("/3/0/9", &["pmin=abc"]), Code::BAD_REQUEST, "bad attribute"),
        (w.dm.write_attributes("/3/0/9", &["foo=1"]), Code::BAD_REQUEST, "unknown attribute"),
    ];
    w.pump();
    for (h, code, what) in cases {
        let resp = w.dm.response(h).unwrap_or_else(|| panic!("no answer to {what}"));
        assert_eq!(resp.code, code, "{what}");
    }
    assert_eq!(format!("{:?}", w.engine.registry()), before, "state changed");
    assert!(w.engine.is_registered());
}

/// Malformed datagrams never reach the objects: an unparsable CON is reset, garbage dropped.
#[test]
fn malformed_datagrams_are_reset_or_dropped() {
    let mut w = World::new(15, 300);
    w.bootstrap_and_register();
    let conn = lwm2m_carrier_core::ConnId(0);
    let now = w.instant();
    // CON, TKL 9 (invalid), mid 0x1234.
    w.engine.handle_datagram(now, conn, &[0x49, 0x01, 0x12, 0x34]);
    let (_, rst) = w.engine.poll_transmit(now).expect("RST");
    assert_eq!(rst, &[0x70, 0x00, 0x12, 0x34]);
    for junk in [&[][..], &[0xff], &[0x40, 0x01], &[0x60, 0x45, 0, 1, 0xff]] {
        w.engine.handle_datagram(now, conn, junk);
        assert!(w.engine.poll_transmit(now).is_none(), "answered {junk:?}");
    }
    assert!(w.engine.is_registered());
}

/// A server that refuses registration: the failure is reported with its code.
#[test]
fn registration_refused() {
    let mut w = World::new(16, 300);
    w.dm.refuse_registration(Some(Code::FORBIDDEN));
    w.start();
    w.run_until_since(0, 60_000, |e| matches!(e, Event::RegistrationFailed { .. }));
    assert!(w.event_list().contains(&Event::RegistrationFailed {
        short_id: 102,
        failure: Failure::Rejected(lwm2m_carrier_core::coap::Code::FORBIDDEN)
    }));
}

/// A bootstrap server that never sends Bootstrap-Finish: bootstrap times out.
#[test]
fn bootstrap_without_finish_times_out() {
    let script = vec![lwm2m_testkit::BootstrapOp::delete_all()];
    let engine =
        lwm2m_carrier_core::Engine::new(support::config(), support::factory_registry(), 17);
    let mut w = World::with(engine, lwm2m_testkit::BootstrapServer::new(script));
    w.start();
    w.run_until_since(0, 400_000, |e| matches!(e, Event::BootstrapFailed(_)));
    assert_eq!(w.event_list(), [Event::BootstrapFailed(Failure::Protocol)]);
}

/// Bootstrap-Finish without a usable server account is refused with 4.06 (LwM2M 1.0 §5.2.7.3).
#[test]
fn bootstrap_finish_without_server_is_refused() {
    let script = vec![lwm2m_testkit::BootstrapOp::Finish];
    let engine =
        lwm2m_carrier_core::Engine::new(support::config(), support::factory_registry(), 18);
    let mut w = World::with(engine, lwm2m_testkit::BootstrapServer::new(script));
    w.start();
    w.advance(5_000);
    assert_eq!(w.bs.finish_code(), Some(Code::NOT_ACCEPTABLE));
    assert!(!w.event_list().contains(&Event::Bootstrapped));
}

/// A DTLS handshake failure is a connect failure of the right kind.
#[test]
fn connect_failures_are_reported() {
    let mut w = World::new(19, 300);
    w.refuse_connect.push(Target::Bootstrap);
    w.start();
    assert_eq!(w.event_list(), [Event::BootstrapFailed(Failure::Connect)]);
}

/// De-register on request (LwM2M 1.0 §5.3.3).
#[test]
fn deregister() {
    let mut w = World::new(20, 300);
    w.bootstrap_and_register();
    let now = w.instant();
    w.engine.deregister(now);
    w.pump();
    assert!(w.event_list().contains(&Event::Deregistered { short_id: 102 }));
    let last = w.requests_to_dm().pop().unwrap().1;
    assert_eq!(last.code, Code::DELETE);
    assert!(!w.dm.is_registered());
}

/// A separate response (empty ACK first, RFC 7252 §5.2.2) completes the exchange.
#[test]
fn separate_response_to_register() {
    let mut w = World::new(21, 300);
    w.dm.set_separate_responses(true);
    w.start();
    w.advance(5_000);
    assert!(!w.event_list().iter().any(|e| matches!(e, Event::Registered { .. })));
    for d in w.dm.release_separate_responses() {
        w.down.send(w.now, (0, d));
    }
    w.pump();
    assert!(w.event_list().contains(&Event::Registered { short_id: 102 }));
    // The CON separate response was acknowledged.
    let acks = w
        .sent_to(Target::Management)
        .into_iter()
        .filter(|(_, r)| r.mtype == MsgType::Ack && r.code == Code::EMPTY)
        .count();
    assert!(acks >= 1);
}

/// Loss, duplication and reordering over many seeds: the device always ends registered, and
/// an Execute is never carried out twice.
#[test]
fn lossy_links_over_many_seeds() {
    for seed in 0..40 {
        let mut w = World::new(100 + seed, 300);
        w.up = lwm2m_testkit::Link::new(seed).loss(0.2).duplication(0.1).jitter(300);
        w.down = lwm2m_testkit::Link::new(seed + 1000).loss(0.2).duplication(0.1).jitter(300);
        w.server_retransmit_ms = Some(2_500);
        w.start();
        // Retry after each failure, as the carrier layer does.
        let mut handled = 0;
        for _ in 0..200 {
            if w.engine.is_registered() {
                break;
            }
            w.advance(10_000);
            let failed = w.events[handled..].iter().any(|(_, e)| {
                matches!(e, Event::BootstrapFailed(_) | Event::RegistrationFailed { .. })
            });
            handled = w.events.len();
            if failed {
                let now = w.instant();
                w.engine.start(now);
            }
        }
        assert!(w.engine.is_registered(), "seed {seed}: never registered: {:?}", w.event_list());
        w.advance(2_000);
        let now = w.instant();
        let h = w.dm.execute("/3/0/4", None);
        w.advance(60_000);
        assert!(w.dm.response(h).is_some(), "seed {seed}: Execute never answered");
        let reboots = w.events.iter().filter(|(t, e)| *t >= now.as_millis() && *e == Event::Reboot);
        assert_eq!(reboots.count(), 1, "seed {seed}: Reboot not executed exactly once");
    }
}

/// A confirmable notification whose ACKs are lost while an Update comes due: the engine keeps
/// its deadlines in the future (no busy loop), gives the notification up after its
/// retransmissions, then sends the Update (found by the interop fault tests).
#[test]
fn update_due_while_notification_unacknowledged() {
    let mut w = World::new(30, 120);
    let t0 = w.bootstrap_and_register();
    let h = w.dm.write_attributes("/3/0/9", &["pmax=5"]);
    w.pump();
    assert_eq!(w.dm.response(h).unwrap().code, Code::CHANGED);
    let obs = w.dm.observe("/3/0/9", Some(cf::TEXT));
    w.pump();
    assert!(w.dm.response(obs).is_some());
    // From now on every empty ACK from the server is lost.
    w.down.drop_if(|(_, d)| d.len() == 4 && d[0] >> 4 == 0x6);
    w.advance_to(t0 + 300_000);
    let updates =
        w.requests_to_dm().iter().filter(|(t, r)| *t > t0 && r.code == Code::POST).count();
    assert!(updates >= 1, "no Update went out while notifications were stuck");
}

/// A server reusing a message id with a new token for a new request (lwm2m-node-lib does, well
/// within EXCHANGE_LIFETIME) gets an answer; a true duplicate (same id, same token) still gets
/// the cached reply without a second execution.
#[test]
fn reused_message_id_with_new_token_is_a_new_request() {
    use lwm2m_testkit::Msg;
    let mut w = World::new(31, 300);
    w.bootstrap_and_register();
    let now = w.instant();
    let conn = lwm2m_carrier_core::ConnId(0);
    let read = |token: &[u8]| {
        Msg::new(MsgType::Con, Code::GET, 0x4242, token).path("/3/0/9").accept(cf::TEXT).to_bytes()
    };
    let mut replies = Vec::new();
    for token in [&[1u8][..], &[1u8][..], &[2u8][..]] {
        w.engine.handle_datagram(now, conn, &read(token));
        while let Some((_, d)) = w.engine.poll_transmit(now) {
            replies.push(Received::parse(d).unwrap());
        }
    }
    assert_eq!(replies.len(), 3, "{replies:?}");
    assert_eq!(replies[0].token, replies[1].token, "the duplicate got another reply");
    assert_eq!(replies[2].token, [2], "the new request was not answered");
    assert!(replies.iter().all(|r| r.code == Code::CONTENT && r.mid == 0x4242));
}

/// lwm2m-node-lib answers Register with ONE Location-Path option `rd/1`: the client registers
/// and echoes the segment back unchanged in its Update (found by the interop tests).
#[test]
fn location_path_segment_with_a_slash_is_echoed() {
    use lwm2m_testkit::{opt, Msg};
    let mut w = World::new(32, 300);
    w.bootstrap_and_register();
    let registry = w.engine.registry().clone();
    let mut e = lwm2m_carrier_core::Engine::new(support::config(), registry, 33);
    let conn = lwm2m_carrier_core::ConnId(0);
    let t = |ms| lwm2m_carrier_core::coap::Instant::from_millis(ms);
    e.start(t(0));
    while e.poll_action(t(0)).is_some() {}
    e.handle_connected(t(0), conn);
    let register = Received::parse(e.poll_transmit(t(0)).unwrap().1).unwrap();
    assert_eq!(register.path_str(), "/rd");
    let ack = Msg::new(MsgType::Ack, Code::CREATED, register.mid, &register.token)
        .option(opt::LOCATION_PATH, b"rd/1")
        .to_bytes();
    e.handle_datagram(t(10), conn, &ack);
    let mut registered = false;
    while let Some(a) = e.poll_action(t(10)) {
        registered |= matches!(a, lwm2m_carrier_core::Action::Event(Event::Registered { .. }));
    }
    assert!(registered, "registration refused");
    e.handle_timeout(t(290_000));
    let update = Received::parse(e.poll_transmit(t(290_000)).unwrap().1).unwrap();
    assert_eq!(update.code, Code::POST);
    assert_eq!(update.path, ["rd/1"], "the segment was not echoed as sent");
}

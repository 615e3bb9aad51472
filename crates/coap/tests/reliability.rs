//! Retransmission backoff, message ids and duplicate detection (RFC 7252 §4.2, §4.4, §4.5, §4.8).

use lwm2m_coap::{
    DedupCache, Instant, MessageIds, Retransmission, RetransmitDecision, Rng, TransmissionParams,
};

const P: TransmissionParams = TransmissionParams::DEFAULT;

#[test]
fn rfc7252_s4_8_default_parameters() {
    assert_eq!(P.ack_timeout_ms, 2000);
    assert_eq!(P.ack_random_factor_pct, 150);
    assert_eq!(P.max_retransmit, 4);
    assert_eq!(P.max_transmit_span_ms(), 45_000);
    assert_eq!(P.max_transmit_wait_ms(), 93_000);
    assert_eq!(P.exchange_lifetime_ms(), 247_000);
    assert_eq!(P.non_lifetime_ms(), 145_000);
    assert_eq!(TransmissionParams::default(), P);
}

/// Drives one CON exchange that never gets an ACK, handling each timeout exactly on time.
/// Returns the deadlines seen and the instant of GiveUp.
fn run(seed: u64, start: Instant) -> (Vec<Instant>, Instant) {
    let mut rng = Rng::new(seed);
    let mut r = Retransmission::start(start, &P, &mut rng);
    let mut deadlines = vec![r.deadline()];
    loop {
        let now = r.deadline();
        match r.on_timeout(now, &P) {
            RetransmitDecision::Resend => deadlines.push(r.deadline()),
            RetransmitDecision::GiveUp => return (deadlines, now),
        }
        assert!(deadlines.len() <= 5, "too many retransmissions");
    }
}

#[test]
fn rfc7252_s4_2_backoff_sequence_fixed_seed() {
    let t0 = Instant::from_millis(10_000);
    let (deadlines, gave_up) = run(42, t0);
    // 1 initial timeout + 4 retransmissions, then GiveUp when the 5th timeout expires.
    assert_eq!(deadlines.len(), 5);
    let first = deadlines[0].saturating_since(t0);
    assert!((2000..3000).contains(&first), "initial timeout {first}");
    let mut prev = t0;
    let mut expect = first;
    for d in &deadlines {
        assert_eq!(d.saturating_since(prev), expect, "timeout doubles");
        prev = *d;
        expect *= 2;
    }
    assert_eq!(gave_up, *deadlines.last().unwrap());
    let total = gave_up.saturating_since(t0);
    assert_eq!(total, first * 31);
    assert!(total < P.max_transmit_wait_ms());
    // Same seed, same schedule.
    assert_eq!(run(42, t0).0, deadlines);
}

#[test]
fn rfc7252_s4_2_backoff_bounds_many_seeds() {
    let mut min = u64::MAX;
    let mut max = 0;
    for seed in 0..2000 {
        let t0 = Instant::from_millis(seed * 7);
        let (deadlines, gave_up) = run(seed, t0);
        assert_eq!(deadlines.len(), 5);
        let first = deadlines[0].saturating_since(t0);
        assert!((2000..3000).contains(&first));
        // Last retransmission within MAX_TRANSMIT_SPAN, give-up within MAX_TRANSMIT_WAIT.
        assert!(deadlines[3].saturating_since(t0) <= P.max_transmit_span_ms());
        assert!(gave_up.saturating_since(t0) <= P.max_transmit_wait_ms());
        min = min.min(first);
        max = max.max(first);
    }
    // The jitter actually spans the interval.
    assert!(min < 2050 && max > 2950, "{min}..{max}");
}

#[test]
fn retransmission_counts_attempts_and_restarts_from_now() {
    let mut rng = Rng::new(7);
    let mut r = Retransmission::start(Instant(0), &P, &mut rng);
    assert_eq!(r.attempts(), 0);
    let t = r.timeout_ms();
    // Handled late: the next deadline counts from when it was actually resent.
    assert_eq!(r.on_timeout(Instant(10_000), &P), RetransmitDecision::Resend);
    assert_eq!(r.attempts(), 1);
    assert_eq!(r.deadline(), Instant(10_000 + 2 * t));
    for n in 2..=4 {
        assert_eq!(r.on_timeout(r.deadline(), &P), RetransmitDecision::Resend);
        assert_eq!(r.attempts(), n);
    }
    assert_eq!(r.on_timeout(r.deadline(), &P), RetransmitDecision::GiveUp);
    assert_eq!(r.on_timeout(r.deadline(), &P), RetransmitDecision::GiveUp);
    assert_eq!(r.attempts(), 4);

    // No jitter when the random factor is 1.0; no retransmission when MAX_RETRANSMIT is 0.
    let flat =
        TransmissionParams { ack_timeout_ms: 1000, ack_random_factor_pct: 100, max_retransmit: 0 };
    let mut r = Retransmission::start(Instant(5), &flat, &mut rng);
    assert_eq!(r.deadline(), Instant(1005));
    assert_eq!(r.on_timeout(Instant(1005), &flat), RetransmitDecision::GiveUp);
}

#[test]
fn rfc7252_s4_4_message_ids_wrap() {
    let mut ids = MessageIds::new(65534);
    assert_eq!(ids.next(), 65534);
    assert_eq!(ids.next(), 65535);
    assert_eq!(ids.next(), 0);
    assert_eq!(ids.next(), 1);
}

#[test]
fn rfc7252_s4_5_dedup_detects_duplicates_per_peer() {
    let mut c: DedupCache<4> = DedupCache::new();
    let t = Instant(1000);
    assert!(!c.seen(0, 100, t));
    assert!(c.seen(0, 100, t.add_ms(1)));
    assert!(!c.seen(1, 100, t), "other peer, same mid");
    assert!(!c.seen(0, 101, t));
    assert!(c.seen(1, 100, t.add_ms(5000)));
}

#[test]
fn rfc7252_s4_5_dedup_forgets_after_exchange_lifetime() {
    let mut c: DedupCache<4> = DedupCache::default();
    let t = Instant(0);
    assert!(!c.seen(0, 7, t));
    assert!(c.seen(0, 7, t.add_ms(246_999)));
    // The lifetime counts from the first copy, not from duplicates.
    assert!(!c.seen(0, 7, t.add_ms(247_000)));
    assert!(c.seen(0, 7, t.add_ms(247_001)));

    let mut c: DedupCache<2> = DedupCache::with_lifetime(10);
    assert!(!c.seen(3, 1, Instant(0)));
    assert!(!c.seen(3, 1, Instant(10)));
    c.clear();
    assert!(!c.seen(3, 1, Instant(11)));
}

#[test]
fn dedup_evicts_oldest_when_full() {
    let mut c: DedupCache<3> = DedupCache::new();
    assert!(!c.seen(0, 1, Instant(10)));
    assert!(!c.seen(0, 2, Instant(20)));
    assert!(!c.seen(0, 3, Instant(5))); // oldest by time, though inserted last
    assert!(!c.seen(0, 4, Instant(30))); // evicts mid 3
    assert!(c.seen(0, 1, Instant(31)));
    assert!(c.seen(0, 2, Instant(31)));
    assert!(c.seen(0, 4, Instant(31)));
    assert!(!c.seen(0, 3, Instant(32))); // forgotten; re-inserting evicts mid 1 (t=10)
    assert!(!c.seen(0, 1, Instant(33)));
    // Expired entries are reused before live ones are evicted.
    let mut c: DedupCache<2> = DedupCache::with_lifetime(100);
    assert!(!c.seen(0, 1, Instant(0)));
    assert!(!c.seen(0, 2, Instant(90)));
    assert!(!c.seen(0, 3, Instant(150))); // replaces expired mid 1
    assert!(c.seen(0, 2, Instant(151)));
}

#[test]
fn rng_is_deterministic_and_below_is_in_range() {
    let mut a = Rng::new(1);
    let mut b = Rng::new(1);
    for _ in 0..100 {
        assert_eq!(a.next_u64(), b.next_u64());
    }
    let mut c = Rng::new(2);
    assert_ne!(Rng::new(1).next_u64(), c.next_u64());
    let mut hist = [0u32; 10];
    for _ in 0..10_000 {
        let v = a.below(10);
        hist[v as usize] += 1;
    }
    assert!(hist.iter().all(|&h| (800..1200).contains(&h)), "{hist:?}");
    assert_eq!(a.below(0), 0);
    assert_eq!(a.below(1), 0);
}

#[test]
fn instant_arithmetic() {
    let t = Instant::from_millis(5);
    assert_eq!(t.add_ms(10).as_millis(), 15);
    assert_eq!(Instant(u64::MAX - 1).add_ms(10), Instant(u64::MAX));
    assert_eq!(Instant(15).saturating_since(t), 10);
    assert_eq!(t.saturating_since(Instant(15)), 0);
    assert!(Instant(1) < Instant(2));
}

#[test]
fn transmit_span_and_wait_follow_the_formula_for_every_max_retransmit() {
    // ACK_TIMEOUT * ACK_RANDOM_FACTOR * (2^n - 1), saturating, in whole milliseconds.
    let formula = |p: &TransmissionParams, n: u32| {
        let factor = 1u64.checked_shl(n).unwrap_or(u64::MAX).saturating_sub(1);
        u64::from(p.ack_timeout_ms)
            .saturating_mul(u64::from(p.ack_random_factor_pct))
            .saturating_mul(factor)
            / 100
    };
    for (ack_timeout_ms, ack_random_factor_pct) in [(2000, 150), (1, 1), (1, 100), (u32::MAX, 1)] {
        for max_retransmit in 0..=u8::MAX {
            let p = TransmissionParams { ack_timeout_ms, ack_random_factor_pct, max_retransmit };
            let n = u32::from(max_retransmit);
            assert_eq!(p.max_transmit_span_ms(), formula(&p, n), "{p:?}");
            assert_eq!(p.max_transmit_wait_ms(), formula(&p, n + 1), "{p:?}");
        }
    }
}

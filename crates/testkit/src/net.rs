//! A one-direction virtual network link with fault injection, driven by virtual time.
//!
//! Datagrams (any `Clone` type, normally `Vec<u8>`) are held in flight with a per-datagram
//! delivery time. Loss, duplication, jitter and reordering come from a seeded PRNG, so a
//! scenario with the same seed and the same sequence of calls behaves identically. Use two
//! links for the two directions.

use std::fmt;

/// Counters of what a [`Link`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams handed to `send`/`send_at`.
    pub sent: u64,
    /// Datagrams dropped (random loss, `drop_next`, `drop_if`).
    pub dropped: u64,
    /// Extra copies created by duplication.
    pub duplicated: u64,
    /// Datagrams returned by `deliver`.
    pub delivered: u64,
}

/// Small deterministic PRNG (SplitMix64).
#[derive(Clone, Debug)]
pub struct Prng(u64);

impl Prng {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Prng {
        Prng(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            self.next_u64()
        } else {
            self.next_u64() % (max + 1)
        }
    }
    /// True with probability `p` (0.0..=1.0).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

type DropPredicate<T> = Box<dyn FnMut(&T) -> bool>;

/// A virtual link. Times are milliseconds of the test's virtual clock.
pub struct Link<T = Vec<u8>> {
    rng: Prng,
    latency_ms: u64,
    jitter_ms: u64,
    loss: f64,
    duplicate: f64,
    reorder: f64,
    reorder_delay_ms: u64,
    drop_next: usize,
    duplicate_next: usize,
    delay_next: Vec<u64>,
    drop_if: Option<DropPredicate<T>>,
    in_flight: Vec<(u64, u64, T)>,
    seq: u64,
    stats: LinkStats,
}

impl<T> fmt::Debug for Link<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("latency_ms", &self.latency_ms)
            .field("jitter_ms", &self.jitter_ms)
            .field("loss", &self.loss)
            .field("duplicate", &self.duplicate)
            .field("reorder", &self.reorder)
            .field("in_flight", &self.in_flight.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<T: Clone> Link<T> {
    /// A perfect link: no latency, no faults.
    pub fn new(seed: u64) -> Link<T> {
        Link {
            rng: Prng::new(seed),
            latency_ms: 0,
            jitter_ms: 0,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay_ms: 0,
            drop_next: 0,
            duplicate_next: 0,
            delay_next: Vec::new(),
            drop_if: None,
            in_flight: Vec::new(),
            seq: 0,
            stats: LinkStats::default(),
        }
    }

    /// Fixed one-way latency.
    pub fn latency(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }
    /// Extra uniform random delay `0..=ms` per datagram (reorders datagrams sent close together).
    pub fn jitter(mut self, ms: u64) -> Self {
        self.jitter_ms = ms;
        self
    }
    /// Probability (0.0..=1.0) that a datagram is lost.
    pub fn loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }
    /// Probability that a datagram is delivered twice (the copy gets its own delay).
    pub fn duplication(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }
    /// Probability that a datagram is held back by an extra `delay_ms`, letting later ones
    /// overtake it.
    pub fn reordering(mut self, p: f64, delay_ms: u64) -> Self {
        self.reorder = p;
        self.reorder_delay_ms = delay_ms;
        self
    }

    /// Deterministically drop the next `n` datagrams sent.
    pub fn drop_next(&mut self, n: usize) {
        self.drop_next = n;
    }
    /// Deterministically duplicate the next `n` datagrams sent.
    pub fn duplicate_next(&mut self, n: usize) {
        self.duplicate_next = n;
    }
    /// Deterministically delay the next datagram sent by `extra_ms` (call again to queue more).
    pub fn delay_next(&mut self, extra_ms: u64) {
        self.delay_next.push(extra_ms);
    }
    /// Drop every datagram for which `pred` is true (e.g. every ACK); replaces a previous one.
    pub fn drop_if(&mut self, pred: impl FnMut(&T) -> bool + 'static) {
        self.drop_if = Some(Box::new(pred));
    }
    /// Removes the `drop_if` predicate.
    pub fn clear_drop_if(&mut self) {
        self.drop_if = None;
    }

    /// Puts a datagram on the link at virtual time `now`, applying the configured faults.
    pub fn send(&mut self, now: u64, datagram: T) {
        self.stats.sent += 1;
        if self.drop_next > 0 {
            self.drop_next -= 1;
            self.stats.dropped += 1;
            return;
        }
        if self.drop_if.as_mut().is_some_and(|p| p(&datagram)) {
            self.stats.dropped += 1;
            return;
        }
        if self.rng.chance(self.loss) {
            self.stats.dropped += 1;
            return;
        }
        let extra = if self.delay_next.is_empty() { 0 } else { self.delay_next.remove(0) };
        let copies = if self.duplicate_next > 0 {
            self.duplicate_next -= 1;
            2
        } else if self.rng.chance(self.duplicate) {
            2
        } else {
            1
        };
        self.stats.duplicated += copies - 1;
        for _ in 0..copies {
            let mut at = now + self.latency_ms + extra + self.rng.up_to(self.jitter_ms);
            if self.rng.chance(self.reorder) {
                at += self.reorder_delay_ms;
            }
            self.push(at, datagram.clone());
        }
    }

    /// Puts a datagram on the link with an explicit delivery time, bypassing all faults.
    pub fn send_at(&mut self, deliver_at: u64, datagram: T) {
        self.stats.sent += 1;
        self.push(deliver_at, datagram);
    }

    fn push(&mut self, at: u64, d: T) {
        self.in_flight.push((at, self.seq, d));
        self.seq += 1;
    }

    /// Removes and returns every datagram due at or before `now`, by delivery time (ties in
    /// sending order).
    pub fn deliver(&mut self, now: u64) -> Vec<T> {
        self.in_flight.sort_by_key(|&(at, seq, _)| (at, seq));
        let due = self.in_flight.iter().take_while(|(at, _, _)| *at <= now).count();
        let out: Vec<T> = self.in_flight.drain(..due).map(|(_, _, d)| d).collect();
        self.stats.delivered += out.len() as u64;
        out
    }

    /// The earliest delivery time in flight.
    pub fn next_delivery(&self) -> Option<u64> {
        self.in_flight.iter().map(|(at, _, _)| *at).min()
    }
    /// Number of datagrams in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
    /// Drops everything in flight (e.g. a radio outage); returns how many were dropped.
    pub fn flush(&mut self) -> usize {
        let n = self.in_flight.len();
        self.in_flight.clear();
        self.stats.dropped += n as u64;
        n
    }
    /// Counters.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_link_delivers_in_order_after_latency() {
        let mut l: Link = Link::new(1).latency(100);
        l.send(0, vec![1]);
        l.send(10, vec![2]);
        assert_eq!(l.deliver(99), Vec::<Vec<u8>>::new());
        assert_eq!(l.next_delivery(), Some(100));
        assert_eq!(l.deliver(110), vec![vec![1], vec![2]]);
        assert_eq!(l.in_flight(), 0);
        assert_eq!(l.stats().delivered, 2);
    }

    #[test]
    fn deterministic_faults() {
        let mut l: Link = Link::new(7);
        l.drop_next(1);
        l.duplicate_next(1);
        l.send(0, vec![1]);
        l.send(0, vec![2]);
        l.delay_next(50);
        l.send(0, vec![3]);
        l.send(0, vec![4]);
        assert_eq!(l.deliver(0), vec![vec![2], vec![2], vec![4]]);
        assert_eq!(l.deliver(50), vec![vec![3]]);
        l.drop_if(|d: &Vec<u8>| d.first() == Some(&9));
        l.send(60, vec![9]);
        l.send_at(70, vec![9]);
        assert_eq!(l.deliver(100), vec![vec![9]]);
        let s = l.stats();
        assert_eq!((s.sent, s.dropped, s.duplicated, s.delivered), (6, 2, 1, 5));
    }

    #[test]
    fn seeded_loss_is_reproducible_and_roughly_right() {
        let run = |seed| {
            let mut l: Link<u32> = Link::new(seed).loss(0.3).jitter(20).duplication(0.1);
            for i in 0..1000 {
                l.send(u64::from(i), i);
            }
            l.deliver(u64::MAX)
        };
        let a = run(42);
        assert_eq!(a, run(42));
        assert_ne!(a, run(43));
        // 70% survive, 10% of those duplicated: about 770.
        assert!((680..860).contains(&a.len()), "{}", a.len());
        // jitter reorders some datagrams
        assert!(a.windows(2).any(|w| w[0] > w[1]));
    }

    #[test]
    fn reordering_holds_back() {
        let mut l: Link<u8> = Link::new(3).reordering(1.0, 500);
        l.send(0, 1);
        assert_eq!(l.deliver(499), vec![]);
        assert_eq!(l.deliver(500), vec![1]);
        assert_eq!(l.flush(), 0);
    }
}

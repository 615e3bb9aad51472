//! Message-layer reliability (RFC 7252 §4.2, §4.4, §4.5, §4.8).

use crate::{div_rem_u64, Instant, Rng};

/// Transmission parameters (RFC 7252 §4.8). `DEFAULT` holds the RFC values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransmissionParams {
    pub ack_timeout_ms: u32,
    /// ACK_RANDOM_FACTOR in percent (150 = 1.5), integer so no floats are needed.
    pub ack_random_factor_pct: u32,
    pub max_retransmit: u8,
}

/// MAX_LATENCY (§4.8.2): 100 s.
const MAX_LATENCY_MS: u64 = 100_000;

impl TransmissionParams {
    /// ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4.
    pub const DEFAULT: TransmissionParams =
        TransmissionParams { ack_timeout_ms: 2000, ack_random_factor_pct: 150, max_retransmit: 4 };

    /// ACK_TIMEOUT * ACK_RANDOM_FACTOR * (2^n - 1).
    fn scaled(&self, n: u32) -> u64 {
        // 2^n - 1, saturating, one bit at a time: a variable 64-bit shift would link
        // __aeabi_llsl. (Saturating at u64::MAX rather than u64::MAX - 1 gives the same result
        // once divided by 100.)
        let mut factor = 0u64;
        for _ in 0..n {
            factor = factor.checked_mul(2).map_or(u64::MAX, |f| f | 1);
        }
        let scaled = u64::from(self.ack_timeout_ms)
            .saturating_mul(u64::from(self.ack_random_factor_pct))
            .saturating_mul(factor);
        div_rem_u64(scaled, 100).0
    }

    /// MAX_TRANSMIT_SPAN (§4.8.2): 45 s with the defaults.
    pub fn max_transmit_span_ms(&self) -> u64 {
        self.scaled(u32::from(self.max_retransmit))
    }

    /// MAX_TRANSMIT_WAIT (§4.8.2): 93 s with the defaults. A CON exchange gives up within this.
    pub fn max_transmit_wait_ms(&self) -> u64 {
        self.scaled(u32::from(self.max_retransmit) + 1)
    }

    /// EXCHANGE_LIFETIME (§4.8.2): span + 2 * MAX_LATENCY + PROCESSING_DELAY; 247 s by default.
    /// How long a message id must not be reused and how long duplicates are remembered.
    pub fn exchange_lifetime_ms(&self) -> u64 {
        self.max_transmit_span_ms()
            .saturating_add(2 * MAX_LATENCY_MS)
            .saturating_add(u64::from(self.ack_timeout_ms))
    }

    /// NON_LIFETIME (§4.8.2): span + MAX_LATENCY; 145 s by default.
    pub fn non_lifetime_ms(&self) -> u64 {
        self.max_transmit_span_ms().saturating_add(MAX_LATENCY_MS)
    }
}

impl Default for TransmissionParams {
    fn default() -> Self {
        TransmissionParams::DEFAULT
    }
}

/// What to do when a CON message's retransmission deadline passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetransmitDecision {
    /// Send the message again; the new deadline is in [`Retransmission::deadline`].
    Resend,
    /// MAX_RETRANSMIT reached and the last timeout expired: the exchange failed.
    GiveUp,
}

/// Exponential backoff state of one outstanding CON message (§4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retransmission {
    deadline: Instant,
    timeout_ms: u64,
    attempts: u8,
}

impl Retransmission {
    /// Starts timing a CON sent at `now`: the first timeout is uniform in
    /// [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR).
    pub fn start(now: Instant, params: &TransmissionParams, rng: &mut Rng) -> Retransmission {
        let base = params.ack_timeout_ms;
        let spread = u64::from(base)
            .saturating_mul(u64::from(params.ack_random_factor_pct.saturating_sub(100)));
        let spread = div_rem_u64(spread, 100).0;
        let jitter = rng.below(u32::try_from(spread).unwrap_or(u32::MAX));
        let timeout_ms = u64::from(base) + u64::from(jitter);
        Retransmission { deadline: now.add_ms(timeout_ms), timeout_ms, attempts: 0 }
    }

    /// When [`on_timeout`](Self::on_timeout) is due.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Call once `now >= deadline()`. Either the message is to be resent (timeout doubled,
    /// new deadline from `now`) or, after MAX_RETRANSMIT resends, the exchange is given up.
    pub fn on_timeout(&mut self, now: Instant, params: &TransmissionParams) -> RetransmitDecision {
        if self.attempts >= params.max_retransmit {
            return RetransmitDecision::GiveUp;
        }
        self.attempts += 1;
        self.timeout_ms = self.timeout_ms.saturating_mul(2);
        self.deadline = now.add_ms(self.timeout_ms);
        RetransmitDecision::Resend
    }

    /// Retransmissions so far (0 right after `start`).
    pub fn attempts(&self) -> u8 {
        self.attempts
    }

    /// The current timeout length.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }
}

/// Message-id generator (§4.4): sequential from a random start, wrapping at 65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageIds(pub u16);

impl MessageIds {
    /// Starts at `seed` (pass a random value so ids differ across reboots).
    pub const fn new(seed: u16) -> MessageIds {
        MessageIds(seed)
    }

    /// The next id.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u16 {
        let id = self.0;
        self.0 = id.wrapping_add(1);
        id
    }
}

/// One remembered (peer, message id) and when it is forgotten. `expires` is an `Instant` split
/// in two `u32` halves so that an entry takes 12 bytes instead of 24 (a `u64` would align it to
/// 8 and `Option` add 8 more); `used` stands for the `Option`. Keeping the expiry rather than the
/// arrival makes "still remembered" one comparison (time is monotonic and the lifetime fixed,
/// so the order of expiries is the order of arrivals).
#[derive(Clone, Copy, Debug)]
struct Seen {
    expires: [u32; 2],
    mid: u16,
    peer: u8,
    used: bool,
}

impl Seen {
    const EMPTY: Seen = Seen { expires: [0; 2], mid: 0, peer: 0, used: false };

    fn expires(&self) -> u64 {
        u64::from(self.expires[0]) | u64::from(self.expires[1]) << 32
    }
}

/// Remembers recently received (peer, message id) pairs to detect duplicates (§4.5) for
/// EXCHANGE_LIFETIME. When full, the oldest entry is evicted.
#[derive(Clone, Debug)]
pub struct DedupCache<const N: usize> {
    entries: [Seen; N],
    lifetime_ms: u64,
}

impl<const N: usize> DedupCache<N> {
    /// Empty cache with the default EXCHANGE_LIFETIME (247 s).
    pub fn new() -> Self {
        Self::with_lifetime(TransmissionParams::DEFAULT.exchange_lifetime_ms())
    }

    /// Empty cache forgetting entries after `lifetime_ms`.
    pub fn with_lifetime(lifetime_ms: u64) -> Self {
        DedupCache { entries: [Seen::EMPTY; N], lifetime_ms }
    }

    /// Records (peer, mid) at `now`; true if it was already seen within the lifetime.
    /// A duplicate does not refresh its entry: the lifetime counts from the first copy.
    pub fn seen(&mut self, peer: u8, mid: u16, now: Instant) -> bool {
        let now = now.as_millis();
        let mut slot = None;
        let mut oldest: Option<(usize, u64)> = None;
        for (i, s) in self.entries.iter().enumerate() {
            let live = s.used && now < s.expires();
            if s.used && s.peer == peer && s.mid == mid {
                if live {
                    return true;
                }
                slot = Some(i);
            } else if live {
                if oldest.map_or(true, |(_, e)| s.expires() < e) {
                    oldest = Some((i, s.expires()));
                }
            } else if slot.is_none() {
                slot = Some(i);
            }
        }
        if let Some(e) = slot.or(oldest.map(|(i, _)| i)).and_then(|i| self.entries.get_mut(i)) {
            let expires = now.saturating_add(self.lifetime_ms);
            *e = Seen { expires: [expires as u32, (expires >> 32) as u32], mid, peer, used: true };
        }
        false
    }

    /// Forgets everything (e.g. on a new DTLS session).
    pub fn clear(&mut self) {
        self.entries = [Seen::EMPTY; N];
    }
}

impl<const N: usize> Default for DedupCache<N> {
    fn default() -> Self {
        Self::new()
    }
}

//! Time as plain milliseconds: the core never reads a clock, callers pass `now`.

/// A point in time, in milliseconds since an arbitrary epoch (usually boot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Instant {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The instant `ms` later; saturates instead of wrapping so a huge timeout means "never".
    /// Out of line: a 64-bit saturating add is larger than the call, and there are many callers.
    #[inline(never)]
    pub const fn add_ms(self, ms: u64) -> Instant {
        Instant(self.0.saturating_add(ms))
    }

    /// The instant `s` seconds later (saturating, like [`Instant::add_ms`]).
    #[inline(never)]
    pub const fn add_secs(self, s: u32) -> Instant {
        self.add_ms(s as u64 * 1000)
    }

    /// Milliseconds elapsed since `earlier`, or 0 if `earlier` is in the future.
    pub const fn saturating_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// `v / d` and `v % d` with 32-bit divisions only: a `u64` division links `__aeabi_uldivmod`
/// (close to 1 KB on Cortex-M, which divides 32-bit values in hardware). Long division in a
/// 32-bit and two 16-bit steps; each partial dividend is below `d << 16`, so each partial
/// quotient fits its 16 bits. Panics when `d` is 0, like `/`.
pub const fn div_rem_u64(v: u64, d: u16) -> (u64, u32) {
    let d = d as u32;
    let hi = (v >> 32) as u32;
    let lo = v as u32;
    let mid = ((hi % d) << 16) | (lo >> 16);
    let low = ((mid % d) << 16) | (lo & 0xFFFF);
    let q_lo = ((mid / d) << 16) | (low / d);
    (((hi / d) as u64) << 32 | q_lo as u64, low % d)
}

#[cfg(test)]
mod tests {
    use super::div_rem_u64;

    #[test]
    fn div_rem_u64_matches_u64_division() {
        let values = [0, 1, 99, 100, 999, 1000, 1001, 65_535, 65_536, 4_294_967_295, 4_294_967_296];
        let more = [123_456_789_012_345, u64::MAX / 3, u64::MAX - 1, u64::MAX];
        for v in values.into_iter().chain(more) {
            for d in [1u16, 2, 3, 10, 100, 1000, 65_535] {
                let (q, r) = div_rem_u64(v, d);
                assert_eq!((q, u64::from(r)), (v / u64::from(d), v % u64::from(d)), "{v} / {d}");
            }
        }
    }
}

//! When to try again after a failure: the schedule the carrier library follows in the field.
//! Connection failures: 2, 4, 6, 8 minutes, then once a day. PDN activation: 2 s, 1 min,
//! 30 min, then every 30 min.

/// Delays after consecutive server connection/registration failures, in seconds.
const CONNECTION_S: [u32; 4] = [120, 240, 360, 480];
/// Delay once the short retries are used up.
pub const DAILY_S: u32 = 24 * 60 * 60;
/// Delays after consecutive PDN activation failures, in seconds.
const PDN_S: [u32; 3] = [2, 60, 30 * 60];

/// Counts consecutive failures of one kind and tells how long to wait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u8,
}

impl Backoff {
    pub const fn new() -> Backoff {
        Backoff { failures: 0 }
    }

    /// Records a failure; returns the delay before the next attempt, in seconds.
    pub fn connection_failed(&mut self) -> u32 {
        let delay = CONNECTION_S.get(usize::from(self.failures)).copied().unwrap_or(DAILY_S);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Records a PDN activation failure; returns the delay in seconds.
    pub fn pdn_failed(&mut self) -> u32 {
        let last = PDN_S.len() - 1;
        let delay = PDN_S.get(usize::from(self.failures)).copied().unwrap_or(PDN_S[last]);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Success: the next failure starts the schedule over.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u8 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_schedule() {
        let mut b = Backoff::new();
        let delays: [u32; 7] = core::array::from_fn(|_| b.connection_failed());
        assert_eq!(delays, [120, 240, 360, 480, DAILY_S, DAILY_S, DAILY_S]);
        b.reset();
        assert_eq!(b.connection_failed(), 120);
    }

    #[test]
    fn pdn_schedule() {
        let mut b = Backoff::new();
        let delays: [u32; 5] = core::array::from_fn(|_| b.pdn_failed());
        assert_eq!(delays, [2, 60, 1800, 1800, 1800]);
    }

    #[test]
    fn counter_saturates() {
        let mut b = Backoff::new();
        for _ in 0..1000 {
            b.connection_failed();
        }
        assert_eq!(b.failures(), u8::MAX);
        assert_eq!(b.connection_failed(), DAILY_S);
    }
}

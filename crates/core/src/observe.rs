//! Observations (RFC 7641, LwM2M 1.0 §5.5) and the notification rule: when a change is worth a
//! notification given pmin, pmax, gt, lt and st.

use lwm2m_coap::{Instant, Token};
use lwm2m_formats::{Float, Path};

use crate::attributes::Attrs;
use crate::event::ConnId;

/// Observe sequence numbers are 24 bits on the wire (RFC 7641 §3.4).
const SEQ_MASK: u32 = 0x00ff_ffff;

/// One server's observation of one path.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub conn: ConnId,
    pub short_id: u16,
    pub token: Token,
    pub path: Path,
    /// Content format asked for with Accept, reused for every notification.
    pub accept: Option<u16>,
    /// Last Observe value sent.
    pub seq: u32,
    pub last_sent: Instant,
    /// Hash of the payload last sent: change detection without a copy.
    pub last_hash: u32,
    /// Numeric value last sent, for gt/lt/st.
    pub last_value: Option<Float>,
    /// Something under the path changed since the last check.
    pub dirty: bool,
    /// A notification is decided and waits for its turn to be sent.
    pub pending: bool,
}

impl Observation {
    /// The next Observe value, 24-bit wrapping.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = (self.seq + 1) & SEQ_MASK;
        self.seq
    }

    /// True when a change at `changed` may alter what this observation reports.
    pub fn overlaps(&self, changed: &Path) -> bool {
        self.path.starts_with(changed) || changed.starts_with(&self.path)
    }
}

fn secs_to_ms(s: u32) -> u64 {
    u64::from(s) * 1000
}

/// pmax applies only when it is positive and not below pmin (LwM2M 1.0 §5.1.2).
fn effective_pmax(attrs: &Attrs) -> Option<u32> {
    attrs.pmax().filter(|&pmax| pmax > 0 && pmax >= attrs.pmin().unwrap_or(0))
}

/// Whether to notify now, `since_last_ms` after the previous notification.
/// `changed` says the rendered value differs from the one last sent; `last`/`current` are the
/// numeric values (when the path is a numeric resource) for gt/lt/st.
pub fn should_notify(
    attrs: &Attrs,
    since_last_ms: u64,
    changed: bool,
    last: Option<Float>,
    current: Option<Float>,
) -> bool {
    if effective_pmax(attrs).is_some_and(|pmax| since_last_ms >= secs_to_ms(pmax)) {
        return true;
    }
    if !changed || since_last_ms < secs_to_ms(attrs.pmin().unwrap_or(0)) {
        return false;
    }
    match (attrs.has_float(), last, current) {
        (true, Some(prev), Some(now)) => {
            let crossed = |t: Float| (prev > t) != (now > t);
            attrs.gt().is_some_and(crossed)
                || attrs.lt().is_some_and(|t| (prev < t) != (now < t))
                || attrs.st().is_some_and(|st| (now - prev).abs() >= st)
        }
        _ => true,
    }
}

/// When `should_notify` can next turn true without new input: at pmax, or at pmin for a
/// pending change.
pub fn next_check(attrs: &Attrs, last_sent: Instant, dirty: bool) -> Option<Instant> {
    let pmax = effective_pmax(attrs).map(|p| last_sent.add_secs(p));
    let pmin = dirty.then(|| last_sent.add_secs(attrs.pmin().unwrap_or(0)));
    match (pmax, pmin) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::Attr;

    fn attrs(pmin: Option<u32>, pmax: Option<u32>) -> Attrs {
        Attrs::default().with_secs(Attr::Pmin, pmin).with_secs(Attr::Pmax, pmax)
    }

    #[test]
    fn pmin_holds_back_changes() {
        let a = attrs(Some(10), None);
        assert!(!should_notify(&a, 9_999, true, None, None));
        assert!(should_notify(&a, 10_000, true, None, None));
        assert!(!should_notify(&a, 50_000, false, None, None));
    }

    #[test]
    fn pmax_forces_a_notification() {
        let a = attrs(Some(10), Some(60));
        assert!(!should_notify(&a, 59_999, false, None, None));
        assert!(should_notify(&a, 60_000, false, None, None));
        // pmax below pmin is ignored.
        let bad = attrs(Some(60), Some(10));
        assert!(!should_notify(&bad, 30_000, false, None, None));
        // pmax 0 means none.
        assert!(!should_notify(&attrs(None, Some(0)), 1_000_000, false, None, None));
    }

    #[test]
    fn gt_lt_fire_on_crossing_only() {
        let a = Attrs::default().with_float(Attr::Gt, Some(50.0)).with_float(Attr::Lt, Some(10.0));
        assert!(should_notify(&a, 0, true, Some(40.0), Some(51.0)));
        assert!(should_notify(&a, 0, true, Some(51.0), Some(49.0)));
        assert!(!should_notify(&a, 0, true, Some(51.0), Some(60.0)));
        assert!(!should_notify(&a, 0, true, Some(20.0), Some(30.0)));
        assert!(should_notify(&a, 0, true, Some(20.0), Some(9.0)));
    }

    #[test]
    fn st_needs_a_big_enough_step() {
        let a = Attrs::default().with_float(Attr::St, Some(5.0));
        assert!(!should_notify(&a, 0, true, Some(20.0), Some(24.9)));
        assert!(should_notify(&a, 0, true, Some(20.0), Some(25.0)));
        assert!(should_notify(&a, 0, true, Some(20.0), Some(15.0)));
    }

    #[test]
    fn next_check_is_the_earlier_deadline() {
        let t0 = Instant::from_millis(1_000);
        let a = attrs(Some(10), Some(60));
        assert_eq!(next_check(&a, t0, false), Some(Instant::from_millis(61_000)));
        assert_eq!(next_check(&a, t0, true), Some(Instant::from_millis(11_000)));
        assert_eq!(next_check(&attrs(None, None), t0, false), None);
    }

    #[test]
    fn sequence_wraps_at_24_bits() {
        let mut o = Observation {
            conn: ConnId(0),
            short_id: 1,
            token: Token::EMPTY,
            path: Path::ROOT,
            accept: None,
            seq: SEQ_MASK,
            last_sent: Instant::from_millis(0),
            last_hash: 0,
            last_value: None,
            dirty: false,
            pending: false,
        };
        assert_eq!(o.next_seq(), 0);
        assert_eq!(o.next_seq(), 1);
    }
}

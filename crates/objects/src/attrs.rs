//! Notification attributes of one path (Write-Attributes, LwM2M 1.0 §5.1.2), as Discover shows
//! them and Observe applies them.
//!
//! Packed: a presence bit per attribute and its value as 32 bits (floats as their bits). One
//! loop then serves every attribute (inherit, store, render), where five `Option`s of two
//! types each needed their own code, and an entry takes 24 bytes instead of 40.

use lwm2m_formats::Float;

/// One notification attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr {
    /// Minimum period, s.
    Pmin,
    /// Maximum period, s.
    Pmax,
    /// Greater than.
    Gt,
    /// Less than.
    Lt,
    /// Step.
    St,
}

impl Attr {
    /// Every attribute, in the order Discover lists them.
    pub const ALL: [Attr; 5] = [Attr::Pmin, Attr::Pmax, Attr::Gt, Attr::Lt, Attr::St];

    /// Its name in a query or a link.
    pub fn name(self) -> &'static str {
        match self {
            Attr::Pmin => "pmin",
            Attr::Pmax => "pmax",
            Attr::Gt => "gt",
            Attr::Lt => "lt",
            Attr::St => "st",
        }
    }

    /// The attribute named `name`.
    pub fn from_name(name: &[u8]) -> Option<Attr> {
        // Compared byte by byte: `==` on slices links `memcmp` for these few short names.
        Attr::ALL.into_iter().find(|a| a.name().bytes().eq(name.iter().copied()))
    }

    /// gt, lt and st hold floats; pmin and pmax whole seconds.
    pub fn is_float(self) -> bool {
        self as u8 >= Attr::Gt as u8
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The bits of gt, lt and st.
const FLOAT_BITS: u8 = 0b1_1100;

/// Notification attributes of one path; unset ones are `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attrs {
    /// Bit `Attr as u8` set: that value is present.
    set: u8,
    /// Values by `Attr as u8`; zero when absent (so that `==` compares what is set).
    values: [u32; 5],
}

impl Attrs {
    /// The value of `a` as stored: seconds for pmin/pmax, float bits for gt/lt/st.
    pub fn raw(&self, a: Attr) -> Option<u32> {
        let v = self.values.get(a as usize).copied();
        v.filter(|_| self.set & a.bit() != 0)
    }

    /// Sets (or with `None` clears) `a` from its stored form (see [`Attrs::raw`]).
    pub fn set_raw(&mut self, a: Attr, v: Option<u32>) {
        if let Some(slot) = self.values.get_mut(a as usize) {
            *slot = v.unwrap_or(0);
            self.set &= !a.bit();
            if v.is_some() {
                self.set |= a.bit();
            }
        }
    }

    /// Sets (or clears) `a` to a whole number of seconds (pmin, pmax).
    pub fn with_secs(mut self, a: Attr, v: Option<u32>) -> Attrs {
        self.set_raw(a, v);
        self
    }

    /// Sets (or clears) `a` to a float (gt, lt, st).
    pub fn with_float(mut self, a: Attr, v: Option<Float>) -> Attrs {
        self.set_raw(a, v.map(Float::to_bits));
        self
    }

    /// Minimum period, s.
    pub fn pmin(&self) -> Option<u32> {
        self.raw(Attr::Pmin)
    }

    /// Maximum period, s.
    pub fn pmax(&self) -> Option<u32> {
        self.raw(Attr::Pmax)
    }

    /// Greater than.
    pub fn gt(&self) -> Option<Float> {
        self.raw(Attr::Gt).map(Float::from_bits)
    }

    /// Less than.
    pub fn lt(&self) -> Option<Float> {
        self.raw(Attr::Lt).map(Float::from_bits)
    }

    /// Step.
    pub fn st(&self) -> Option<Float> {
        self.raw(Attr::St).map(Float::from_bits)
    }

    /// Nothing set.
    pub fn is_empty(&self) -> bool {
        self.set == 0
    }

    /// gt, lt or st set.
    pub fn has_float(&self) -> bool {
        self.set & FLOAT_BITS != 0
    }

    /// Only pmin and pmax (gt/lt/st never apply above a resource).
    pub fn periods_only(self) -> Attrs {
        let [pmin, pmax, ..] = self.values;
        Attrs { set: self.set & !FLOAT_BITS, values: [pmin, pmax, 0, 0, 0] }
    }

    /// Fills what `self` leaves unset from `parent`.
    pub fn inherit(self, parent: &Attrs) -> Attrs {
        let mut a = self;
        for attr in Attr::ALL {
            if a.raw(attr).is_none() {
                a.set_raw(attr, parent.raw(attr));
            }
        }
        a
    }
}

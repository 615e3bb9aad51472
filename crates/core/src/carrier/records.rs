//! The byte format of persisted state, and how it survives power cuts.
//!
//! Each piece of state (bootstrap result, firmware-update state, ...) lives in two record slots,
//! A and B, inside the NVS id range 0xCA00-0xCAFF. A save writes the slot that does NOT hold the
//! current state, with a generation one higher and a CRC over everything. A load reads both and
//! takes the valid one with the newer generation. A cut during a save leaves the previous slot
//! intact, so the old state loads; after the save completes the new one does. This holds even on
//! storage whose single-record writes are not atomic (a torn write fails its CRC).
//!
//! Bodies are a sequence of tagged fields (`tag u8, len u16 BE, value`): a newer library reads an
//! older record by giving defaults to fields it does not find, and an older library skips tags
//! it does not know.

/// First and last record ids this library may use (documented for applications).
pub const RECORD_ID_FIRST: u16 = 0xCA00;
pub const RECORD_ID_LAST: u16 = 0xCAFF;

/// The two slots of one kind of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    pub a: u16,
    pub b: u16,
}

/// Bootstrap result: Security and Server objects.
pub const BOOTSTRAP: Slots = Slots { a: 0xCA10, b: 0xCA11 };
/// Firmware-update state (download offset, state, result).
pub const FIRMWARE: Slots = Slots { a: 0xCA20, b: 0xCA21 };
/// Registration state (to send an Update instead of a Register after a reboot).
pub const REGISTRATION: Slots = Slots { a: 0xCA30, b: 0xCA31 };

const MAGIC: [u8; 2] = *b"LC";
/// Version of the header layout. Bodies version themselves through tags.
const HEADER_VERSION: u8 = 1;
/// magic(2) version(1) generation(4) body length(2) crc(4)
pub const HEADER_LEN: usize = 13;

/// Why a record was not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// Shorter than its header or its stated length.
    Truncated,
    /// Not one of ours, or a header version we do not know.
    BadHeader,
    /// CRC mismatch: a torn write or corrupted flash.
    BadCrc,
    /// The destination buffer is too small.
    Overflow,
}

/// CRC-32 (IEEE, reflected: the zlib/PNG one), shared with the firmware image check.
pub use lwm2m_fota::sink::crc32;

/// Wraps the body already written after the header room (`record[HEADER_LEN..]`, `body_len`
/// bytes) into a record of generation `generation`: the header goes in front of it, without a
/// copy of the body. Returns the record length.
pub fn seal(record: &mut [u8], generation: u32, body_len: usize) -> Result<usize, RecordError> {
    let len = u16::try_from(body_len).map_err(|_| RecordError::Overflow)?;
    let total = HEADER_LEN + body_len;
    let rec = record.get_mut(..total).ok_or(RecordError::Overflow)?;
    let (head, body) = rec.split_at_mut(HEADER_LEN);
    head[..2].copy_from_slice(&MAGIC);
    head[2] = HEADER_VERSION;
    head[3..7].copy_from_slice(&generation.to_be_bytes());
    head[7..9].copy_from_slice(&len.to_be_bytes());
    let mut crc_input = crc32(&head[..9]);
    crc_input ^= crc32(body);
    head[9..13].copy_from_slice(&crc_input.to_be_bytes());
    Ok(total)
}

/// Checks a record; returns its generation and body.
pub fn open(record: &[u8]) -> Result<(u32, &[u8]), RecordError> {
    // A fixed-size header: its fields are read without further length checks.
    let (head, rest) = record.split_first_chunk::<HEADER_LEN>().ok_or(RecordError::Truncated)?;
    if head[..2] != MAGIC || head[2] != HEADER_VERSION {
        return Err(RecordError::BadHeader);
    }
    let generation = u32::from_be_bytes([head[3], head[4], head[5], head[6]]);
    let len = usize::from(u16::from_be_bytes([head[7], head[8]]));
    let stored_crc = u32::from_be_bytes([head[9], head[10], head[11], head[12]]);
    let body = rest.get(..len).ok_or(RecordError::Truncated)?;
    let crc = crc32(&head[..9]) ^ crc32(body);
    if crc != stored_crc {
        return Err(RecordError::BadCrc);
    }
    Ok((generation, body))
}

/// True when generation `a` is newer than `b` (wrapping, like TCP sequence numbers).
pub fn newer(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

/// Which slot holds the current state, given what each slot read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Current {
    None,
    A { generation: u32 },
    B { generation: u32 },
}

impl Current {
    /// Picks the valid slot with the newer generation.
    pub fn pick(a: Option<u32>, b: Option<u32>) -> Current {
        match (a, b) {
            (Some(ga), Some(gb)) if newer(gb, ga) => Current::B { generation: gb },
            (Some(ga), _) => Current::A { generation: ga },
            (None, Some(gb)) => Current::B { generation: gb },
            (None, None) => Current::None,
        }
    }

    /// Where the next save goes and with which generation: always the other slot.
    pub fn next(self, slots: Slots) -> (u16, u32) {
        match self {
            Current::None => (slots.a, 1),
            Current::A { generation } => (slots.b, generation.wrapping_add(1)),
            Current::B { generation } => (slots.a, generation.wrapping_add(1)),
        }
    }
}

/// Saves the body already written after the header room of `record` (see [`seal`]) as the
/// next generation of `slots`: sealed in place, written to the slot that does NOT hold
/// `current`, and `current` moves to it only once the write succeeded. A failed or torn write
/// leaves `current` (and the record it names) as it was.
pub fn save<S: super::store::RecordStore>(
    store: &mut S,
    slots: Slots,
    current: &mut Current,
    record: &mut [u8],
    body_len: usize,
) -> Result<(), super::store::StoreError> {
    use super::store::StoreError;
    let (id, generation) = current.next(slots);
    let len = seal(record, generation, body_len).map_err(|e| match e {
        RecordError::Overflow => StoreError::TooLarge,
        _ => StoreError::Io,
    })?;
    store.write(id, record.get(..len).unwrap_or_default())?;
    *current = if id == slots.a { Current::A { generation } } else { Current::B { generation } };
    Ok(())
}

/// Writes tagged fields into a body. A field that does not fit marks the writer full (the
/// error comes out of [`FieldWriter::finish`]): one check per body instead of one per field.
#[derive(Debug)]
pub struct FieldWriter<'a> {
    out: &'a mut [u8],
    len: usize,
    full: bool,
}

impl<'a> FieldWriter<'a> {
    pub fn new(out: &'a mut [u8]) -> FieldWriter<'a> {
        FieldWriter { out, len: 0, full: false }
    }

    pub fn field(&mut self, tag: u8, value: &[u8]) {
        let n = u16::try_from(value.len()).ok();
        let end = self.len + 3 + value.len();
        match (n, self.out.get_mut(self.len..end)) {
            (Some(n), Some([t, hi, lo, dst @ ..])) if !self.full => {
                [*t, *hi, *lo] = [tag, (n >> 8) as u8, n as u8]; // length big-endian
                dst.copy_from_slice(value);
                self.len = end;
            }
            _ => self.full = true,
        }
    }

    pub fn u32(&mut self, tag: u8, v: u32) {
        self.field(tag, &v.to_be_bytes())
    }

    /// Starts a field whose value is the fields written until [`FieldWriter::end_group`] with
    /// the returned position (written in place: no scratch buffer and copy).
    pub fn begin_group(&mut self, tag: u8) -> usize {
        let start = self.len;
        self.field(tag, &[]); // its length is set by `end_group`
        start
    }

    /// Writes the length of the group that starts at `start` (everything written since its
    /// 3-byte header).
    pub fn end_group(&mut self, start: usize) {
        let n = u16::try_from(self.len.wrapping_sub(start + 3)).ok();
        match (n, self.out.get_mut(start + 1..start + 3)) {
            (Some(n), Some(dst)) if !self.full => dst.copy_from_slice(&n.to_be_bytes()),
            _ => self.full = true,
        }
    }

    /// The body length, or `Overflow` when a field did not fit.
    pub fn finish(&self) -> Result<usize, RecordError> {
        if self.full {
            Err(RecordError::Overflow)
        } else {
            Ok(self.len)
        }
    }
}

/// Iterates the tagged fields of a body; stops at the first malformed one (reported as an error).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a [u8]) -> Fields<'a> {
        Fields { rest: body }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u8, &'a [u8]), RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = self.rest.split_first_chunk::<3>().and_then(|(&[tag, hi, lo], after)| {
            let (value, rest) =
                after.split_at_checked(usize::from(u16::from_be_bytes([hi, lo])))?;
            Some((tag, value, rest))
        });
        match parsed {
            Some((tag, value, rest)) => {
                self.rest = rest;
                Some(Ok((tag, value)))
            }
            None => {
                self.rest = &[];
                Some(Err(RecordError::Truncated))
            }
        }
    }
}

/// Reads a big-endian u32 field value.
// Out of line: several record readers; inlined copies cost more than the call.
#[inline(never)]
pub fn field_u32(value: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(value).ok().map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn seal_open_round_trip_and_every_torn_prefix_fails() {
        let mut buf = [0u8; 64];
        buf[HEADER_LEN..HEADER_LEN + 5].copy_from_slice(b"hello");
        let n = seal(&mut buf, 7, 5).unwrap();
        assert_eq!(open(&buf[..n]), Ok((7, &b"hello"[..])));
        for cut in 0..n {
            assert!(open(&buf[..cut]).is_err(), "prefix {cut} accepted");
        }
        for i in 0..n {
            let mut bad = buf;
            bad[i] ^= 0x40;
            assert!(open(&bad[..n]).is_err(), "flip at {i} accepted");
        }
    }

    #[test]
    fn slot_choice_alternates_and_wraps() {
        assert_eq!(Current::pick(None, None).next(BOOTSTRAP), (0xCA10, 1));
        assert_eq!(Current::pick(Some(1), None).next(BOOTSTRAP), (0xCA11, 2));
        assert_eq!(Current::pick(Some(1), Some(2)).next(BOOTSTRAP), (0xCA10, 3));
        assert_eq!(Current::pick(Some(3), Some(2)).next(BOOTSTRAP), (0xCA11, 4));
        assert_eq!(Current::pick(None, Some(9)), Current::B { generation: 9 });
        // u32::MAX then 0: 0 is newer.
        assert_eq!(Current::pick(Some(u32::MAX), Some(0)), Current::B { generation: 0 });
    }

    #[test]
    fn fields_skip_unknown_and_stop_on_garbage() {
        let mut buf = [0u8; 32];
        let mut w = FieldWriter::new(&mut buf);
        w.u32(1, 42);
        w.field(200, b"future");
        assert_eq!(w.finish(), Ok(16));
        let body = buf[..16].to_vec();
        let fields: Vec<_> = Fields::new(&body).collect();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0], Ok((1, &42u32.to_be_bytes()[..])));
        let torn = &body[..body.len() - 1];
        let last = Fields::new(torn).last().unwrap();
        assert_eq!(last, Err(RecordError::Truncated));
    }

    #[test]
    fn all_slots_in_the_documented_range() {
        for s in [BOOTSTRAP, FIRMWARE, REGISTRATION] {
            for id in [s.a, s.b] {
                assert!((RECORD_ID_FIRST..=RECORD_ID_LAST).contains(&id));
            }
        }
    }
}

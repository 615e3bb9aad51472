//! Firmware update over the air, the carrier's part: the Firmware Update object's pull flow
//! (Package URI written, download, Update executed) on top of `lwm2m-fota`'s sans-IO download,
//! and the persisted firmware record that lets a download resume and a result be reported
//! after a reboot.

use lwm2m_formats::str_from_utf8;
use lwm2m_fota::download::Download;
use lwm2m_objects::firmware::{FwState, FW_URI_LEN};

use super::records::{field_u32, FieldWriter, Fields, RecordError};

pub use lwm2m_fota::download::{Action as FotaAction, ConnectErrorKind, Status};
pub use lwm2m_fota::{DfuError, DfuSink, FotaError};

/// Save the download offset after this many new bytes (flash wear against lost progress).
pub const SAVE_EVERY_BYTES: u32 = 32 * 1024;

/// The body of the firmware record.
pub const MAX_BODY: usize = FW_URI_LEN + 32;

const T_STATE: u8 = 1;
const T_RESULT: u8 = 2;
const T_URI: u8 = 3;
const T_OFFSET: u8 = 4;

/// What survives a reboot of a firmware update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwRecord<'a> {
    pub state: FwState,
    pub result: u8,
    /// In the record's body (no copy: the Firmware object takes it from there).
    pub uri: &'a str,
    /// Bytes of the image stored when last saved.
    pub offset: u32,
}

fn state_of(v: u32) -> FwState {
    match v {
        1 => FwState::Downloading,
        2 => FwState::Downloaded,
        3 => FwState::Updating,
        _ => FwState::Idle,
    }
}

impl<'a> FwRecord<'a> {
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, RecordError> {
        encode(self.state, self.result, self.uri, self.offset, out)
    }

    pub fn decode(body: &'a [u8]) -> Result<FwRecord<'a>, RecordError> {
        let mut r = FwRecord { state: FwState::Idle, result: 0, uri: "", offset: 0 };
        for f in Fields::new(body) {
            let (tag, v) = f?;
            let num = || field_u32(v).ok_or(RecordError::BadHeader);
            match tag {
                T_STATE => r.state = state_of(num()?),
                T_RESULT => r.result = u8::try_from(num()?).map_err(|_| RecordError::BadHeader)?,
                T_URI => {
                    r.uri = str_from_utf8(v).ok_or(RecordError::BadHeader)?;
                    if r.uri.len() > FW_URI_LEN {
                        return Err(RecordError::Overflow);
                    }
                }
                T_OFFSET => r.offset = num()?,
                _ => {} // from a newer library
            }
        }
        Ok(r)
    }
}

/// The download in progress, if any, and what to resume.
/// The body of a firmware record with these fields (what [`FwRecord::encode`] writes), without
/// a copy of the URI into a record first.
pub fn encode(
    state: FwState,
    result: u8,
    uri: &str,
    offset: u32,
    out: &mut [u8],
) -> Result<usize, RecordError> {
    let mut w = FieldWriter::new(out);
    w.u32(T_STATE, state as u32);
    w.u32(T_RESULT, u32::from(result));
    w.field(T_URI, uri.as_bytes());
    w.u32(T_OFFSET, offset);
    w.finish()
}

#[derive(Debug, Default)]
pub struct FotaJob {
    pub download: Option<Download>,
    /// Resume a download interrupted by a reboot once READY, from this offset.
    pub resume_from: Option<u32>,
    /// Bytes the port's DFU sink holds (told by the port at init).
    pub stored: u32,
    /// Offset last saved.
    pub saved_offset: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_and_torn_bodies() {
        let uri = "https://fw.example/modem-1.2.4.bin";
        let r = FwRecord { state: FwState::Downloading, result: 0, uri, offset: 65536 };
        let mut buf = [0u8; MAX_BODY];
        let n = r.encode(&mut buf).unwrap();
        assert_eq!(FwRecord::decode(&buf[..n]).unwrap(), r);
        for cut in 1..n {
            // A torn body either fails or decodes to a prefix of the fields: never panics.
            let _ = FwRecord::decode(&buf[..cut]);
        }
    }

    #[test]
    fn longest_uri_fits() {
        let uri = [b'u'; FW_URI_LEN + 1];
        let uri = core::str::from_utf8(&uri).unwrap();
        let r = FwRecord {
            state: FwState::Downloaded,
            result: 9,
            uri: &uri[..FW_URI_LEN],
            offset: u32::MAX,
        };
        let mut buf = [0u8; MAX_BODY];
        let n = r.encode(&mut buf).unwrap();
        assert_eq!(FwRecord::decode(&buf[..n]).unwrap(), r);
        // One byte more than the Firmware object holds: the record is refused, as before.
        let mut buf = [0u8; MAX_BODY + 1];
        let n = encode(r.state, r.result, uri, r.offset, &mut buf).unwrap();
        assert_eq!(FwRecord::decode(&buf[..n]), Err(RecordError::Overflow));
    }
}

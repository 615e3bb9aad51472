//! The firmware side of the simulated port: an HTTP/1.1 server with Range support (written here,
//! independent of the client's HTTP parser) and a DFU sink holding the image in memory.

use lwm2m_fota::{sink::check_image, DfuError, DfuSink};

/// Host name the simulated firmware server answers to.
pub const FW_HOST: &str = "fw.sim";

/// A firmware server's behaviour.
#[derive(Debug, Clone)]
pub struct FwServer {
    /// The image served at every path.
    pub image: Vec<u8>,
    /// Answer Range requests with 206 (false: 200 with the whole image, as servers that ignore
    /// Range do).
    pub honor_range: bool,
    /// Close the connection after this many body bytes in total (a lost connection), once.
    pub cut_after: Option<usize>,
    /// Every Range start requested, for assertions.
    pub range_starts: Vec<usize>,
    /// Body bytes served so far.
    pub served: usize,
}

impl FwServer {
    pub fn new(image: Vec<u8>) -> FwServer {
        FwServer { image, honor_range: true, cut_after: None, range_starts: Vec::new(), served: 0 }
    }

    /// The response to one request, and whether the connection closes after `body_budget`
    /// bytes of it.
    pub fn respond(&mut self, request: &[u8]) -> (Vec<u8>, bool) {
        let text = String::from_utf8_lossy(request);
        let range = text.lines().find_map(|l| {
            let v = l.strip_prefix("Range: bytes=").or_else(|| l.strip_prefix("range: bytes="))?;
            let (a, b) = v.trim().split_once('-')?;
            let a: usize = a.parse().ok()?;
            let b: Option<usize> = if b.is_empty() { None } else { b.parse().ok() };
            Some((a, b))
        });
        let total = self.image.len();
        let (status, start, end) = match range {
            Some((a, b)) if self.honor_range => {
                self.range_starts.push(a);
                if a >= total {
                    let head = format!(
                        "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\n\r\n"
                    );
                    return (head.into_bytes(), false);
                }
                let end = b.map_or(total - 1, |b| b.min(total - 1));
                (206, a, end)
            }
            _ => (200, 0, total - 1),
        };
        let body = &self.image[start..=end];
        let mut out = if status == 206 {
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{end}/{total}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
        } else {
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
        }
        .into_bytes();
        let mut cut = false;
        let mut body = body.to_vec();
        if let Some(limit) = self.cut_after {
            if self.served + body.len() > limit {
                body.truncate(limit.saturating_sub(self.served));
                self.cut_after = None;
                cut = true;
            }
        }
        self.served += body.len();
        out.extend_from_slice(&body);
        (out, cut)
    }
}

/// A DFU sink in memory, checking the CRC-32 trailer of the test image format.
#[derive(Debug, Clone, Default)]
pub struct VecSink {
    pub data: Vec<u8>,
    pub verified: bool,
    pub applied: bool,
    /// Make `apply` fail (an install error).
    pub fail_apply: bool,
}

impl DfuSink for VecSink {
    fn begin(&mut self, _total: Option<u32>, offset: u32) -> Result<(), DfuError> {
        if offset as usize > self.data.len() {
            return Err(DfuError::BadOffset);
        }
        self.data.truncate(offset as usize);
        self.verified = false;
        Ok(())
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), DfuError> {
        if offset as usize != self.data.len() {
            return Err(DfuError::BadOffset);
        }
        self.data.extend_from_slice(data);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), DfuError> {
        check_image(&self.data)?;
        self.verified = true;
        Ok(())
    }

    fn apply(&mut self) -> Result<(), DfuError> {
        if !self.verified || self.fail_apply {
            return Err(DfuError::NotReady);
        }
        self.applied = true;
        Ok(())
    }

    fn offset(&self) -> u32 {
        self.data.len() as u32
    }
}

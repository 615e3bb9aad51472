//! The in-process servers' own settings (ports and PSKs), kept in the simulator's state
//! directory. The device persists what the bootstrap gave it (the management server's
//! `coaps://127.0.0.1:PORT` and key), so a second run with the same state directory must find
//! the servers at the same ports with the same keys, or it would not go straight to READY.
//!
//! Format: `servers.conf`, one `key=value` per line (`bootstrap_port`, `management_port`,
//! `bootstrap_psk`, `management_psk`, keys in hex). Written with mode 0600 on Unix: it holds
//! secrets, like the device's own records beside it.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// File name inside the state directory.
pub const FILE_NAME: &str = "servers.conf";
/// Length of the generated keys.
pub const KEY_LEN: usize = 16;

/// Ports (0 = any free port, replaced by the bound one before saving) and keys.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub bootstrap_port: u16,
    pub management_port: u16,
    pub bootstrap_psk: Vec<u8>,
    pub management_psk: Vec<u8>,
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("bootstrap_port", &self.bootstrap_port)
            .field("management_port", &self.management_port)
            .field("bootstrap_psk", &"<redacted>")
            .field("management_psk", &"<redacted>")
            .finish()
    }
}

impl ServerSettings {
    /// Fresh random keys (OpenSSL's CSPRNG), any free ports.
    pub fn generate() -> io::Result<ServerSettings> {
        Ok(ServerSettings {
            bootstrap_port: 0,
            management_port: 0,
            bootstrap_psk: random_key()?,
            management_psk: random_key()?,
        })
    }

    /// Reads `dir/servers.conf`; `Ok(None)` when there is none yet.
    pub fn load(dir: &Path) -> io::Result<Option<ServerSettings>> {
        let text = match fs::read_to_string(dir.join(FILE_NAME)) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        ServerSettings::parse(&text).map(Some).map_err(|why| {
            io::Error::new(io::ErrorKind::InvalidData, format!("{FILE_NAME}: {why}"))
        })
    }

    /// Loads the settings of `dir`, or generates and saves new ones.
    pub fn load_or_generate(dir: &Path) -> io::Result<ServerSettings> {
        match ServerSettings::load(dir)? {
            Some(s) => Ok(s),
            None => ServerSettings::generate(),
        }
    }

    /// Writes `dir/servers.conf` atomically (temp file, rename).
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let tmp = dir.join(format!("{FILE_NAME}.tmp"));
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(self.to_text().as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, dir.join(FILE_NAME))
    }

    fn to_text(&self) -> String {
        format!(
            "bootstrap_port={}\nmanagement_port={}\nbootstrap_psk={}\nmanagement_psk={}\n",
            self.bootstrap_port,
            self.management_port,
            to_hex(&self.bootstrap_psk),
            to_hex(&self.management_psk)
        )
    }

    fn parse(text: &str) -> Result<ServerSettings, String> {
        let (mut bp, mut mp, mut bk, mut mk) = (None, None, None, None);
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (k, v) = line.split_once('=').ok_or_else(|| format!("bad line {line:?}"))?;
            let port = |v: &str| v.parse::<u16>().map_err(|_| format!("bad port for {k}"));
            let key = |v: &str| {
                from_hex(v).filter(|k| !k.is_empty()).ok_or_else(|| format!("bad key for {k}"))
            };
            match k.trim() {
                "bootstrap_port" => bp = Some(port(v.trim())?),
                "management_port" => mp = Some(port(v.trim())?),
                "bootstrap_psk" => bk = Some(key(v.trim())?),
                "management_psk" => mk = Some(key(v.trim())?),
                other => return Err(format!("unknown setting {other:?}")),
            }
        }
        match (bp, mp, bk, mk) {
            (
                Some(bootstrap_port),
                Some(management_port),
                Some(bootstrap_psk),
                Some(management_psk),
            ) => Ok(ServerSettings {
                bootstrap_port,
                management_port,
                bootstrap_psk,
                management_psk,
            }),
            _ => Err("missing settings".into()),
        }
    }
}

fn random_key() -> io::Result<Vec<u8>> {
    let mut key = vec![0u8; KEY_LEN];
    openssl::rand::rand_bytes(&mut key).map_err(io::Error::other)?;
    Ok(key)
}

/// Lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex (either case, even length) to bytes; `None` if malformed.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_redaction() {
        let dir = std::env::temp_dir().join(format!("srv-settings-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(ServerSettings::load(&dir).unwrap(), None);
        let mut s = ServerSettings::generate().unwrap();
        assert_ne!(s.bootstrap_psk, s.management_psk);
        s.bootstrap_port = 40001;
        s.management_port = 40002;
        s.save(&dir).unwrap();
        assert_eq!(ServerSettings::load(&dir).unwrap(), Some(s.clone()));
        assert_eq!(ServerSettings::load_or_generate(&dir).unwrap(), s);
        let debug = format!("{s:?}");
        assert!(!debug.contains(&to_hex(&s.bootstrap_psk)), "{debug}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hex() {
        assert_eq!(from_hex("00aB10"), Some(vec![0, 0xab, 0x10]));
        assert_eq!(from_hex("0"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex("é0"), None);
        assert_eq!(to_hex(&[0, 0xab]), "00ab");
    }

    #[test]
    fn rejects_incomplete_files() {
        assert!(ServerSettings::parse("bootstrap_port=1\n").is_err());
        assert!(ServerSettings::parse("nonsense").is_err());
        assert!(ServerSettings::parse("bootstrap_port=x").is_err());
    }
}

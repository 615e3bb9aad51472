//! The simulated modem of the host port: the LTE link, the security-tag key store and the
//! device identity. It decides results synchronously; the port delivers them later (after
//! the configured delays) through `Port::wait`, as a real modem reports them asynchronously.
//!
//! Modelled on the simulated port of the tests (`lwm2m-carrier-simport`): the same fault
//! knobs, and the same rule that keys can only be written while the link is offline.
//!
//! The key store is a map in memory, optionally mirrored to a file ([`ModemConfig::keys_file`]):
//! a real modem keeps its security tags in its own flash across resets, and a device that
//! reboots after its bootstrap relies on that (it does not write the keys again).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use lwm2m_carrier::{Input, LinkError};

use crate::psk::Psk;

/// What the modem answers for a key write while the link is up (the nRF91 refuses with an
/// error; the simulated port uses the same value).
pub const KEY_WRITE_WHILE_ONLINE: i32 = -1;
/// What it answers when the carrier has no key material for the instance (-EINVAL).
pub const KEY_WRITE_INVALID: i32 = -22;

/// Faults the modem produces, consumed in order (first entry first).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ModemFaults {
    /// The next link attaches fail with these `lte_lc` values (ERROR CONNECT_FAIL).
    pub attach_failures: Vec<i32>,
    /// The next n PDN activations fail (DEFERRED PDN_ACTIVATE).
    pub pdn_failures: usize,
    /// The next link-offline request fails with this value.
    pub offline_failure: Option<i32>,
    /// The next key writes fail with these values.
    pub key_failures: Vec<i32>,
}

/// Modem settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ModemConfig {
    /// 15 digits; the endpoint name is derived from it.
    pub imei: String,
    /// Only used on operators whose endpoint name includes it.
    pub msisdn: Option<String>,
    /// How long attaching takes (LinkUp); going offline takes half of it.
    pub link_delay: Duration,
    /// How long a key write takes.
    pub key_write_delay: Duration,
    pub faults: ModemFaults,
    /// Where the security tags persist (`None`: memory only, lost with the `Modem`).
    pub keys_file: Option<PathBuf>,
}

/// What it answers when its (file) storage fails (-EIO).
pub const KEY_WRITE_STORAGE: i32 = -5;

/// A fixed, valid test IMEI (the Luhn check digit is right) used when none is given.
pub const DEFAULT_IMEI: &str = "490154203237518";

impl Default for ModemConfig {
    fn default() -> Self {
        ModemConfig {
            imei: DEFAULT_IMEI.to_owned(),
            msisdn: None,
            link_delay: Duration::from_millis(200),
            key_write_delay: Duration::from_millis(10),
            faults: ModemFaults::default(),
            keys_file: None,
        }
    }
}

/// The modem's state.
#[derive(Debug)]
pub struct Modem {
    config: ModemConfig,
    link_up: bool,
    keys: HashMap<u32, Psk>,
}

impl Modem {
    /// A modem with its link down and the security tags of `config.keys_file`, if any.
    pub fn new(config: ModemConfig) -> Modem {
        let keys = match &config.keys_file {
            Some(path) => key_file::load(path).unwrap_or_else(|e| {
                log::warn!("modem: cannot read the key store {}: {e}", path.display());
                HashMap::new()
            }),
            None => HashMap::new(),
        };
        Modem { config, link_up: false, keys }
    }

    pub fn config(&self) -> &ModemConfig {
        &self.config
    }

    pub fn is_link_up(&self) -> bool {
        self.link_up
    }

    /// Attach and activate the PDN; the answer to deliver after `link_delay`.
    pub fn link_up(&mut self) -> Input {
        let faults = &mut self.config.faults;
        if !faults.attach_failures.is_empty() {
            return Input::LinkFailed(LinkError::Attach(faults.attach_failures.remove(0)));
        }
        if faults.pdn_failures > 0 {
            faults.pdn_failures -= 1;
            return Input::LinkFailed(LinkError::PdnActivation);
        }
        self.link_up = true;
        Input::LinkUp
    }

    /// Go offline; the answer to deliver after half the link delay. The caller closes the
    /// sockets on success (they die with the link).
    pub fn link_down(&mut self) -> Input {
        if let Some(v) = self.config.faults.offline_failure.take() {
            return Input::LinkDownFailed(v);
        }
        self.link_up = false;
        Input::LinkDown
    }

    /// Stores `material` (identity, key) in `sec_tag`. Refused while the link is up.
    pub fn write_key(&mut self, sec_tag: u32, material: Option<(&[u8], &[u8])>) -> Result<(), i32> {
        if self.link_up {
            return Err(KEY_WRITE_WHILE_ONLINE);
        }
        if !self.config.faults.key_failures.is_empty() {
            return Err(self.config.faults.key_failures.remove(0));
        }
        let (identity, key) = material.ok_or(KEY_WRITE_INVALID)?;
        let psk = Psk::new(identity, key).map_err(|_| KEY_WRITE_INVALID)?;
        self.keys.insert(sec_tag, psk);
        if let Some(path) = &self.config.keys_file {
            if let Err(e) = key_file::save(path, &self.keys) {
                // The modem's flash failed: report it like the modem would.
                log::error!("modem: cannot save the key store {}: {e}", path.display());
                return Err(KEY_WRITE_STORAGE);
            }
        }
        Ok(())
    }

    /// The credentials in `sec_tag`, for a DTLS handshake.
    pub fn key(&self, sec_tag: u32) -> Option<&Psk> {
        self.keys.get(&sec_tag)
    }
}

/// The key store file: one `tag=identity_hex:key_hex` line per security tag, written
/// atomically with mode 0600 on Unix (it holds secrets).
mod key_file {
    use std::collections::HashMap;
    use std::fs;
    use std::io::{self, Write};
    use std::path::Path;

    use crate::psk::Psk;
    use crate::server_settings::{from_hex, to_hex};

    pub(super) fn load(path: &Path) -> io::Result<HashMap<u32, Psk>> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(e),
        };
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed key store");
        let mut keys = HashMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (tag, rest) = line.split_once('=').ok_or_else(bad)?;
            let (identity, key) = rest.split_once(':').ok_or_else(bad)?;
            let tag = tag.trim().parse().map_err(|_| bad())?;
            let identity = from_hex(identity.trim()).ok_or_else(bad)?;
            let key = from_hex(key.trim()).ok_or_else(bad)?;
            keys.insert(tag, Psk::new(&identity, &key).map_err(|_| bad())?);
        }
        Ok(keys)
    }

    pub(super) fn save(path: &Path, keys: &HashMap<u32, Psk>) -> io::Result<()> {
        let mut tags: Vec<_> = keys.iter().collect();
        tags.sort_by_key(|(tag, _)| **tag);
        let text: String = tags
            .into_iter()
            .map(|(tag, p)| format!("{tag}={}:{}\n", to_hex(p.identity()), to_hex(p.key())))
            .collect();
        let tmp = path.with_extension("tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_a_restart_with_a_key_file() {
        let dir = std::env::temp_dir().join(format!("modem-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config =
            ModemConfig { keys_file: Some(dir.join("modem-keys")), ..ModemConfig::default() };
        let mut m = Modem::new(config.clone());
        m.write_key(25, Some((b"urn:imei:1", b"\x01\x02"))).unwrap();
        m.write_key(26, Some((b"urn:imei:1", b"k2"))).unwrap();
        let m = Modem::new(config);
        assert_eq!(m.key(25).map(Psk::key), Some(&[1u8, 2][..]));
        assert_eq!(m.key(26).map(Psk::identity), Some(&b"urn:imei:1"[..]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keys_only_offline() {
        let mut m = Modem::new(ModemConfig::default());
        assert_eq!(m.write_key(25, Some((b"id", b"k"))), Ok(()));
        assert_eq!(m.link_up(), Input::LinkUp);
        assert_eq!(m.write_key(26, Some((b"id", b"k"))), Err(KEY_WRITE_WHILE_ONLINE));
        assert_eq!(m.link_down(), Input::LinkDown);
        assert_eq!(m.write_key(26, None), Err(KEY_WRITE_INVALID));
        assert_eq!(m.write_key(26, Some((b"id", b""))), Err(KEY_WRITE_INVALID));
        assert_eq!(m.key(25).map(Psk::key), Some(&b"k"[..]));
        assert!(m.key(26).is_none());
    }

    #[test]
    fn faults_are_consumed_in_order() {
        let mut config = ModemConfig::default();
        config.faults.attach_failures = vec![-5];
        config.faults.pdn_failures = 1;
        config.faults.offline_failure = Some(-7);
        config.faults.key_failures = vec![-3];
        let mut m = Modem::new(config);
        assert_eq!(m.link_up(), Input::LinkFailed(LinkError::Attach(-5)));
        assert_eq!(m.link_up(), Input::LinkFailed(LinkError::PdnActivation));
        assert_eq!(m.link_up(), Input::LinkUp);
        assert_eq!(m.link_down(), Input::LinkDownFailed(-7));
        assert_eq!(m.link_down(), Input::LinkDown);
        assert_eq!(m.write_key(25, Some((b"id", b"k"))), Err(-3));
        assert_eq!(m.write_key(25, Some((b"id", b"k"))), Ok(()));
    }
}

//! Fuzzing entry point for the registry (no fuzz target uses it yet; see the crate docs).

use lwm2m_coap::{content_format as cf, Instant};
use lwm2m_formats::{Overflow, Path, Sink};

use crate::{Caller, Ctx, Registry, SecurityInstance, ServerInstance};

/// FNV-1a over everything put: a cheap fingerprint of rendered state.
struct Fnv(u64, usize);

impl Sink for Fnv {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.1 += bytes.len();
        Ok(())
    }
    fn len(&self) -> usize {
        self.1
    }
}

fn fingerprint(reg: &Registry) -> u64 {
    let ctx = Ctx { caller: Caller::Bootstrap, now: Instant(0) };
    let mut h = Fnv(0xcbf2_9ce4_8422_2325, 0);
    for o in 1..=5 {
        let _ = reg.read(&ctx, &Path::object(o), None, &mut h);
    }
    for s in reg.security.iter() {
        let _ = h.put(&s.id.to_be_bytes());
        let _ = h.put(s.uri.as_bytes());
        let _ = h.put(&[u8::from(s.bootstrap), s.mode]);
        let _ = h.put(&s.identity);
        let _ = h.put(&s.server_public_key);
        let _ = h.put(s.secret_key());
        let _ = h.put(&s.short_server_id.to_be_bytes());
        let _ = h.put(&s.hold_off_s.to_be_bytes());
        let _ = h.put(&s.bs_account_timeout_s.to_be_bytes());
    }
    h.0
}

const PATHS: [Path; 12] = [
    Path::ROOT,
    Path::object(0),
    Path::object(1),
    Path::object(2),
    Path::instance(0, 1),
    Path::instance(1, 0),
    Path::instance(2, 0),
    Path::instance(3, 0),
    Path::resource(1, 0, 1),
    Path::resource(2, 0, 2),
    Path::resource(5, 0, 1),
    Path::resource(0, 1, 5),
];

/// Runs one operation chosen by the first three bytes (caller, operation, replace; path;
/// content format) with the rest as payload on a provisioned registry. Panics if the
/// operation fails but changed state (all-or-nothing), or if anything else panics.
pub fn fuzz_operation(data: &[u8]) {
    let [sel, path_sel, cf_sel, payload @ ..] = data else {
        return;
    };
    let mut reg = Registry::new();
    let mut b = SecurityInstance::new(0);
    b.bootstrap = true;
    let _ = reg.security.put(b);
    let _ = reg.server.put(ServerInstance { short_server_id: 1, ..ServerInstance::new(0) });
    let caller = if sel & 1 == 0 { Caller::Bootstrap } else { Caller::Server { short_id: 1 } };
    let ctx = Ctx { caller, now: Instant(0) };
    let path = PATHS.get(usize::from(*path_sel) % PATHS.len()).copied().unwrap_or(Path::ROOT);
    let format = match cf_sel % 4 {
        0 => None,
        1 => Some(cf::LWM2M_TLV),
        2 => Some(cf::TEXT_PLAIN),
        _ => Some(cf::OCTET_STREAM),
    };
    let before = fingerprint(&reg);
    let failed = match (sel >> 2) & 3 {
        0 => reg.write(&ctx, &path, format, payload, sel & 0x10 != 0).is_err(),
        1 => reg.create(&ctx, &path, format, payload).is_err(),
        2 => reg.execute(&ctx, &path, payload).is_err(),
        _ => reg.delete(&ctx, &path).is_err(),
    };
    if failed {
        assert_eq!(fingerprint(&reg), before, "failed operation changed state");
    }
    while reg.take_effect().is_some() {}
    let mut links = Fnv(0, 0);
    let _ = reg.write_registration_links(&mut links);
    let _ = reg.bootstrap_finish_check();
    let _ = reg.discover(&ctx, &path, &crate::NoAttrs, &mut links);
}

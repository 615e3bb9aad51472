//! LwM2M Connectivity Monitoring object (id 4), single instance /4/0, read-only for servers;
//! the port keeps it current through the setters.

use heapless::{String, Vec};
use lwm2m_coap::Code;

use crate::model::{set_str, Ctx, Effect, Kind, Object, Ops, ResourceDef, SetError, Value};

/// Capacity of one IP address string (IPv6 text form).
pub const IP_LEN: usize = 46;
/// Addresses per IP resource (one IPv4, one IPv6).
pub const MAX_IPS: usize = 2;
/// Capacity of one APN.
pub const APN_LEN: usize = 64;
/// APNs that fit.
pub const MAX_APNS: usize = 2;
/// Available bearers that fit.
pub const MAX_BEARERS: usize = 4;

/// Network bearer values (/4/0/0, /4/0/1) used on nRF91.
pub mod bearer {
    /// LTE FDD (Cat-M1).
    pub const LTE_FDD: u8 = 6;
    /// NB-IoT.
    pub const NB_IOT: u8 = 7;
}

const R: Ops = Ops::R;
static DEFS: [ResourceDef; 10] = [
    ResourceDef::single(0, Kind::Int, R),
    ResourceDef::multi(1, Kind::Int, R),
    ResourceDef::single(2, Kind::Int, R),
    ResourceDef::single(3, Kind::Int, R),
    ResourceDef::multi(4, Kind::Str, R),
    ResourceDef::multi(5, Kind::Str, R),
    ResourceDef::multi(7, Kind::Str, R),
    ResourceDef::single(8, Kind::Int, R),
    ResourceDef::single(9, Kind::Int, R),
    ResourceDef::single(10, Kind::Int, R),
];

type Strings<const L: usize, const N: usize> = Vec<String<L>, N>;

/// The Connectivity Monitoring object.
#[derive(Clone, Debug, Default)]
pub struct ConnMon {
    network_bearer: u8,
    available_bearers: Vec<u8, MAX_BEARERS>,
    signal_strength_dbm: i32,
    link_quality: i32,
    ip_addresses: Strings<IP_LEN, MAX_IPS>,
    router_ips: Strings<IP_LEN, MAX_IPS>,
    apns: Strings<APN_LEN, MAX_APNS>,
    cell_id: u32,
    smnc: u16,
    smcc: u16,
    dirty: u32,
}

fn set_list<const L: usize, const N: usize>(
    dst: &mut Strings<L, N>,
    v: &[&str],
) -> Result<(), SetError> {
    if v.len() > N || v.iter().any(|s| s.len() > L) {
        return Err(SetError::NoMemory);
    }
    dst.clear();
    for s in v {
        let mut o = String::new();
        set_str(&mut o, s)?;
        dst.push(o).map_err(|_| SetError::NoMemory)?;
    }
    Ok(())
}

impl ConnMon {
    /// LTE-FDD bearer, everything else empty or 0.
    pub fn new() -> Self {
        let mut c = ConnMon { network_bearer: bearer::LTE_FDD, ..Default::default() };
        let _ = c.available_bearers.push(bearer::LTE_FDD);
        c
    }
    fn mark(&mut self, res: u16) -> Result<(), SetError> {
        self.dirty |= 1 << res;
        Ok(())
    }
    /// /4/0/0 Network Bearer (0..=50).
    pub fn network_bearer_set(&mut self, b: u8) -> Result<(), SetError> {
        if b > 50 {
            return Err(SetError::Invalid);
        }
        self.network_bearer = b;
        self.mark(0)
    }
    /// /4/0/1 Available Network Bearer (each 0..=50, at most [`MAX_BEARERS`]).
    pub fn available_bearers_set(&mut self, b: &[u8]) -> Result<(), SetError> {
        if b.iter().any(|&x| x > 50) {
            return Err(SetError::Invalid);
        }
        self.available_bearers = Vec::from_slice(b).map_err(|_| SetError::NoMemory)?;
        self.mark(1)
    }
    /// /4/0/2 Radio Signal Strength, dBm.
    pub fn signal_strength_set(&mut self, dbm: i32) -> Result<(), SetError> {
        self.signal_strength_dbm = dbm;
        self.mark(2)
    }
    /// /4/0/3 Link Quality.
    pub fn link_quality_set(&mut self, q: i32) -> Result<(), SetError> {
        self.link_quality = q;
        self.mark(3)
    }
    /// /4/0/4 IP Addresses.
    pub fn ip_addresses_set(&mut self, v: &[&str]) -> Result<(), SetError> {
        set_list(&mut self.ip_addresses, v)?;
        self.mark(4)
    }
    /// /4/0/5 Router IP Addresses.
    pub fn router_ip_addresses_set(&mut self, v: &[&str]) -> Result<(), SetError> {
        set_list(&mut self.router_ips, v)?;
        self.mark(5)
    }
    /// /4/0/7 APN.
    pub fn apns_set(&mut self, v: &[&str]) -> Result<(), SetError> {
        set_list(&mut self.apns, v)?;
        self.mark(7)
    }
    /// /4/0/8 Cell ID.
    pub fn cell_id_set(&mut self, id: u32) -> Result<(), SetError> {
        self.cell_id = id;
        self.mark(8)
    }
    /// /4/0/9 SMNC (mobile network code) and /4/0/10 SMCC (mobile country code).
    pub fn operator_set(&mut self, smnc: u16, smcc: u16) -> Result<(), SetError> {
        if smnc > 999 || smcc > 999 {
            return Err(SetError::Invalid);
        }
        self.smnc = smnc;
        self.smcc = smcc;
        self.mark(9)?;
        self.mark(10)
    }
    /// /4/0/7 APNs.
    pub fn apns(&self) -> impl Iterator<Item = &str> {
        self.apns.iter().map(|s| s.as_str())
    }
}

impl Object for ConnMon {
    fn id(&self) -> u16 {
        4
    }
    fn defs(&self) -> &'static [ResourceDef] {
        &DEFS
    }
    fn max_instances(&self) -> usize {
        1
    }
    fn instance_at(&self, idx: usize) -> Option<u16> {
        (idx == 0).then_some(0)
    }
    fn value(&self, _ctx: &Ctx, inst: u16, res: u16, idx: usize) -> Option<(u16, Value<'_>)> {
        if inst != 0 {
            return None;
        }
        let v = match res {
            1 => Value::Int((*self.available_bearers.get(idx)?).into()),
            4 => Value::Str(self.ip_addresses.get(idx)?),
            5 => Value::Str(self.router_ips.get(idx)?),
            7 => Value::Str(self.apns.get(idx)?),
            _ if idx != 0 => return None,
            0 => Value::Int(self.network_bearer.into()),
            2 => Value::Int(self.signal_strength_dbm.into()),
            3 => Value::Int(self.link_quality.into()),
            8 => Value::Int(self.cell_id.into()),
            9 => Value::Int(self.smnc.into()),
            10 => Value::Int(self.smcc.into()),
            _ => return None,
        };
        Some((idx as u16, v))
    }
    fn write(
        &mut self,
        _: &Ctx,
        _: u16,
        _: u16,
        _: Option<u16>,
        _: &Value<'_>,
        _: bool,
    ) -> Result<Option<Effect>, Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
    fn execute(&mut self, _: &Ctx, _: u16, _: u16, _: &[u8]) -> Result<Option<Effect>, Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
    fn take_dirty(&mut self) -> u32 {
        core::mem::take(&mut self.dirty)
    }
}

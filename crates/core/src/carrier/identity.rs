//! Who the device is to the operator: the endpoint name (also the bootstrap PSK identity) built
//! from IMEI and MSISDN, and which operator's rules apply.

use heapless::String;

/// The operator whose device-management rules apply, from the SIM's home network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Verizon,
    Att,
    /// Any other network: custom bootstrap settings are required.
    Other,
}

/// Home networks (MCC, MNC) of the operators. Public numbering-plan facts.
const VERIZON: &[(u16, u16)] = &[(311, 480), (310, 590), (310, 890), (311, 270)];
const ATT: &[(u16, u16)] = &[
    (310, 410),
    (310, 170),
    (310, 280),
    (310, 380),
    (310, 150),
    (310, 560),
    (310, 680),
    (311, 180),
];

impl Operator {
    /// The operator of a SIM whose IMSI starts with `mcc`/`mnc`.
    pub fn from_home_network(mcc: u16, mnc: u16) -> Operator {
        if VERIZON.contains(&(mcc, mnc)) {
            Operator::Verizon
        } else if ATT.contains(&(mcc, mnc)) {
            Operator::Att
        } else {
            Operator::Other
        }
    }

    /// The factory bootstrap server (public facts of each operator).
    pub fn bootstrap_uri(self, certification: bool) -> Option<&'static str> {
        match (self, certification) {
            (Operator::Verizon, false) => Some("coaps://boot.lwm2m.vzwdm.com:5684"),
            (Operator::Verizon, true) => Some("coaps://ddocdpboot.do.motive.com:5684"),
            (Operator::Att, false) => Some("coaps://bootstrap.dm.iot.att.com:5694"),
            (Operator::Att, true) => Some("coaps://InteropBootstrap.dm.iot.att.com:5694"),
            (Operator::Other, _) => None,
        }
    }
}

/// Why an identity could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityError {
    /// IMEI is not 15 decimal digits.
    BadImei,
    /// MSISDN is empty, too long or not digits (Verizon needs it).
    BadMsisdn,
}

/// Longest endpoint name: `urn:imei-msisdn:` + 15 + `-` + 15 digits fits easily.
pub type Endpoint = String<64>;

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Writes the endpoint client name, also the PSK identity, into `ep` (empty), where it is
/// kept: `urn:imei:<IMEI>`, and on Verizon `urn:imei-msisdn:<IMEI>-<MSISDN>`. The inputs are
/// checked before anything is written, so on an error `ep` is as it was.
pub fn write_endpoint_name(
    ep: &mut Endpoint,
    operator: Operator,
    imei: &str,
    msisdn: Option<&str>,
) -> Result<(), IdentityError> {
    if imei.len() != 15 || !all_digits(imei) {
        return Err(IdentityError::BadImei);
    }
    let overflow = |_| IdentityError::BadMsisdn;
    match operator {
        Operator::Verizon => {
            let msisdn = msisdn.filter(|m| all_digits(m) && m.len() <= 15);
            let msisdn = msisdn.ok_or(IdentityError::BadMsisdn)?;
            // 16 + 15 + 1 + 15 bytes always fit: the pushes cannot fail half-way.
            ep.push_str("urn:imei-msisdn:").map_err(overflow)?;
            ep.push_str(imei).map_err(overflow)?;
            ep.push('-').map_err(overflow)?;
            ep.push_str(msisdn).map_err(overflow)?;
        }
        Operator::Att | Operator::Other => {
            ep.push_str("urn:imei:").map_err(overflow)?;
            ep.push_str(imei).map_err(overflow)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint_name(
        operator: Operator,
        imei: &str,
        msisdn: Option<&str>,
    ) -> Result<Endpoint, IdentityError> {
        let mut ep = Endpoint::new();
        write_endpoint_name(&mut ep, operator, imei, msisdn)?;
        Ok(ep)
    }

    #[test]
    fn endpoint_names() {
        let imei = "490154203237518";
        assert_eq!(endpoint_name(Operator::Att, imei, None).unwrap(), "urn:imei:490154203237518");
        assert_eq!(
            endpoint_name(Operator::Verizon, imei, Some("15555550100")).unwrap(),
            "urn:imei-msisdn:490154203237518-15555550100"
        );
        assert_eq!(endpoint_name(Operator::Verizon, imei, None), Err(IdentityError::BadMsisdn));
        assert_eq!(
            endpoint_name(Operator::Verizon, imei, Some("12a")),
            Err(IdentityError::BadMsisdn)
        );
        assert_eq!(endpoint_name(Operator::Other, "12345", None), Err(IdentityError::BadImei));
        assert_eq!(
            endpoint_name(Operator::Other, "49015420323751x", None),
            Err(IdentityError::BadImei)
        );
    }

    #[test]
    fn operators_and_factory_servers() {
        assert_eq!(Operator::from_home_network(311, 480), Operator::Verizon);
        assert_eq!(Operator::from_home_network(310, 410), Operator::Att);
        assert_eq!(Operator::from_home_network(242, 1), Operator::Other);
        assert_eq!(
            Operator::Verizon.bootstrap_uri(false),
            Some("coaps://boot.lwm2m.vzwdm.com:5684")
        );
        assert_eq!(
            Operator::Att.bootstrap_uri(true),
            Some("coaps://InteropBootstrap.dm.iot.att.com:5694")
        );
        assert_eq!(Operator::Other.bootstrap_uri(false), None);
    }
}

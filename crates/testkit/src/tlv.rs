//! An independent OMA-TLV (content format 11542) encoder and tree decoder (LwM2M 1.0 TS §6.4.3).
//!
//! Header byte: bits 7-6 identifier type (00 object instance, 01 resource instance, 10 multiple
//! resource, 11 resource with value), bit 5 identifier length (0: 8 bits, 1: 16 bits), bits 4-3
//! length type (00: length in bits 2-0, 01/10/11: 8/16/24-bit length field follows the id).

/// The identifier type of a TLV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 00: object instance (value = nested resource TLVs).
    ObjectInstance,
    /// 01: resource instance (value = data).
    ResourceInstance,
    /// 10: multiple resource (value = nested resource-instance TLVs).
    MultipleResource,
    /// 11: resource with value.
    Resource,
}

impl Kind {
    fn bits(self) -> u8 {
        match self {
            Kind::ObjectInstance => 0,
            Kind::ResourceInstance => 1,
            Kind::MultipleResource => 2,
            Kind::Resource => 3,
        }
    }
    fn from_bits(b: u8) -> Kind {
        match b & 3 {
            0 => Kind::ObjectInstance,
            1 => Kind::ResourceInstance,
            2 => Kind::MultipleResource,
            _ => Kind::Resource,
        }
    }
    fn nests(self) -> bool {
        matches!(self, Kind::ObjectInstance | Kind::MultipleResource)
    }
}

/// One decoded TLV. For nesting kinds `children` holds the decoded value; `value` always holds
/// the raw value bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlvNode {
    /// Identifier type.
    pub kind: Kind,
    /// Identifier.
    pub id: u16,
    /// Raw value bytes.
    pub value: Vec<u8>,
    /// Decoded children (object instance / multiple resource), empty otherwise.
    pub children: Vec<TlvNode>,
}

impl TlvNode {
    /// The first child with this id.
    pub fn child(&self, id: u16) -> Option<&TlvNode> {
        self.children.iter().find(|c| c.id == id)
    }
    /// The value as a signed integer (1, 2, 4 or 8 bytes, big-endian two's complement).
    pub fn as_int(&self) -> Result<i64, String> {
        decode_int(&self.value)
    }
    /// The value as UTF-8.
    pub fn as_str(&self) -> Result<&str, String> {
        std::str::from_utf8(&self.value).map_err(|e| format!("tlv {}: {e}", self.id))
    }
    /// The value as a boolean (one byte, 0 or 1).
    pub fn as_bool(&self) -> Result<bool, String> {
        match self.value.as_slice() {
            [0] => Ok(false),
            [1] => Ok(true),
            v => Err(format!("tlv {}: bad boolean {v:02X?}", self.id)),
        }
    }
    /// The value as a float (4 or 8 bytes).
    pub fn as_float(&self) -> Result<f64, String> {
        match self.value.len() {
            4 => Ok(f64::from(f32::from_be_bytes(self.value[..4].try_into().unwrap_or([0; 4])))),
            8 => Ok(f64::from_be_bytes(self.value[..8].try_into().unwrap_or([0; 8]))),
            n => Err(format!("tlv {}: float of {n} bytes", self.id)),
        }
    }
    /// The value as an object link (object id, instance id).
    pub fn as_objlnk(&self) -> Result<(u16, u16), String> {
        match self.value.as_slice() {
            [a, b, c, d] => Ok((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))),
            v => Err(format!("tlv {}: objlnk of {} bytes", self.id, v.len())),
        }
    }
}

/// Decodes a big-endian two's-complement integer of 1, 2, 4 or 8 bytes.
pub fn decode_int(v: &[u8]) -> Result<i64, String> {
    if !matches!(v.len(), 1 | 2 | 4 | 8) {
        return Err(format!("integer of {} bytes", v.len()));
    }
    let neg = v[0] & 0x80 != 0;
    let mut acc: i64 = if neg { -1 } else { 0 };
    for &b in v {
        acc = (acc << 8) | i64::from(b);
    }
    Ok(acc)
}

/// Decodes a whole TLV buffer into a tree. Checks lengths, that object instances contain only
/// resources / multiple resources, that multiple resources contain only resource instances, and
/// that resource instances appear only inside multiple resources.
pub fn decode(buf: &[u8]) -> Result<Vec<TlvNode>, String> {
    decode_level(buf, None)
}

fn decode_level(mut buf: &[u8], parent: Option<Kind>) -> Result<Vec<TlvNode>, String> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (node, used) = decode_one(buf)?;
        let allowed = match parent {
            None => node.kind != Kind::ResourceInstance,
            Some(Kind::ObjectInstance) => {
                matches!(node.kind, Kind::Resource | Kind::MultipleResource)
            }
            Some(Kind::MultipleResource) => node.kind == Kind::ResourceInstance,
            Some(_) => false,
        };
        if !allowed {
            return Err(format!("{:?} {} not allowed inside {:?}", node.kind, node.id, parent));
        }
        out.push(node);
        buf = &buf[used..];
    }
    Ok(out)
}

fn decode_one(buf: &[u8]) -> Result<(TlvNode, usize), String> {
    let t = *buf.first().ok_or("empty tlv")?;
    let kind = Kind::from_bits(t >> 6);
    let id_len = if t & 0x20 != 0 { 2 } else { 1 };
    let len_len = usize::from((t >> 3) & 3);
    let hdr = 1 + id_len + len_len;
    let h = buf.get(..hdr).ok_or_else(|| format!("truncated tlv header ({} bytes)", buf.len()))?;
    let id = if id_len == 2 { u16::from_be_bytes([h[1], h[2]]) } else { u16::from(h[1]) };
    let len = if len_len == 0 {
        usize::from(t & 7)
    } else {
        h[1 + id_len..].iter().fold(0usize, |a, &b| (a << 8) | usize::from(b))
    };
    let value = buf
        .get(hdr..hdr + len)
        .ok_or_else(|| format!("tlv {id}: value of {len} bytes, {} available", buf.len() - hdr))?;
    let children = if kind.nests() { decode_level(value, Some(kind))? } else { Vec::new() };
    Ok((TlvNode { kind, id, value: value.to_vec(), children }, hdr + len))
}

/// Encodes one TLV with the shortest header.
pub fn encode(kind: Kind, id: u16, value: &[u8]) -> Vec<u8> {
    let len = value.len();
    assert!(len < 1 << 24, "tlv value too long");
    let mut t = kind.bits() << 6;
    if id > 0xFF {
        t |= 0x20;
    }
    let len_bytes: Vec<u8> = if len < 8 {
        t |= len as u8;
        Vec::new()
    } else if len <= 0xFF {
        t |= 1 << 3;
        vec![len as u8]
    } else if len <= 0xFFFF {
        t |= 2 << 3;
        (len as u16).to_be_bytes().to_vec()
    } else {
        t |= 3 << 3;
        (len as u32).to_be_bytes()[1..].to_vec()
    };
    let mut out = vec![t];
    if id > 0xFF {
        out.extend_from_slice(&id.to_be_bytes());
    } else {
        out.push(id as u8);
    }
    out.extend_from_slice(&len_bytes);
    out.extend_from_slice(value);
    out
}

/// Minimal two's-complement big-endian bytes of an integer (1, 2, 4 or 8 bytes).
pub fn int_value(v: i64) -> Vec<u8> {
    if let Ok(x) = i8::try_from(v) {
        x.to_be_bytes().to_vec()
    } else if let Ok(x) = i16::try_from(v) {
        x.to_be_bytes().to_vec()
    } else if let Ok(x) = i32::try_from(v) {
        x.to_be_bytes().to_vec()
    } else {
        v.to_be_bytes().to_vec()
    }
}

/// A float value: 4 bytes when `v` is exactly representable as `f32`, else 8.
pub fn float_value(v: f64) -> Vec<u8> {
    let f = v as f32;
    if f64::from(f) == v {
        f.to_be_bytes().to_vec()
    } else {
        v.to_be_bytes().to_vec()
    }
}

/// Concatenates already-encoded TLVs.
pub fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A resource TLV with a raw value.
pub fn encode_resource(id: u16, value: &[u8]) -> Vec<u8> {
    encode(Kind::Resource, id, value)
}
/// A resource-instance TLV with a raw value.
pub fn encode_resource_instance(id: u16, value: &[u8]) -> Vec<u8> {
    encode(Kind::ResourceInstance, id, value)
}
/// A multiple-resource TLV around already-encoded resource instances.
pub fn encode_multiple_resource(id: u16, instances: &[Vec<u8>]) -> Vec<u8> {
    encode(Kind::MultipleResource, id, &instances.concat())
}
/// An object-instance TLV around already-encoded resources.
pub fn encode_object_instance(id: u16, resources: &[Vec<u8>]) -> Vec<u8> {
    encode(Kind::ObjectInstance, id, &resources.concat())
}
/// An integer resource (minimal length).
pub fn encode_int(id: u16, v: i64) -> Vec<u8> {
    encode_resource(id, &int_value(v))
}
/// A string resource.
pub fn encode_str(id: u16, v: &str) -> Vec<u8> {
    encode_resource(id, v.as_bytes())
}
/// An opaque resource.
pub fn encode_opaque(id: u16, v: &[u8]) -> Vec<u8> {
    encode_resource(id, v)
}
/// A boolean resource.
pub fn encode_bool(id: u16, v: bool) -> Vec<u8> {
    encode_resource(id, &[u8::from(v)])
}
/// A float resource.
pub fn encode_float(id: u16, v: f64) -> Vec<u8> {
    encode_resource(id, &float_value(v))
}
/// An object-link resource.
pub fn encode_objlnk(id: u16, object: u16, instance: u16) -> Vec<u8> {
    let mut v = object.to_be_bytes().to_vec();
    v.extend_from_slice(&instance.to_be_bytes());
    encode_resource(id, &v)
}
/// A multiple integer resource with instances `(instance id, value)`.
pub fn encode_multiple_int(id: u16, values: &[(u16, i64)]) -> Vec<u8> {
    let inst: Vec<Vec<u8>> =
        values.iter().map(|&(ri, v)| encode_resource_instance(ri, &int_value(v))).collect();
    encode_multiple_resource(id, &inst)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OMA-TS-LightweightM2M-V1_0 §6.4.3.1, "Example of Request on Single-Instance Object":
    /// Read /3/0 of the Device object, TLV payload (as reproduced by the public interop suites).
    const DEVICE_EXAMPLE: [u8; 121] = [
        0xC8, 0x00, 0x14, 0x4F, 0x70, 0x65, 0x6E, 0x20, 0x4D, 0x6F, 0x62, 0x69, 0x6C, 0x65, 0x20,
        0x41, 0x6C, 0x6C, 0x69, 0x61, 0x6E, 0x63, 0x65, 0xC8, 0x01, 0x16, 0x4C, 0x69, 0x67, 0x68,
        0x74, 0x77, 0x65, 0x69, 0x67, 0x68, 0x74, 0x20, 0x4D, 0x32, 0x4D, 0x20, 0x43, 0x6C, 0x69,
        0x65, 0x6E, 0x74, 0xC8, 0x02, 0x09, 0x33, 0x34, 0x35, 0x30, 0x30, 0x30, 0x31, 0x32, 0x33,
        0xC3, 0x03, 0x31, 0x2E, 0x30, 0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05, 0x88, 0x07,
        0x08, 0x42, 0x00, 0x0E, 0xD8, 0x42, 0x01, 0x13, 0x88, 0x87, 0x08, 0x41, 0x00, 0x7D, 0x42,
        0x01, 0x03, 0x84, 0xC1, 0x09, 0x64, 0xC1, 0x0A, 0x0F, 0x83, 0x0B, 0x41, 0x00, 0x00, 0xC4,
        0x0D, 0x51, 0x82, 0x42, 0x8F, 0xC6, 0x0E, 0x2B, 0x30, 0x32, 0x3A, 0x30, 0x30, 0xC1, 0x0F,
        0x55,
    ];

    fn device_example_encoded() -> Vec<u8> {
        concat(&[
            encode_str(0, "Open Mobile Alliance"),
            encode_str(1, "Lightweight M2M Client"),
            encode_str(2, "345000123"),
            encode_str(3, "1.0"),
            encode_multiple_int(6, &[(0, 1), (1, 5)]),
            encode_multiple_int(7, &[(0, 3800), (1, 5000)]),
            encode_multiple_int(8, &[(0, 125), (1, 900)]),
            encode_int(9, 100),
            encode_int(10, 15),
            encode_multiple_int(11, &[(0, 0)]),
            encode_int(13, 1367491215),
            encode_str(14, "+02:00"),
            encode_str(15, "U"),
        ])
    }

    #[test]
    fn ts_device_example_encodes_byte_exact() {
        assert_eq!(device_example_encoded(), DEVICE_EXAMPLE.to_vec());
    }

    #[test]
    fn ts_device_example_decodes() {
        let nodes = decode(&DEVICE_EXAMPLE).unwrap();
        assert_eq!(nodes.len(), 13);
        assert_eq!(nodes[0].kind, Kind::Resource);
        assert_eq!(nodes[0].as_str().unwrap(), "Open Mobile Alliance");
        assert_eq!(nodes[1].as_str().unwrap(), "Lightweight M2M Client");
        let volt = &nodes[5];
        assert_eq!((volt.kind, volt.id), (Kind::MultipleResource, 7));
        let v: Vec<(u16, i64)> =
            volt.children.iter().map(|c| (c.id, c.as_int().unwrap())).collect();
        assert_eq!(v, vec![(0, 3800), (1, 5000)]);
        assert_eq!(nodes[10].as_int().unwrap(), 1367491215);
        assert_eq!(nodes[11].as_str().unwrap(), "+02:00");
        assert_eq!(nodes[9].children[0].as_int().unwrap(), 0);
    }

    /// TS §6.4.3.2 style: several object instances (Read /1 on two Server instances).
    #[test]
    fn object_instances_example() {
        // Buffer from the same interop suites: three object instances 10, 11, 12, each with
        // resource 1 = 20, 21, 22.
        let bytes = [
            0x03, 0x0A, 0xC1, 0x01, 0x14, 0x03, 0x0B, 0xC1, 0x01, 0x15, 0x03, 0x0C, 0xC1, 0x01,
            0x16,
        ];
        let enc = concat(&[
            encode_object_instance(10, &[encode_int(1, 20)]),
            encode_object_instance(11, &[encode_int(1, 21)]),
            encode_object_instance(12, &[encode_int(1, 22)]),
        ]);
        assert_eq!(enc, bytes);
        let nodes = decode(&bytes).unwrap();
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[2].kind, Kind::ObjectInstance);
        assert_eq!(nodes[2].id, 12);
        assert_eq!(nodes[2].child(1).unwrap().as_int().unwrap(), 22);
    }

    #[test]
    fn header_forms() {
        // 16-bit id, 3-bit length
        assert_eq!(encode_resource_instance(310, &[1]), vec![0x61, 0x01, 0x36, 0x01]);
        // 16-bit length
        let v = vec![0xAB; 300];
        let e = encode_opaque(5, &v);
        assert_eq!(&e[..4], &[0xD0, 0x05, 0x01, 0x2C]);
        assert_eq!(decode(&e).unwrap()[0].value, v);
        // 24-bit length
        let v = vec![7; 70000];
        let e = encode_opaque(0x1234, &v);
        assert_eq!(&e[..6], &[0xF8, 0x12, 0x34, 0x01, 0x11, 0x70]);
        assert_eq!(decode(&e).unwrap()[0].value.len(), 70000);
        // length exactly 7 fits in the header; 8 needs a length byte
        assert_eq!(encode_opaque(1, &[0; 7])[0], 0xC7);
        assert_eq!(&encode_opaque(1, &[0; 8])[..3], &[0xC8, 0x01, 0x08]);
    }

    #[test]
    fn ints_are_minimal() {
        assert_eq!(int_value(0), vec![0]);
        assert_eq!(int_value(127), vec![0x7F]);
        assert_eq!(int_value(128), vec![0x00, 0x80]);
        assert_eq!(int_value(-128), vec![0x80]);
        assert_eq!(int_value(-129), vec![0xFF, 0x7F]);
        assert_eq!(int_value(32768), vec![0, 0, 0x80, 0]);
        assert_eq!(int_value(1 << 31), vec![0, 0, 0, 0, 0x80, 0, 0, 0]);
        for v in [0, 1, -1, 127, 128, -129, 65535, i64::from(i32::MIN), i64::MAX, i64::MIN] {
            assert_eq!(decode_int(&int_value(v)).unwrap(), v);
        }
        assert!(decode_int(&[0, 0, 0]).is_err());
    }

    #[test]
    fn scalar_helpers() {
        assert_eq!(encode_bool(1, true), vec![0xC1, 0x01, 0x01]);
        assert_eq!(encode_objlnk(2, 3, 0), vec![0xC4, 0x02, 0x00, 0x03, 0x00, 0x00]);
        let f = decode(&encode_float(3, 1.5)).unwrap();
        assert_eq!(f[0].value.len(), 4);
        assert_eq!(f[0].as_float().unwrap(), 1.5);
        let f = decode(&encode_float(3, 0.1)).unwrap();
        assert_eq!(f[0].value.len(), 8);
        assert_eq!(f[0].as_float().unwrap(), 0.1);
        assert_eq!(decode(&encode_objlnk(1, 3, 7)).unwrap()[0].as_objlnk().unwrap(), (3, 7));
    }

    #[test]
    fn decode_errors() {
        assert!(decode(&[0xC8]).is_err()); // truncated header
        assert!(decode(&[0xC3, 0x00, 0x41]).is_err()); // value too short
        assert!(decode(&[0x41, 0x00, 0x01]).is_err()); // resource instance at top level
        assert!(decode(&[0x03, 0x00, 0x41, 0x00, 0x01]).is_err()); // RI inside object instance
        assert!(decode(&[0x83, 0x00, 0xC1, 0x00, 0x01]).is_err()); // resource inside multiple
        assert!(decode(&[0x05, 0x00, 0x03, 0x01, 0xC1, 0x00, 0x01]).is_err()); // nested instance
        assert_eq!(decode(&[]).unwrap(), vec![]);
    }
}

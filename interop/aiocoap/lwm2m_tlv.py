"""Minimal OMA LwM2M 1.0 TLV encoder/decoder (TS 1.0, 6.4.3), for the interop peers.

encode_resources([(id, value), ...]) builds the payload of a Write on an object instance;
values are int, bool, str, bytes, or ("multi", {instance_id: value}).
"""

import struct

OBJECT_INSTANCE = 0b00
RESOURCE_INSTANCE = 0b01
MULTIPLE_RESOURCE = 0b10
RESOURCE = 0b11


def encode_value(value):
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        for size, fmt in ((1, ">b"), (2, ">h"), (4, ">i"), (8, ">q")):
            try:
                return struct.pack(fmt, value)
            except struct.error:
                continue
        raise ValueError("integer out of range: %d" % value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError("cannot TLV-encode %r" % (value,))


def encode_tlv(kind, ident, value_bytes):
    if not 0 <= ident <= 0xFFFF:
        raise ValueError("identifier out of range")
    length = len(value_bytes)
    t = kind << 6
    header = b""
    if ident > 0xFF:
        t |= 0x20
        ident_bytes = struct.pack(">H", ident)
    else:
        ident_bytes = struct.pack(">B", ident)
    if length < 8:
        t |= length
    elif length <= 0xFF:
        t |= 0x08
        header = struct.pack(">B", length)
    elif length <= 0xFFFF:
        t |= 0x10
        header = struct.pack(">H", length)
    elif length <= 0xFFFFFF:
        t |= 0x18
        header = struct.pack(">I", length)[1:]
    else:
        raise ValueError("value too long")
    return bytes([t]) + ident_bytes + header + value_bytes


def encode_resource(ident, value):
    if isinstance(value, tuple) and value and value[0] == "multi":
        inner = b"".join(
            encode_tlv(RESOURCE_INSTANCE, i, encode_value(v)) for i, v in sorted(value[1].items())
        )
        return encode_tlv(MULTIPLE_RESOURCE, ident, inner)
    return encode_tlv(RESOURCE, ident, encode_value(value))


def encode_resources(resources):
    return b"".join(encode_resource(i, v) for i, v in resources)


def encode_instance(instance_id, resources):
    return encode_tlv(OBJECT_INSTANCE, instance_id, encode_resources(resources))


def decode(data):
    """Decode a TLV payload into a list of (kind, id, value_bytes_or_children)."""
    out = []
    pos = 0
    data = bytes(data)
    while pos < len(data):
        t = data[pos]
        pos += 1
        kind = t >> 6
        if t & 0x20:
            ident = struct.unpack(">H", data[pos:pos + 2])[0]
            pos += 2
        else:
            ident = data[pos]
            pos += 1
        ltype = (t >> 3) & 0x03
        if ltype == 0:
            length = t & 0x07
        else:
            length = int.from_bytes(data[pos:pos + ltype], "big")
            pos += ltype
        value = data[pos:pos + length]
        if len(value) != length:
            raise ValueError("truncated TLV")
        pos += length
        if kind in (OBJECT_INSTANCE, MULTIPLE_RESOURCE):
            out.append((kind, ident, decode(value)))
        else:
            out.append((kind, ident, value))
    return out


def decode_int(b):
    return int.from_bytes(b, "big", signed=True) if b else 0


if __name__ == "__main__":
    # Self-check against the OMA TS 1.0 example (Device object, single instance, 6.4.3.1).
    assert encode_resource(0, "Open Mobile Alliance") == bytes([0xC8, 0x00, 0x14]) + b"Open Mobile Alliance"
    assert encode_resource(6, ("multi", {0: 1, 1: 5})) == bytes([0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05])
    assert encode_resource(13, 0x5182428F) == bytes([0xC4, 0x0D, 0x51, 0x82, 0x42, 0x8F])
    assert encode_resource(1, True) == bytes([0xC1, 0x01, 0x01])
    assert encode_resource(0x100, 1) == bytes([0xE1, 0x01, 0x00, 0x01])
    assert decode(encode_resources([(0, "x"), (1, 5)])) == [(3, 0, b"x"), (3, 1, b"\x05")]
    print("lwm2m_tlv self-check ok")

//! A small, strict CoRE link-format (RFC 6690) reader for Register payloads and Discover results.

/// One link: the target (between `<` and `>`) and its attributes in order; quoted values are
/// returned without quotes, bare attributes (`;obs`) have `None`.
pub type LinkEntry = (String, Vec<(String, Option<String>)>);

/// Parses `</1/0>,</3/0>;ver=1.0,</5>;rt="oma.lwm2m"`. The empty string is an empty list.
/// Whitespace, empty links, unterminated targets or quotes are errors.
pub fn parse(s: &str) -> Result<Vec<LinkEntry>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    if b.is_empty() {
        return Ok(out);
    }
    loop {
        if b.get(i) != Some(&b'<') {
            return Err(format!("expected '<' at {i}"));
        }
        let end = s[i + 1..].find('>').ok_or_else(|| format!("unterminated target at {i}"))?;
        let target = &s[i + 1..i + 1 + end];
        if target.contains('<') || target.chars().any(char::is_whitespace) {
            return Err(format!("bad target {target:?}"));
        }
        i += end + 2;
        let mut attrs = Vec::new();
        while b.get(i) == Some(&b';') {
            i += 1;
            let start = i;
            while i < b.len() && !matches!(b[i], b'=' | b';' | b',') {
                i += 1;
            }
            let name = &s[start..i];
            if name.is_empty()
                || !name.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_.*".contains(&c))
            {
                return Err(format!("bad attribute name {name:?} at {start}"));
            }
            let value = if b.get(i) == Some(&b'=') {
                i += 1;
                if b.get(i) == Some(&b'"') {
                    let close =
                        s[i + 1..].find('"').ok_or_else(|| format!("unterminated quote at {i}"))?;
                    let v = s[i + 1..i + 1 + close].to_string();
                    i += close + 2;
                    Some(v)
                } else {
                    let vs = i;
                    while i < b.len() && !matches!(b[i], b';' | b',') {
                        i += 1;
                    }
                    let v = &s[vs..i];
                    if v.is_empty() || v.contains('"') || v.chars().any(char::is_whitespace) {
                        return Err(format!("bad attribute value {v:?} at {vs}"));
                    }
                    Some(v.to_string())
                }
            } else {
                None
            };
            attrs.push((name.to_string(), value));
        }
        out.push((target.to_string(), attrs));
        match b.get(i) {
            None => return Ok(out),
            Some(b',') => i += 1,
            Some(&c) => return Err(format!("unexpected {:?} at {i}", c as char)),
        }
    }
}

/// Just the targets of [`parse`], e.g. `["/1/0", "/3/0"]`.
pub fn targets(s: &str) -> Result<Vec<String>, String> {
    Ok(parse(s)?.into_iter().map(|(t, _)| t).collect())
}

/// The value of attribute `name` of a parsed link (`Some(None)` for a bare attribute).
pub fn attr<'a>(link: &'a LinkEntry, name: &str) -> Option<Option<&'a str>> {
    link.1.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_payload() {
        let l = parse("</>;rt=\"oma.lwm2m\";ct=11542,</1/0>,</3/0>,</5/0>").unwrap();
        assert_eq!(l.len(), 4);
        assert_eq!(l[0].0, "/");
        assert_eq!(
            l[0].1,
            vec![
                ("rt".to_string(), Some("oma.lwm2m".to_string())),
                ("ct".to_string(), Some("11542".to_string()))
            ]
        );
        assert_eq!(targets("</1/0>,</3/0>").unwrap(), vec!["/1/0", "/3/0"]);
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn discover_payload() {
        let l = parse("</3/0>;pmin=10;pmax=60,</3/0/1>,</3/0/7>;dim=2;obs,</1/0>;ver=\"1,0;x\"")
            .unwrap();
        assert_eq!(attr(&l[0], "pmax"), Some(Some("60")));
        assert_eq!(attr(&l[2], "obs"), Some(None));
        assert_eq!(attr(&l[2], "dim"), Some(Some("2")));
        assert_eq!(attr(&l[3], "ver"), Some(Some("1,0;x")));
        assert_eq!(attr(&l[1], "x"), None);
    }

    #[test]
    fn errors() {
        for bad in [
            "/1/0",
            "</1/0",
            "</1/0>,",
            "</1/0>,,</3/0>",
            "</1/0> ,</3/0>",
            "</1/0>;",
            "</1/0>;a=",
            "</1/0>;a=\"x",
            "</1/0>x",
            "< /1>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}

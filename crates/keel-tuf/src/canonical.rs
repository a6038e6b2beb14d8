//! Canonical JSON: the bytes TUF signs and key ids hash (OLPC canonical JSON, as
//! securesystemslib writes it).

use serde_json::Value;

use crate::{Error, Failure};

/// The canonical JSON form of `value` that TUF signs (OLPC canonical JSON, as
/// securesystemslib writes it): keys sorted, no spaces, only `"` and `\` escaped in strings,
/// integers only.
pub fn canonical(value: &Value) -> Result<Vec<u8>, Error> {
    fn write(out: &mut Vec<u8>, value: &Value) -> Result<(), Error> {
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Number(n) => {
                if n.is_f64() {
                    return Err(Error::new(
                        Failure::Malformed,
                        "a non-integer number in signed metadata",
                    ));
                }
                out.extend_from_slice(n.to_string().as_bytes());
            }
            Value::String(s) => write_string(out, s),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(out, item)?;
                }
                out.push(b']');
            }
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_string(out, key);
                    out.push(b':');
                    write(out, &map[key])?;
                }
                out.push(b'}');
            }
        }
        Ok(())
    }
    fn write_string(out: &mut Vec<u8>, s: &str) {
        out.push(b'"');
        for byte in s.bytes() {
            if byte == b'"' || byte == b'\\' {
                out.push(b'\\');
            }
            out.push(byte);
        }
        out.push(b'"');
    }
    let mut out = Vec::new();
    write(&mut out, value)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_escapes_only_quote_and_backslash() {
        let value: Value =
            serde_json::from_str(r#"{"b": [1, true, null], "a": "x\"y\\z\n", "é": -3}"#).unwrap();
        assert_eq!(
            String::from_utf8(canonical(&value).unwrap()).unwrap(),
            "{\"a\":\"x\\\"y\\\\z\n\",\"b\":[1,true,null],\"é\":-3}"
        );
        assert!(canonical(&serde_json::json!({"a": 1.5})).is_err());
    }
}

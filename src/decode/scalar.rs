//! Lenient scalar readers for Graph JSON values.
//!
//! Graph (and the tools that export it) are loose about scalar encodings: Int64 and Decimal
//! arrive as strings under `IEEE754Compatible=true`, floats as `"NaN"`/`"INF"`, integral floats
//! without a decimal point, ids as numbers. Each type here accepts every encoding that means the
//! same value and rejects the rest with a message naming what it got, so a record is either read
//! exactly or rejected with a reason — never silently coerced into something else.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// A string borrowed from the input buffer when it needs no unescaping.
///
/// Numbers are accepted and kept in their decimal text (stream ids are sometimes numbers).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str<'a>(pub Cow<'a, str>);

impl<'a> Str<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object key, borrowed when possible (keys are matched, then dropped).
pub struct Key<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses the OData spellings of a float held in a string: `NaN`, `INF`, `-INF`, or a number.
fn float_from_text(v: &str) -> Option<f64> {
    match v.trim() {
        "NaN" => Some(f64::NAN),
        "INF" | "Infinity" | "+INF" => Some(f64::INFINITY),
        "-INF" | "-Infinity" => Some(f64::NEG_INFINITY),
        t => t.parse::<f64>().ok(),
    }
}

/// Edm.Single / Edm.Double / Edm.Decimal read as f64 (number or numeric string).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct F64(pub f64);

impl<'de> Deserialize<'de> for F64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = F64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number (or a numeric string, \"NaN\", \"INF\", \"-INF\")")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<F64, E> {
                Ok(F64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<F64, E> {
                Ok(F64(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<F64, E> {
                Ok(F64(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<F64, E> {
                float_from_text(v).map(F64).ok_or_else(|| {
                    E::custom(format_args!("expected a number, got the string {v:?}"))
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Edm.Int64 / Edm.Int32 read as i64: integer, integral float, or integer string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct I64(pub i64);

impl<'de> Deserialize<'de> for I64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = I64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer (or an integer string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<I64, E> {
                Ok(I64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<I64, E> {
                i64::try_from(v)
                    .map(I64)
                    .map_err(|_| E::custom(format_args!("integer {v} is out of the Int64 range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<I64, E> {
                if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
                    Ok(I64(v as i64))
                } else {
                    Err(E::custom(format_args!("expected an integer, got {v}")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<I64, E> {
                v.trim().parse::<i64>().map(I64).map_err(|_| {
                    E::custom(format_args!("expected an integer, got the string {v:?}"))
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Edm.Int32: as [`I64`], then range-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct I32(pub i32);

impl<'de> Deserialize<'de> for I32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let I64(v) = I64::deserialize(d)?;
        i32::try_from(v)
            .map(I32)
            .map_err(|_| de::Error::custom(format_args!("integer {v} is out of the Int32 range")))
    }
}

/// Edm.Boolean: `true`/`false`, or the strings `"true"`/`"false"` (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bool(pub bool);

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Bool, E> {
                Ok(Bool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bool, E> {
                if v.eq_ignore_ascii_case("true") {
                    Ok(Bool(true))
                } else if v.eq_ignore_ascii_case("false") {
                    Ok(Bool(false))
                } else {
                    Err(E::custom(format_args!(
                        "expected a boolean, got the string {v:?}"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Edm.Duration (ISO 8601, e.g. `PT0.016S`, `P1DT2H`, `-PT1M`) converted to milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DurationMs(pub f64);

impl<'de> Deserialize<'de> for DurationMs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DurationMs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an ISO 8601 duration string such as \"PT0.016S\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationMs, E> {
                parse_iso8601_duration_ms(v).map(DurationMs).ok_or_else(|| {
                    E::custom(format_args!(
                        "invalid ISO 8601 duration {v:?} (expected e.g. \"PT0.016S\")"
                    ))
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses `[-]P[nW][nD][T[nH][nM][n[.n]S]]` into milliseconds. Years and months are rejected:
/// their length is not fixed, and Edm.Duration values from Graph never use them.
pub fn parse_iso8601_duration_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    if rest.is_empty() {
        return None;
    }
    let mut total_ms = 0.0f64;
    let mut in_time = false;
    let mut num_start: Option<usize> = None;
    let mut any = false;
    let bytes = rest.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' | b'.' | b',' => {
                if num_start.is_none() {
                    num_start = Some(i);
                }
            }
            b'T' | b't' => {
                if in_time || num_start.is_some() {
                    return None;
                }
                in_time = true;
            }
            _ => {
                let start = num_start.take()?;
                let text = &rest[start..i];
                // ISO 8601 allows a decimal comma; only then is a copy needed.
                let n: f64 = if text.contains(',') {
                    text.replace(',', ".").parse().ok()?
                } else {
                    text.parse().ok()?
                };
                let unit_ms = match (b.to_ascii_uppercase(), in_time) {
                    (b'W', false) => 7.0 * 86_400_000.0,
                    (b'D', false) => 86_400_000.0,
                    (b'H', true) => 3_600_000.0,
                    (b'M', true) => 60_000.0,
                    (b'S', true) => 1_000.0,
                    _ => return None,
                };
                total_ms += n * unit_ms;
                any = true;
            }
        }
    }
    if num_start.is_some() || !any {
        return None;
    }
    Some(if neg { -total_ms } else { total_ms })
}

/// Edm.DateTimeOffset (RFC 3339) converted to microseconds since the Unix epoch, UTC.
///
/// A value without an offset is read as UTC (some export tools drop the `Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct TimestampUs(pub i64);

impl<'de> Deserialize<'de> for TimestampUs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimestampUs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimestampUs, E> {
                parse_timestamp_us(v)
                    .map(TimestampUs)
                    .ok_or_else(|| E::custom(format_args!("invalid RFC 3339 timestamp {v:?}")))
            }
        }
        d.deserialize_str(V)
    }
}

pub fn parse_timestamp_us(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.timestamp_micros());
    }
    // No offset: read as UTC.
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc().timestamp_micros())
}

/// Formats a microsecond timestamp as the UTC date used for partition folders.
pub fn utc_date(us: i64) -> Option<chrono::NaiveDate> {
    chrono::DateTime::from_timestamp_micros(us).map(|t| t.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_iso8601_duration_ms("PT0.016S"), Some(16.0));
        assert_eq!(parse_iso8601_duration_ms("PT1M2.5S"), Some(62_500.0));
        assert_eq!(parse_iso8601_duration_ms("P1DT2H"), Some(93_600_000.0));
        assert_eq!(parse_iso8601_duration_ms("-PT0.5S"), Some(-500.0));
        assert_eq!(parse_iso8601_duration_ms("PT0,25S"), Some(250.0));
        assert_eq!(parse_iso8601_duration_ms("PT0S"), Some(0.0));
        for bad in [
            "", "P", "PT", "fast", "PT1", "P1M", "PT1X", "0.016", "PTS", "P1H",
        ] {
            assert_eq!(parse_iso8601_duration_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp_us("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(
            parse_timestamp_us("2020-02-25T18:52:21.2169889Z"),
            Some(1_582_656_741_216_988)
        );
        assert_eq!(parse_timestamp_us("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_timestamp_us("1970-01-01T00:00:02"), Some(2_000_000));
        assert_eq!(parse_timestamp_us("yesterday"), None);
    }

    #[test]
    fn lenient_numbers() {
        let f: Vec<F64> = serde_json::from_str(r#"[1, 0.5, "2.5", "NaN", "INF", "-INF"]"#).unwrap();
        assert_eq!(f[0].0, 1.0);
        assert_eq!(f[2].0, 2.5);
        assert!(f[3].0.is_nan());
        assert_eq!(f[4].0, f64::INFINITY);
        assert_eq!(f[5].0, f64::NEG_INFINITY);
        let i: Vec<I64> = serde_json::from_str(r#"[1, "1200", 3.0, -4]"#).unwrap();
        assert_eq!(
            i.iter().map(|x| x.0).collect::<Vec<_>>(),
            vec![1, 1200, 3, -4]
        );
        assert!(serde_json::from_str::<I64>("1.5").is_err());
        assert!(serde_json::from_str::<I64>("\"abc\"").is_err());
        assert!(serde_json::from_str::<I64>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<I32>("4294967295").is_err());
        assert!(serde_json::from_str::<F64>("{}").is_err());
        let b: Vec<Bool> = serde_json::from_str(r#"[true, "False"]"#).unwrap();
        assert_eq!((b[0].0, b[1].0), (true, false));
        let s: Vec<Str> = serde_json::from_str(r#"["a", 648]"#).unwrap();
        assert_eq!(s[1].as_str(), "648");
        assert!(matches!(s[0].0, Cow::Borrowed(_)));
    }
}

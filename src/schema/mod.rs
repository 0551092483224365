//! The declared output schema: tables, columns, types, units and Graph sources.
//!
//! Columns are not listed twice. Each table has one emitter function (in `flatten::tables`) that
//! walks a row and calls [`Emit`] once per column, in order, with the column's name, unit, source
//! property and value. Run against a [`SchemaCollector`] (over an empty default row) it yields the
//! schema; run against the Arrow appender it fills builders. Both come from the same code, so the
//! Parquet schema, the `callrec schema` documentation and the values can never drift apart, and
//! the schema never depends on the data: every run writes the same columns.

mod markdown;

pub use markdown::schema_markdown;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::{Arc, OnceLock};

/// Bumped whenever a column is added, removed, renamed or changes type or meaning.
pub const SCHEMA_VERSION: u32 = 2;

/// The physical type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Utf8,
    Int32,
    Int64,
    Float64,
    Bool,
    /// Microseconds since the Unix epoch, UTC.
    TimestampUs,
    /// A list of strings.
    ListUtf8,
}

impl ColType {
    pub fn arrow(self) -> DataType {
        match self {
            ColType::Utf8 => DataType::Utf8,
            ColType::Int32 => DataType::Int32,
            ColType::Int64 => DataType::Int64,
            ColType::Float64 => DataType::Float64,
            ColType::Bool => DataType::Boolean,
            ColType::TimestampUs => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColType::ListUtf8 => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        }
    }

    /// The name shown in the schema documentation (Parquet / SQL reader view).
    pub fn doc_name(self) -> &'static str {
        match self {
            ColType::Utf8 => "string",
            ColType::Int32 => "int32",
            ColType::Int64 => "int64",
            ColType::Float64 => "double",
            ColType::Bool => "boolean",
            ColType::TimestampUs => "timestamp[us, UTC]",
            ColType::ListUtf8 => "list<string>",
        }
    }
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: String,
    pub ty: ColType,
    /// Unit or value domain ("ms", "fraction 0-1", "bits/s", …); empty when none applies.
    pub unit: &'static str,
    /// The Graph property the value comes from as `type.property` (`mediaStream.averageJitter`),
    /// or a description starting with `derived:` / `key:` for columns callrec computes.
    pub source: String,
    /// Where that property sits relative to the row's entity (`media.callerDevice`), if nested.
    pub path: String,
    /// Whether the column identifies a person, and how ([`crate::pii::classify`]): `--pii`
    /// hashes or drops exactly these columns.
    pub pii: Option<crate::pii::PiiKind>,
}

/// Receives the columns of one row, in schema order.
///
/// `name`, `unit` and `source` are only read by the schema collector; the appender ignores them,
/// so they cost nothing when rows are written.
pub trait Emit {
    fn str(&mut self, name: &'static str, source: &'static str, v: Option<&str>);
    fn i32(&mut self, name: &'static str, unit: &'static str, source: &'static str, v: Option<i32>);
    fn i64(&mut self, name: &'static str, unit: &'static str, source: &'static str, v: Option<i64>);
    fn f64(&mut self, name: &'static str, unit: &'static str, source: &'static str, v: Option<f64>);
    fn bool(&mut self, name: &'static str, source: &'static str, v: Option<bool>);
    fn ts(&mut self, name: &'static str, source: &'static str, v: Option<i64>);
    fn list<'x, I: Iterator<Item = &'x str>>(
        &mut self,
        name: &'static str,
        source: &'static str,
        v: Option<I>,
    );
    /// Emits a group of columns whose names get `prefix` and whose path gets `source_prefix`
    /// (e.g. `caller_` and `caller.`).
    fn group(
        &mut self,
        prefix: &'static str,
        source_prefix: &'static str,
        f: impl FnOnce(&mut Self),
    );
}

/// Collects the column list by running an emitter over an empty row.
#[derive(Default)]
pub struct SchemaCollector {
    pub columns: Vec<ColumnSpec>,
    name_prefix: String,
    source_prefix: String,
}

impl SchemaCollector {
    fn push(&mut self, name: &str, ty: ColType, unit: &'static str, source: &str) {
        let name = format!("{}{}", self.name_prefix, name);
        self.columns.push(ColumnSpec {
            pii: crate::pii::classify(&name),
            name,
            ty,
            unit,
            source: source.to_owned(),
            path: self.source_prefix.trim_end_matches('.').to_owned(),
        });
    }
}

impl Emit for SchemaCollector {
    fn str(&mut self, name: &'static str, source: &'static str, _: Option<&str>) {
        self.push(name, ColType::Utf8, "", source)
    }
    fn i32(
        &mut self,
        name: &'static str,
        unit: &'static str,
        source: &'static str,
        _: Option<i32>,
    ) {
        self.push(name, ColType::Int32, unit, source)
    }
    fn i64(
        &mut self,
        name: &'static str,
        unit: &'static str,
        source: &'static str,
        _: Option<i64>,
    ) {
        self.push(name, ColType::Int64, unit, source)
    }
    fn f64(
        &mut self,
        name: &'static str,
        unit: &'static str,
        source: &'static str,
        _: Option<f64>,
    ) {
        self.push(name, ColType::Float64, unit, source)
    }
    fn bool(&mut self, name: &'static str, source: &'static str, _: Option<bool>) {
        self.push(name, ColType::Bool, "", source)
    }
    fn ts(&mut self, name: &'static str, source: &'static str, _: Option<i64>) {
        self.push(name, ColType::TimestampUs, "UTC", source)
    }
    fn list<'x, I: Iterator<Item = &'x str>>(
        &mut self,
        name: &'static str,
        source: &'static str,
        _: Option<I>,
    ) {
        self.push(name, ColType::ListUtf8, "", source)
    }
    fn group(
        &mut self,
        prefix: &'static str,
        source_prefix: &'static str,
        f: impl FnOnce(&mut Self),
    ) {
        let (np, sp) = (self.name_prefix.len(), self.source_prefix.len());
        self.name_prefix.push_str(prefix);
        self.source_prefix.push_str(source_prefix);
        f(self);
        self.name_prefix.truncate(np);
        self.source_prefix.truncate(sp);
    }
}

/// The output tables. Each is a folder `DIR/<name>/date=YYYY-MM-DD/*.parquet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Calls,
    Participants,
    Sessions,
    Segments,
    Streams,
    TraceRouteHops,
}

impl Table {
    pub const ALL: [Table; 6] = [
        Table::Calls,
        Table::Participants,
        Table::Sessions,
        Table::Segments,
        Table::Streams,
        Table::TraceRouteHops,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Calls => "calls",
            Table::Participants => "participants",
            Table::Sessions => "sessions",
            Table::Segments => "segments",
            Table::Streams => "streams",
            Table::TraceRouteHops => "trace_route_hops",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// One line on what a row is.
    pub fn grain(self) -> &'static str {
        match self {
            Table::Calls => "one row per call record (latest version of each call id)",
            Table::Participants => {
                "one row per participant: `participants_v2` items and, for older exports, the deprecated `participants` identity sets (column `source` tells which)"
            }
            Table::Sessions => "one row per session, with its call context and both endpoints",
            Table::Segments => "one row per segment, with its call and session context and both endpoints",
            Table::Streams => {
                "one row per media stream, with its media line, both sides' device and network info, and the keys and context of its segment, session and call; a media line without streams gives one row with a null `stream_ordinal`"
            }
            Table::TraceRouteHops => "one row per trace-route hop of a media line's caller or callee network",
        }
    }

    pub fn columns(self) -> &'static [ColumnSpec] {
        static CACHE: OnceLock<Vec<Vec<ColumnSpec>>> = OnceLock::new();
        &CACHE.get_or_init(|| {
            Table::ALL
                .iter()
                .map(|t| crate::flatten::tables::collect_columns(*t))
                .collect()
        })[self.index()]
    }

    pub fn arrow_schema(self) -> SchemaRef {
        static CACHE: OnceLock<Vec<SchemaRef>> = OnceLock::new();
        CACHE.get_or_init(|| {
            Table::ALL
                .iter()
                .map(|t| {
                    let fields: Vec<Field> = t
                        .columns()
                        .iter()
                        .map(|c| Field::new(&c.name, c.ty.arrow(), true))
                        .collect();
                    Arc::new(Schema::new(fields))
                })
                .collect()
        })[self.index()]
        .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn column_names_are_unique_snake_case_and_units_are_named() {
        for t in Table::ALL {
            let mut seen = HashSet::new();
            for c in t.columns() {
                assert!(
                    seen.insert(c.name.as_str()),
                    "{}: duplicate column {}",
                    t.name(),
                    c.name
                );
                assert!(
                    c.name
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                    "{}: column {} is not snake_case",
                    t.name(),
                    c.name
                );
                if c.unit == "ms" {
                    assert!(
                        c.name.ends_with("_ms"),
                        "{}: {} holds ms but lacks _ms",
                        t.name(),
                        c.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_table_starts_with_call_id() {
        for t in Table::ALL {
            assert_eq!(t.columns()[0].name, "call_id", "{}", t.name());
        }
    }
}

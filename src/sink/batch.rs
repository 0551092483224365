//! Arrow builders for one table, filled column by column through [`Emit`].

use crate::schema::{ColType, Emit, Table};
use arrow_array::builder::*;
use arrow_array::{ArrayRef, RecordBatch};
use std::sync::Arc;

enum AnyBuilder {
    Utf8(StringBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMicrosecondBuilder),
    List(ListBuilder<StringBuilder>),
}

impl AnyBuilder {
    fn new(ty: ColType, cap: usize) -> Self {
        match ty {
            ColType::Utf8 => AnyBuilder::Utf8(StringBuilder::with_capacity(cap, cap * 16)),
            ColType::Int32 => AnyBuilder::I32(Int32Builder::with_capacity(cap)),
            ColType::Int64 => AnyBuilder::I64(Int64Builder::with_capacity(cap)),
            ColType::Float64 => AnyBuilder::F64(Float64Builder::with_capacity(cap)),
            ColType::Bool => AnyBuilder::Bool(BooleanBuilder::with_capacity(cap)),
            ColType::TimestampUs => {
                AnyBuilder::Ts(TimestampMicrosecondBuilder::with_capacity(cap).with_timezone("UTC"))
            }
            ColType::ListUtf8 => AnyBuilder::List(ListBuilder::new(StringBuilder::new())),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            AnyBuilder::Utf8(b) => Arc::new(b.finish()),
            AnyBuilder::I32(b) => Arc::new(b.finish()),
            AnyBuilder::I64(b) => Arc::new(b.finish()),
            AnyBuilder::F64(b) => Arc::new(b.finish()),
            AnyBuilder::Bool(b) => Arc::new(b.finish()),
            AnyBuilder::Ts(b) => Arc::new(b.finish()),
            AnyBuilder::List(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows of one table being collected into a RecordBatch.
///
/// It is its own [`Emit`] target: `append` resets the column cursor and runs the row's emitter.
pub struct BatchBuilder {
    table: Table,
    builders: Vec<AnyBuilder>,
    rows: usize,
    next: usize,
    /// `--pii hash|drop`: the table's personal columns and what to write instead.
    pii: Option<crate::pii::PiiColumns>,
}

impl BatchBuilder {
    pub fn new(table: Table, capacity: usize) -> Self {
        let builders = table
            .columns()
            .iter()
            .map(|c| AnyBuilder::new(c.ty, capacity))
            .collect();
        BatchBuilder {
            table,
            builders,
            rows: 0,
            next: 0,
            pii: None,
        }
    }

    /// Applies `policy` to the table's personal columns ([`crate::pii`]).
    pub fn with_pii(mut self, policy: &crate::pii::PiiPolicy) -> Self {
        self.pii = crate::pii::PiiColumns::new(self.table, policy);
        self
    }

    pub fn table(&self) -> Table {
        self.table
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Appends one row by running `emit` over the column builders.
    pub fn append(&mut self, emit: impl FnOnce(&mut Self)) {
        self.next = 0;
        emit(self);
        debug_assert_eq!(
            self.next,
            self.builders.len(),
            "emitter of {} wrote a short row",
            self.table.name()
        );
        self.rows += 1;
    }

    pub fn finish(&mut self) -> RecordBatch {
        let columns = self.builders.iter_mut().map(AnyBuilder::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(self.table.arrow_schema(), columns)
            .expect("builders match the declared schema")
    }
}

impl BatchBuilder {
    #[inline]
    fn take(&mut self) -> &mut AnyBuilder {
        let b = &mut self.builders[self.next];
        self.next += 1;
        b
    }
}

// A mismatch below would mean an emitter called a different method for the schema than for the
// values; both come from the same function, so it cannot happen without a code change.
const MISMATCH: &str = "emitter called a different column type than the schema declares";

impl Emit for BatchBuilder {
    #[inline]
    fn str(&mut self, _: &'static str, _: &'static str, v: Option<&str>) {
        let col = self.next;
        self.next += 1;
        let AnyBuilder::Utf8(b) = &mut self.builders[col] else {
            unreachable!("{MISMATCH}")
        };
        match &mut self.pii {
            Some(p) if p.applies(col) => b.append_option(p.apply(v)),
            _ => b.append_option(v),
        }
    }
    #[inline]
    fn i32(&mut self, _: &'static str, _: &'static str, _: &'static str, v: Option<i32>) {
        match self.take() {
            AnyBuilder::I32(b) => b.append_option(v),
            _ => unreachable!("{MISMATCH}"),
        }
    }
    #[inline]
    fn i64(&mut self, _: &'static str, _: &'static str, _: &'static str, v: Option<i64>) {
        match self.take() {
            AnyBuilder::I64(b) => b.append_option(v),
            _ => unreachable!("{MISMATCH}"),
        }
    }
    #[inline]
    fn f64(&mut self, _: &'static str, _: &'static str, _: &'static str, v: Option<f64>) {
        match self.take() {
            AnyBuilder::F64(b) => b.append_option(v),
            _ => unreachable!("{MISMATCH}"),
        }
    }
    #[inline]
    fn bool(&mut self, _: &'static str, _: &'static str, v: Option<bool>) {
        match self.take() {
            AnyBuilder::Bool(b) => b.append_option(v),
            _ => unreachable!("{MISMATCH}"),
        }
    }
    #[inline]
    fn ts(&mut self, _: &'static str, _: &'static str, v: Option<i64>) {
        match self.take() {
            AnyBuilder::Ts(b) => b.append_option(v),
            _ => unreachable!("{MISMATCH}"),
        }
    }
    fn list<'x, I: Iterator<Item = &'x str>>(
        &mut self,
        _: &'static str,
        _: &'static str,
        v: Option<I>,
    ) {
        match self.take() {
            AnyBuilder::List(b) => match v {
                Some(items) => {
                    for item in items {
                        b.values().append_value(item);
                    }
                    b.append(true);
                }
                None => b.append(false),
            },
            _ => unreachable!("{MISMATCH}"),
        }
    }
    #[inline]
    fn group(&mut self, _: &'static str, _: &'static str, f: impl FnOnce(&mut Self)) {
        f(self)
    }
}

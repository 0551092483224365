//! Integration tests: run the flatten job on fixtures, read the Parquet back, assert values.

mod cli;
mod common;
mod doc_examples;
mod fixtures;
mod fuzz;
mod hostile;
mod nightly;
mod pii;
mod props;
mod quality;
#[cfg(feature = "report")]
mod report;
mod sample_data;
mod schema_docs;

//! callrec: Microsoft Teams call records (Graph `callRecord` exports) → Parquet tables.
//!
//! The pipeline, one module per stage: [`discover`] (which files) → [`decode`] (bytes → call
//! records) → [`flatten`] (records → rows) → [`sink`] (rows → Parquet, staged and published).
//! [`schema`] declares the tables; [`run`] drives the stages and [`manifest`] accounts for every
//! input. [`cli`] resolves the command line once into the configs the stages take.

pub mod cli;
pub mod crashpoint;
pub mod decode;
pub mod discover;
pub mod exit;
pub mod flatten;
pub mod fuzz;
pub mod gen;
pub mod incremental;
pub mod lock;
pub mod manifest;
pub mod pii;
pub mod quality;
pub mod queue;
pub mod run;
pub mod schema;
pub mod sink;
pub mod state;

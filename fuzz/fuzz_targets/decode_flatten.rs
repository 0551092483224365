//! Arbitrary bytes → decode (gzip, classification, records, pages, NDJSON fallback) → flatten
//! into a counting sink and the Arrow builders. Must never panic. The harness is
//! `callrec::fuzz::decode_flatten`, which tests/it/fuzz.rs also runs on stable.

#![no_main]

use callrec::quality::{Context, Profile};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// With the fixtures' building file, so subnet and IP matching sees fuzzed addresses.
fn quality() -> &'static Context {
    static Q: OnceLock<Context> = OnceLock::new();
    Q.get_or_init(|| {
        let buildings = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/buildings/buildings.csv"
        );
        Context::load(Profile::CqdCurrent, Some(buildings.as_ref())).expect("building file")
    })
}

fuzz_target!(|data: &[u8]| {
    callrec::fuzz::decode_flatten(data, quality());
});

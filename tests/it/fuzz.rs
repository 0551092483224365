//! The fuzz target's code (`callrec::fuzz::decode_flatten`) on random bytes, random JSON-ish
//! token soup and mutated fixtures, for a bounded number of cases: CI runs what cargo-fuzz runs
//! (see fuzz/ and the README's Development section), so a panic shows up without a nightly
//! toolchain. The seeds are the committed fuzz corpus (fuzz/corpus/decode_flatten/).

use crate::common::*;
use callrec::fuzz::decode_flatten;
use callrec::quality::{Context, Profile};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::OnceLock;

/// The corpus files, small ones first.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = root().join("fuzz/corpus/decode_flatten");
        let mut files: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        files.sort_by_key(|f| (f.len(), f.clone()));
        assert!(files.len() >= 20, "the corpus has {} files", files.len());
        files
    })
}

/// With the fixtures' building file, so subnet/IP matching sees mutated addresses.
fn quality() -> &'static Context {
    static Q: OnceLock<Context> = OnceLock::new();
    Q.get_or_init(|| {
        Context::load(
            Profile::CqdCurrent,
            Some(&fixture("buildings/buildings.csv")),
        )
        .unwrap()
    })
}

/// JSON fragments that reach the lenient scalar readers and the classifiers.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "\"true\"",
    "0",
    "-0",
    "1e400",
    "-1e400",
    "1e-400",
    "99999999999999999999",
    "-9223372036854775809",
    "9223372036854775807",
    "2147483648",
    "0.5",
    "\"NaN\"",
    "\"-INF\"",
    "\"1200\"",
    "\"\"",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\"PT0.5S\"",
    "\"PT-1S\"",
    "\"P1Y2M3DT4H5M6.7S\"",
    "\"PT99999999999999999999S\"",
    "\"2026-11-05T10:00:00Z\"",
    "\"2026-11-05T10:00:00\"",
    "\"9999-12-31T23:59:59.9999999+14:00\"",
    "\"0000-01-01T00:00:00Z\"",
    "\"10.0.0.0\"",
    "\"::ffff:10.1.2.3\"",
    "\"10.0.0.1/33\"",
    "\"fe80::1%eth0\"",
    "\"id\"",
    "\"version\"",
    "\"value\"",
    "\"error\"",
    "\"sessions\"",
    "\"segments\"",
    "\"media\"",
    "\"streams\"",
    "\"participants_v2\"",
    "\"organizer\"",
    "\"identity\"",
    "\"user\"",
    "\"caller\"",
    "\"callee\"",
    "\"callerNetwork\"",
    "\"traceRouteHops\"",
    "\"feedback\"",
    "\"tokens\"",
    "\"label\"",
    "\"main-audio\"",
    "\"startDateTime\"",
    "\"averageJitter\"",
    "\"subnet\"",
    "\"ipAddress\"",
    "\"@odata.type\"",
    "\"#microsoft.graph.callRecords.serviceEndpoint\"",
    "\"@odata.context\"",
    "\"x/callRecords('c')/sessions\"",
    "\"x/callRecords('c')/participants_v2\"",
    "\"Collection(microsoft.graph.callRecords.pstnCallLogRow)\"",
    "\"sessions@odata.nextLink\"",
    "\"changeType\"",
    "\"subscriptionId\"",
    "\n",
    "\r\n",
    "\u{feff}",
    "\u{1F600}",
];

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, usize),
    Replace(usize, usize, usize),
    Delete(usize, usize),
    Truncate(usize),
    Splice(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    let tok = 0..TOKENS.len();
    prop_oneof![
        (pos, 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
        (pos, any::<u8>()).prop_map(|(p, b)| Mutation::SetByte(p, b)),
        (pos, tok.clone()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        (pos, 0usize..16, tok).prop_map(|(p, n, t)| Mutation::Replace(p, n, t)),
        (pos, 0usize..64).prop_map(|(p, n)| Mutation::Delete(p, n)),
        pos.prop_map(Mutation::Truncate),
        (any::<usize>(), pos, pos).prop_map(|(s, a, b)| Mutation::Splice(s, a, b)),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
    match *m {
        Mutation::FlipBit(p, b) if !data.is_empty() => {
            let i = p % data.len();
            data[i] ^= 1 << b;
        }
        Mutation::SetByte(p, v) if !data.is_empty() => {
            let i = p % data.len();
            data[i] = v;
        }
        Mutation::Insert(p, t) => {
            let i = at(p, data.len());
            data.splice(i..i, TOKENS[t].bytes());
        }
        Mutation::Replace(p, n, t) => {
            let i = at(p, data.len());
            let j = (i + n).min(data.len());
            data.splice(i..j, TOKENS[t].bytes());
        }
        Mutation::Delete(p, n) => {
            let i = at(p, data.len());
            let j = (i + n).min(data.len());
            data.drain(i..j);
        }
        Mutation::Truncate(p) => {
            let i = at(p, data.len());
            data.truncate(i);
        }
        Mutation::Splice(s, a, b) => {
            let other = &seeds()[s % seeds().len()];
            let i = at(a, data.len());
            let j = at(b, other.len());
            data.truncate(i);
            data.extend_from_slice(&other[j..]);
        }
        _ => {}
    }
}

fn inflate(gz: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    let _ = flate2::read::MultiGzDecoder::new(gz)
        .take(1 << 20)
        .read_to_end(&mut out);
    out
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn every_corpus_file_and_every_cut_of_it_decodes_without_panic() {
    let mut records = 0;
    for seed in seeds() {
        records += decode_flatten(seed, quality()).records;
        // Cut at 16 places: truncated documents, gzip streams and UTF-8 sequences.
        for k in 1..16 {
            decode_flatten(&seed[..seed.len() * k / 16], quality());
        }
    }
    assert!(records >= 10, "the corpus holds good records: {records}");
}

#[test]
fn random_bytes_decode_without_panic() {
    runner(1024)
        .run(&prop::collection::vec(any::<u8>(), 0..2048), |bytes| {
            decode_flatten(&bytes, quality());
            Ok(())
        })
        .unwrap();
}

#[test]
fn random_token_soup_decodes_without_panic() {
    let soup = prop::collection::vec(0..TOKENS.len(), 0..200);
    runner(2048)
        .run(&soup, |toks| {
            let text: String = toks.iter().map(|&t| TOKENS[t]).collect();
            decode_flatten(text.as_bytes(), quality());
            // The same inside a record, where the typed model reads it.
            let rec = format!("{{\"id\":\"x\",\"sessions\":[{{\"id\":\"s\",{text}");
            decode_flatten(rec.as_bytes(), quality());
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_corpus_files_decode_without_panic() {
    let strategy = (
        any::<prop::sample::Index>(),
        prop::collection::vec(mutation(), 1..8),
        any::<bool>(),
    );
    runner(3072)
        .run(&strategy, |(seed, muts, inside_gzip)| {
            let mut data = seed.get(seeds()).clone();
            let gzip = inside_gzip && data.starts_with(&[0x1f, 0x8b]);
            if gzip {
                // Mutate the inflated text, then compress it again: a valid gzip stream.
                data = inflate(&data);
            }
            for m in &muts {
                apply(&mut data, m);
            }
            if gzip {
                data = deflate(&data);
            }
            decode_flatten(&data, quality());
            Ok(())
        })
        .unwrap();
}

//! Personal data: which columns identify a person, and what `--pii keep|hash|drop` does to them.
//!
//! The classification lives in one place, [`classify`], a function of the column name only (the
//! names carry their Graph path: `caller_identity_user_principal_name`). The schema records it in
//! [`ColumnSpec::pii`](crate::schema::ColumnSpec), `callrec schema` and the README show it, and
//! the Arrow appender ([`crate::sink::batch::BatchBuilder`]) applies the run's [`PiiPolicy`] to
//! exactly those columns as values are appended. Every personal column is a string column, so the
//! Parquet schema is the same in every mode: `drop` writes nulls, `hash` writes pseudonyms.
//!
//! `hash` is HMAC-SHA256 keyed with the user's salt, over the exact UTF-8 value, written as the
//! first 32 lowercase hex digits (128 bits). The same value gives the same pseudonym in every
//! column, table and run that uses the same salt, so joins keep working (a participant's
//! `identity_id` still meets the streams' `caller_participant_id`). Anyone holding the salt can
//! compute the pseudonym of a known value to look it up, with nothing but a standard library:
//! `hmac.new(salt, value, hashlib.sha256).hexdigest()[:32]` in Python.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;

/// `--pii`: what happens to columns that identify a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PiiMode {
    /// Write the values as exported.
    #[default]
    Keep,
    /// Replace each value by a keyed hash (HMAC-SHA256 with --pii-salt): equal values stay equal.
    Hash,
    /// Write null; the columns stay, so the schema is the same.
    Drop,
}

impl PiiMode {
    pub fn name(self) -> &'static str {
        match self {
            PiiMode::Keep => "keep",
            PiiMode::Hash => "hash",
            PiiMode::Drop => "drop",
        }
    }
}

/// What kind of personal data a column holds (shown in `callrec schema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PiiKind {
    /// A user, guest, phone or participant id (for a phone slot, the phone number).
    Id,
    /// A display name.
    Name,
    /// A user principal name (an e-mail-like login).
    Upn,
    /// A whole identity set or identity as JSON: every id and name in it.
    IdentityJson,
    /// The meeting join URL: it carries the organizer's user id.
    Url,
    /// The endpoint's machine name, or an audio device name (Bluetooth headsets are often named
    /// after their owner).
    Device,
    /// An IP address of the user's machine or its route, a MAC address, or a Wi-Fi access
    /// point's BSSID (which locates the user).
    Network,
    /// Free text the user typed.
    Text,
}

impl PiiKind {
    pub fn label(self) -> &'static str {
        match self {
            PiiKind::Id => "id",
            PiiKind::Name => "name",
            PiiKind::Upn => "upn",
            PiiKind::IdentityJson => "identity json",
            PiiKind::Url => "url",
            PiiKind::Device => "device name",
            PiiKind::Network => "network address",
            PiiKind::Text => "free text",
        }
    }
}

/// Whether the column `name` (full, prefixed, as written to Parquet) identifies a person.
///
/// Not personal, on purpose: call, session, segment and stream ids; tenant ids (the
/// organization); app and communication-service ids; administrative unit ids; `cpu_name` (a CPU
/// model); the user agent; the subnet and DNS suffix (a network, mapped to buildings); the media
/// relay's IP address (a Microsoft server); feedback ratings and tokens; `source_path` and the
/// page paths (the export's file names); the `@odata.nextLink` URLs (they hold the call id).
pub fn classify(name: &str) -> Option<PiiKind> {
    let ends = |s: &str| name.ends_with(s);
    let is_or_ends = |s: &str| {
        name.strip_suffix(s)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('_'))
    };
    if ends("user_principal_name") {
        Some(PiiKind::Upn)
    } else if ends("display_name") {
        Some(PiiKind::Name)
    } else if is_or_ends("identity_id")
        || is_or_ends("participant_id")
        || name == "organizer_id"
        || name == "organizer_v2_id"
    {
        Some(PiiKind::Id)
    } else if is_or_ends("identity_json") || name == "organizer_json" {
        Some(PiiKind::IdentityJson)
    } else if name == "join_web_url" {
        Some(PiiKind::Url)
    } else if name == "caller_name" || name == "callee_name" || ends("_device_name") {
        Some(PiiKind::Device)
    } else if (is_or_ends("ip_address") && !ends("relay_ip_address"))
        || ends("mac_address")
        || ends("basic_service_set_identifier")
    {
        Some(PiiKind::Network)
    } else if ends("feedback_text") {
        Some(PiiKind::Text)
    } else {
        None
    }
}

/// The README's list of personal columns per table (the columns `hash` and `drop` touch), as
/// Markdown; a test keeps the README equal to it.
pub fn columns_markdown() -> String {
    use std::fmt::Write;
    let mut out =
        String::from("| table | columns that `--pii hash` and `--pii drop` touch |\n|---|---|\n");
    for t in crate::schema::Table::ALL {
        let cols: Vec<String> = t
            .columns()
            .iter()
            .filter(|c| c.pii.is_some())
            .map(|c| format!("`{}`", c.name))
            .collect();
        let _ = writeln!(out, "| `{}` | {} |", t.name(), cols.join(", "));
    }
    out
}

/// The keyed hash of `--pii hash`: HMAC-SHA256 with the salt as key.
#[derive(Clone)]
pub struct Pseudonymizer {
    /// The MAC with the key already absorbed; cloned per value.
    mac: Hmac<Sha256>,
}

/// Hex digits of a pseudonym (128 bits).
pub const HASH_HEX_DIGITS: usize = 32;

impl Pseudonymizer {
    pub fn new(salt: &str) -> Self {
        Pseudonymizer {
            mac: <Hmac<Sha256> as KeyInit>::new_from_slice(salt.as_bytes())
                .expect("HMAC takes a key of any length"),
        }
    }

    /// Appends the pseudonym of `value` to `out`.
    pub fn hash_into(&self, value: &str, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = self.mac.clone().chain_update(value.as_bytes()).finalize();
        for &b in &digest.into_bytes()[..HASH_HEX_DIGITS / 2] {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }

    pub fn hash(&self, value: &str) -> String {
        let mut s = String::with_capacity(HASH_HEX_DIGITS);
        self.hash_into(value, &mut s);
        s
    }

    /// A fingerprint of the salt for the manifest: runs with equal key ids used the same salt
    /// (so their pseudonyms join). It tells no more about the salt than any pseudonym does.
    pub fn key_id(&self) -> String {
        self.hash("callrec pii key id")[..16].to_owned()
    }
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // Never print the key.
        f.write_str("Pseudonymizer(..)")
    }
}

/// A run's personal-data policy (`--pii`, `--pii-salt`), resolved once.
#[derive(Debug, Clone, Default)]
pub enum PiiPolicy {
    #[default]
    Keep,
    Hash(Arc<Pseudonymizer>),
    Drop,
}

/// The environment variable read for the salt when `--pii-salt` is not given.
pub const SALT_ENV: &str = "CALLREC_PII_SALT";

impl PiiPolicy {
    /// The policy for `mode`; `hash` needs a non-empty salt (`salt` is ignored otherwise).
    pub fn new(mode: PiiMode, salt: Option<&str>) -> anyhow::Result<Self> {
        Ok(match mode {
            PiiMode::Keep => PiiPolicy::Keep,
            PiiMode::Drop => PiiPolicy::Drop,
            PiiMode::Hash => match salt {
                Some(s) if !s.is_empty() => PiiPolicy::Hash(Arc::new(Pseudonymizer::new(s))),
                Some(_) => anyhow::bail!("--pii hash: the salt is empty"),
                None => anyhow::bail!(
                    "--pii hash needs a salt: pass --pii-salt SALT or set {SALT_ENV} (a long random \
                     secret, e.g. `openssl rand -hex 32`; keep it, and use the same one on every \
                     run so hashed values still join)"
                ),
            },
        })
    }

    pub fn mode(&self) -> PiiMode {
        match self {
            PiiPolicy::Keep => PiiMode::Keep,
            PiiPolicy::Hash(_) => PiiMode::Hash,
            PiiPolicy::Drop => PiiMode::Drop,
        }
    }

    /// The salt's fingerprint in hash mode (see [`Pseudonymizer::key_id`]).
    pub fn key_id(&self) -> Option<String> {
        match self {
            PiiPolicy::Hash(p) => Some(p.key_id()),
            _ => None,
        }
    }
}

/// The personal columns of one table and what to do with them, for the Arrow appender.
pub struct PiiColumns {
    /// Per column index: whether the policy applies.
    mask: Box<[bool]>,
    hasher: Option<Arc<Pseudonymizer>>,
    scratch: String,
}

impl PiiColumns {
    /// `None` when nothing is to be done (keep mode, or a table without personal columns), so
    /// the appender's hot path stays a single `Option` check.
    pub fn new(table: crate::schema::Table, policy: &PiiPolicy) -> Option<Self> {
        let hasher = match policy {
            PiiPolicy::Keep => return None,
            PiiPolicy::Hash(h) => Some(h.clone()),
            PiiPolicy::Drop => None,
        };
        let mask: Box<[bool]> = table.columns().iter().map(|c| c.pii.is_some()).collect();
        mask.iter().any(|&m| m).then(|| PiiColumns {
            mask,
            hasher,
            scratch: String::with_capacity(HASH_HEX_DIGITS),
        })
    }

    #[inline]
    pub fn applies(&self, column: usize) -> bool {
        self.mask[column]
    }

    /// The value to write instead of `v`: its pseudonym, or null. Empty strings stay empty (not
    /// personal, and a pseudonym would make all of them look like one person).
    pub fn apply<'a>(&'a mut self, v: Option<&'a str>) -> Option<&'a str> {
        let v = v?;
        let h = self.hasher.as_ref()?;
        if v.is_empty() {
            return Some(v);
        }
        self.scratch.clear();
        h.hash_into(v, &mut self.scratch);
        Some(&self.scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColType, Table};

    #[test]
    fn hash_is_hmac_sha256_truncated_to_32_hex_digits() {
        let p = Pseudonymizer::new("key");
        // The well-known HMAC-SHA256 example (f7bc83f4…2d1a3cd8), cut to 32 digits: what
        // Python's `hmac.new(b"key", msg, hashlib.sha256).hexdigest()[:32]` prints.
        assert_eq!(
            p.hash("The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143"
        );
        assert_eq!(p.hash("x").len(), HASH_HEX_DIGITS);
        assert_ne!(p.hash("x"), Pseudonymizer::new("other").hash("x"));
        assert_eq!(p.key_id().len(), 16);
    }

    #[test]
    fn hash_mode_needs_a_salt_and_debug_hides_it() {
        assert!(PiiPolicy::new(PiiMode::Hash, None).is_err());
        assert!(PiiPolicy::new(PiiMode::Hash, Some("")).is_err());
        let p = PiiPolicy::new(PiiMode::Hash, Some("s3cret")).unwrap();
        assert_eq!(p.mode(), PiiMode::Hash);
        assert!(!format!("{p:?}").contains("s3cret"));
        assert!(PiiPolicy::new(PiiMode::Keep, None).is_ok());
        assert!(PiiPolicy::new(PiiMode::Drop, None)
            .unwrap()
            .key_id()
            .is_none());
    }

    #[test]
    fn every_personal_column_is_a_string_column() {
        // The appender applies the policy in `Emit::str` only.
        for t in Table::ALL {
            for c in t.columns() {
                if c.pii.is_some() {
                    assert_eq!(c.ty, ColType::Utf8, "{}.{}", t.name(), c.name);
                }
            }
        }
    }

    #[test]
    fn classification() {
        let pii = |t: Table| -> Vec<&str> {
            t.columns()
                .iter()
                .filter(|c| c.pii.is_some())
                .map(|c| c.name.as_str())
                .collect()
        };
        assert_eq!(
            pii(Table::Calls),
            [
                "join_web_url",
                "organizer_id",
                "organizer_display_name",
                "organizer_user_principal_name",
                "organizer_json",
                "organizer_v2_id",
                "organizer_v2_identity_id",
                "organizer_v2_identity_display_name",
                "organizer_v2_identity_user_principal_name",
                "organizer_v2_identity_json",
            ]
        );
        assert_eq!(
            pii(Table::Participants),
            [
                "participant_id",
                "identity_id",
                "identity_display_name",
                "identity_user_principal_name",
                "identity_json",
            ]
        );
        assert_eq!(pii(Table::TraceRouteHops), ["ip_address"]);
        let streams = pii(Table::Streams);
        for c in [
            "caller_participant_id",
            "callee_participant_id",
            "caller_device_capture_device_name",
            "callee_device_render_device_name",
            "caller_network_ip_address",
            "caller_network_reflexive_ip_address",
            "callee_network_mac_address",
            "callee_network_basic_service_set_identifier",
        ] {
            assert!(streams.contains(&c), "{c}");
        }
        for c in [
            "caller_network_relay_ip_address",
            "caller_network_subnet",
            "caller_building_name",
            "caller_user_agent_platform",
        ] {
            assert!(!streams.contains(&c), "{c}");
        }
        let sessions = pii(Table::Sessions);
        for c in [
            "caller_name",
            "callee_participant_id",
            "caller_associated_identity_json",
            "callee_identity_user_principal_name",
            "caller_feedback_text",
        ] {
            assert!(sessions.contains(&c), "{c}");
        }
        for c in [
            "call_id",
            "session_id",
            "caller_cpu_name",
            "caller_identity_tenant_id",
            "caller_user_agent_azure_ad_app_id",
            "caller_feedback_tokens_json",
            "caller_feedback_rating",
        ] {
            assert!(!sessions.contains(&c), "{c}");
        }
        assert_eq!(pii(Table::Sessions), pii(Table::Segments));
    }

    #[test]
    fn columns_apply_per_mode() {
        assert!(PiiColumns::new(Table::Calls, &PiiPolicy::Keep).is_none());
        let mut drop = PiiColumns::new(Table::Calls, &PiiPolicy::Drop).unwrap();
        assert_eq!(drop.apply(Some("Alex")), None);
        let h = PiiPolicy::new(PiiMode::Hash, Some("salt")).unwrap();
        let mut hash = PiiColumns::new(Table::Calls, &h).unwrap();
        let want = Pseudonymizer::new("salt").hash("Alex");
        assert_eq!(hash.apply(Some("Alex")), Some(want.as_str()));
        assert_eq!(hash.apply(Some("")), Some(""));
        assert_eq!(hash.apply(None), None);
        let cols = Table::Calls.columns();
        let join = cols.iter().position(|c| c.name == "join_web_url").unwrap();
        assert!(hash.applies(join));
        assert!(!hash.applies(0), "call_id is not personal");
    }
}

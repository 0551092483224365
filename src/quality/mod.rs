//! Call quality, as Microsoft's Call Quality Dashboard (CQD) judges it, on every `streams` row:
//! the stream's modality, good / poor / unclassified by a named CQD rule profile with the reasons,
//! CQD's First/Second endpoint normalisation (server first, `is_server_pair`, inbound), and each
//! side's building, network, city, country, region and inside/outside-corp flag from a CQD
//! building file. The rules and their sources are in `call-quality.md` (§1 classification, §1.5
//! First/Second, §2.3 building file); [`classify`], [`endpoints`] and [`buildings`] hold one part
//! each, and [`columns`] writes them as the last columns of the `streams` table. Without a
//! building file every endpoint is outside corp, as in CQD.

pub mod buildings;
pub mod classify;
pub mod columns;
pub mod endpoints;

pub use buildings::{BadRow, Building, BuildingFileError, BuildingIndex};
pub use classify::{classify, Classification, Metrics, Modality, Profile, Quality, Reason};
pub use endpoints::{Orientation, ServerPair, Side};

use std::path::Path;

/// What the stream emitter needs from the command line: the rule profile and the building index.
/// Built once per run and shared (read-only) by every worker.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub profile: Profile,
    pub buildings: Option<BuildingIndex>,
}

/// The context without options: `cqd-current`, no building file. Used to collect the schema.
pub static DEFAULT_CONTEXT: Context = Context {
    profile: Profile::CqdCurrent,
    buildings: None,
};

impl Context {
    /// The context for `profile`, reading the building file when one is given.
    pub fn load(profile: Profile, buildings: Option<&Path>) -> Result<Context, BuildingFileError> {
        Ok(Context {
            profile,
            buildings: buildings.map(BuildingIndex::load).transpose()?,
        })
    }

    /// The building of an endpoint (see [`BuildingIndex::for_network`]); none without a file.
    pub fn building(&self, subnet: Option<&str>, ip_address: Option<&str>) -> Option<&Building> {
        self.buildings.as_ref()?.for_network(subnet, ip_address)
    }
}

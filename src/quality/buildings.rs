//! The CQD building file (call-quality.md §2.3): network ranges → building, network name, city,
//! country, region, inside corp, ExpressRoute, VPN.
//!
//! Format, as uploaded to CQD: `.csv` or `.tsv` (the delimiter is detected from the first row:
//! tab if it has one, else comma), no header row, 14 or 15 columns per row:
//!
//! `NetworkIP, NetworkName, NetworkRange, BuildingName, OwnershipType, BuildingType,
//! BuildingOfficeType, City, ZipCode, Country, State, Region, InsideCorp, ExpressRoute[, VPN]`
//!
//! NetworkIP is an IPv4 (or IPv6) address and NetworkRange its prefix length (`26` for a /26);
//! host bits in NetworkIP are ignored. InsideCorp and ExpressRoute are required booleans, VPN is
//! optional (default 0); booleans are `0`/`1` (`true`/`false` are accepted too). Fields may be
//! quoted (`"Seattle, WA"`, `""` for a quote) and are trimmed; empty text fields are null.
//! Blank rows and rows of empty fields (as spreadsheet exports leave at the end) are skipped.
//! The text is UTF-8 (a BOM is allowed), UTF-16 with a BOM, or else read as Latin-1.
//!
//! Matching: an endpoint's `networkInfo.subnet` (or its `ipAddress` when the subnet is missing)
//! is looked up in the ranges; when ranges overlap, the longest prefix wins. When the subnet
//! matches no range, the `ipAddress` is tried against the VPN rows, which CQD matches by address
//! because VPN adapters report their subnet badly. Two rows with the same range are an error.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// One row of the building file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Building {
    /// The range's network address (host bits cleared).
    pub network: IpAddr,
    pub prefix_len: u8,
    pub network_name: Option<String>,
    pub name: Option<String>,
    pub ownership_type: Option<String>,
    pub building_type: Option<String>,
    pub office_type: Option<String>,
    pub city: Option<String>,
    pub zip_code: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub region: Option<String>,
    pub inside_corp: bool,
    pub express_route: bool,
    pub vpn: bool,
    /// 1-based line in the file.
    pub line: usize,
}

impl Building {
    /// `10.0.0.0/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.network, self.prefix_len)
    }
}

/// A row that could not be read, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: usize,
    pub message: String,
}

/// Why a building file cannot be used. Every variant names the file.
#[derive(Debug)]
pub enum BuildingFileError {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Empty {
        path: PathBuf,
    },
    BadRows {
        path: PathBuf,
        /// Rows read (good and bad).
        rows: usize,
        bad: Vec<BadRow>,
    },
}

const FORMAT_HINT: &str = "CQD building file: CSV or TSV, no header row, 14 or 15 columns \
(NetworkIP, NetworkName, NetworkRange, BuildingName, OwnershipType, BuildingType, \
BuildingOfficeType, City, ZipCode, Country, State, Region, InsideCorp, ExpressRoute[, VPN])";

/// At most this many bad rows are listed in the message (all are in `bad`).
const MAX_LISTED: usize = 20;

impl fmt::Display for BuildingFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildingFileError::Io { path, source } => {
                write!(f, "cannot read building file {}: {source}", path.display())
            }
            BuildingFileError::Empty { path } => write!(
                f,
                "building file {} has no rows (expected a {FORMAT_HINT})",
                path.display()
            ),
            BuildingFileError::BadRows { path, rows, bad } => {
                let lines: Vec<String> = bad.iter().map(|b| b.line.to_string()).collect();
                write!(
                    f,
                    "building file {}: {} of {rows} rows cannot be read (line{} {}); expected a {FORMAT_HINT}",
                    path.display(),
                    bad.len(),
                    if bad.len() == 1 { "" } else { "s" },
                    abbreviate(&lines),
                )?;
                for b in bad.iter().take(MAX_LISTED) {
                    write!(f, "\n  line {}: {}", b.line, b.message)?;
                }
                if bad.len() > MAX_LISTED {
                    write!(f, "\n  … and {} more", bad.len() - MAX_LISTED)?;
                }
                Ok(())
            }
        }
    }
}

fn abbreviate(items: &[String]) -> String {
    if items.len() <= MAX_LISTED {
        items.join(", ")
    } else {
        format!("{}, …", items[..MAX_LISTED].join(", "))
    }
}

impl std::error::Error for BuildingFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildingFileError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// (is IPv6, prefix length, network bits).
type RangeKey = (bool, u8, u128);

/// The parsed building file, indexed for longest-prefix lookups.
#[derive(Debug, Clone)]
pub struct BuildingIndex {
    path: PathBuf,
    buildings: Vec<Building>,
    by_range: HashMap<RangeKey, u32>,
    /// Prefix lengths present, longest first.
    prefixes_v4: Vec<u8>,
    prefixes_v6: Vec<u8>,
}

impl BuildingIndex {
    /// Reads and parses a building file.
    pub fn load(path: &Path) -> Result<BuildingIndex, BuildingFileError> {
        let bytes = std::fs::read(path).map_err(|source| BuildingFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        BuildingIndex::parse(&decode_text(&bytes), path)
    }

    /// Parses the text of a building file; `path` names it in errors and in [`Self::path`].
    pub fn parse(text: &str, path: &Path) -> Result<BuildingIndex, BuildingFileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let delim = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .map_or(',', |l| if l.contains('\t') { '\t' } else { ',' });
        let mut idx = BuildingIndex {
            path: path.to_owned(),
            buildings: Vec::new(),
            by_range: HashMap::new(),
            prefixes_v4: Vec::new(),
            prefixes_v6: Vec::new(),
        };
        let mut bad = Vec::new();
        let mut rows = 0;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.trim().is_empty() {
                continue;
            }
            let parsed = split_fields(raw, delim).and_then(|fields| {
                if fields.iter().all(|f| f.is_empty()) {
                    Ok(None)
                } else {
                    parse_row(&fields, raw, delim, line).map(Some)
                }
            });
            match parsed {
                Ok(None) => {}
                Ok(Some(b)) => {
                    rows += 1;
                    let key = range_key(b.network, b.prefix_len);
                    if let Some(&other) = idx.by_range.get(&key) {
                        bad.push(BadRow {
                            line,
                            message: format!(
                                "network {} is already defined on line {}",
                                b.cidr(),
                                idx.buildings[other as usize].line
                            ),
                        });
                        continue;
                    }
                    idx.by_range.insert(key, idx.buildings.len() as u32);
                    let prefixes = if key.0 {
                        &mut idx.prefixes_v6
                    } else {
                        &mut idx.prefixes_v4
                    };
                    if !prefixes.contains(&b.prefix_len) {
                        prefixes.push(b.prefix_len);
                    }
                    idx.buildings.push(b);
                }
                Err(message) => {
                    rows += 1;
                    bad.push(BadRow { line, message });
                }
            }
        }
        if !bad.is_empty() {
            return Err(BuildingFileError::BadRows {
                path: path.to_owned(),
                rows,
                bad,
            });
        }
        if idx.buildings.is_empty() {
            return Err(BuildingFileError::Empty {
                path: path.to_owned(),
            });
        }
        idx.prefixes_v4.sort_unstable_by(|a, b| b.cmp(a));
        idx.prefixes_v6.sort_unstable_by(|a, b| b.cmp(a));
        Ok(idx)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows (buildings / ranges).
    pub fn len(&self) -> usize {
        self.buildings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buildings.is_empty()
    }

    pub fn buildings(&self) -> &[Building] {
        &self.buildings
    }

    /// The row with the longest range that contains `addr`.
    pub fn lookup(&self, addr: IpAddr) -> Option<&Building> {
        self.lookup_where(addr, false)
    }

    fn lookup_where(&self, addr: IpAddr, vpn_only: bool) -> Option<&Building> {
        let (v6, bits, width) = addr_bits(canonical(addr));
        let prefixes = if v6 {
            &self.prefixes_v6
        } else {
            &self.prefixes_v4
        };
        prefixes.iter().find_map(|&len| {
            let &i = self.by_range.get(&(v6, len, mask(bits, len, width)))?;
            let b = &self.buildings[i as usize];
            (!vpn_only || b.vpn).then_some(b)
        })
    }

    /// The building of an endpoint: its subnet's range, else (no subnet) its address's range;
    /// when the subnet matches nothing, its address within a VPN range.
    pub fn for_network(&self, subnet: Option<&str>, ip_address: Option<&str>) -> Option<&Building> {
        let ip = ip_address.and_then(parse_addr);
        match subnet.and_then(parse_addr) {
            Some(s) => self
                .lookup(s)
                .or_else(|| ip.and_then(|a| self.lookup_where(a, true))),
            None => ip.and_then(|a| self.lookup(a)),
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are IPv4.
fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }
}

fn mask(bits: u128, len: u8, width: u8) -> u128 {
    if len == 0 {
        0
    } else {
        let keep = u128::MAX << (128 - len as u32);
        let shifted = keep >> (128 - width as u32);
        bits & shifted
    }
}

/// (is IPv6, the address as bits, its width in bits).
fn addr_bits(a: IpAddr) -> (bool, u128, u8) {
    match a {
        IpAddr::V4(a) => (false, u32::from(a) as u128, 32),
        IpAddr::V6(a) => (true, u128::from(a), 128),
    }
}

fn range_key(network: IpAddr, len: u8) -> RangeKey {
    let (v6, bits, width) = addr_bits(network);
    (v6, len, mask(bits, len, width))
}

/// An address as Graph writes it in `subnet` / `ipAddress`: trimmed, and a `/prefix` or an IPv6
/// `%zone` suffix dropped.
pub fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s.split('/').next()?;
    let s = s.split('%').next()?;
    let s = s.trim_start_matches('[').trim_end_matches(']');
    s.parse::<IpAddr>().ok().map(canonical)
}

/// UTF-8 (with or without BOM), UTF-16 with a BOM, else Latin-1.
fn decode_text(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], le: bool| {
        let units = rest.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => bytes.iter().map(|&b| b as char).collect(),
        },
    }
}

/// Splits one row into trimmed fields; double quotes group a field (`""` is a quote).
fn split_fields(line: &str, delim: char) -> Result<Vec<String>, String> {
    let mut fields = Vec::with_capacity(15);
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        while chars
            .peek()
            .is_some_and(|c| *c == ' ' || (*c == '\t' && delim != '\t'))
        {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(format!(
                            "field {} has an opening quote but no closing quote",
                            fields.len() + 1
                        ))
                    }
                }
            }
            while chars.peek().is_some_and(|c| *c != delim) {
                let c = chars.next().expect("peeked");
                if !c.is_whitespace() {
                    return Err(format!(
                        "field {} has text after its closing quote",
                        fields.len() + 1
                    ));
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == delim {
                    break;
                }
                field.push(c);
                chars.next();
            }
        }
        fields.push(field.trim().to_owned());
        match chars.next() {
            Some(_) => continue, // the delimiter
            None => return Ok(fields),
        }
    }
}

const COLUMN_NAMES: [&str; 15] = [
    "NetworkIP",
    "NetworkName",
    "NetworkRange",
    "BuildingName",
    "OwnershipType",
    "BuildingType",
    "BuildingOfficeType",
    "City",
    "ZipCode",
    "Country",
    "State",
    "Region",
    "InsideCorp",
    "ExpressRoute",
    "VPN",
];

fn parse_row(fields: &[String], raw: &str, delim: char, line: usize) -> Result<Building, String> {
    if fields.len() != 14 && fields.len() != 15 {
        let mut m = format!(
            "{} {}, expected 14 or 15 {}-separated columns",
            fields.len(),
            if fields.len() == 1 {
                "column"
            } else {
                "columns"
            },
            if delim == '\t' { "tab" } else { "comma" }
        );
        if fields.len() == 1 && raw.contains(';') {
            m += " (semicolons are not a CQD delimiter: use commas or tabs)";
        }
        return Err(m);
    }
    let col = |i: usize| format!("column {} ({})", i + 1, COLUMN_NAMES[i]);
    let mut problems: Vec<String> = Vec::new();

    let ip_text = fields[0].as_str();
    let network = if ip_text.is_empty() {
        problems.push(format!("{} is empty", col(0)));
        None
    } else if ip_text.contains('/') {
        problems.push(format!(
            "{} {ip_text:?} must be an address without /prefix; the prefix length goes in column 3 (NetworkRange)",
            col(0)
        ));
        None
    } else {
        match ip_text.parse::<IpAddr>() {
            Ok(a) => Some(canonical(a)),
            Err(_) => {
                let hint = if line == 1 && !ip_text.chars().any(|c| c.is_ascii_digit()) {
                    " (a header row? the file must not have one)"
                } else {
                    ""
                };
                problems.push(format!("{} {ip_text:?} is not an IP address{hint}", col(0)));
                None
            }
        }
    };
    let max_len = match network {
        Some(IpAddr::V6(_)) => 128,
        _ => 32,
    };
    let range_text = fields[2].as_str();
    let prefix_len = match range_text.parse::<u8>() {
        Ok(n) if n <= max_len => Some(n),
        _ if range_text.is_empty() => {
            problems.push(format!("{} is empty", col(2)));
            None
        }
        _ => {
            problems.push(format!(
                "{} {range_text:?} is not a prefix length 0-{max_len}",
                col(2)
            ));
            None
        }
    };
    let mut flag = |i: usize, required: bool| -> bool {
        let v = fields.get(i).map_or("", |s| s.as_str());
        match v {
            "1" => true,
            "0" => false,
            _ if v.eq_ignore_ascii_case("true") => true,
            _ if v.eq_ignore_ascii_case("false") => false,
            "" if !required => false,
            "" => {
                problems.push(format!("{} is empty (0 or 1 required)", col(i)));
                false
            }
            _ => {
                problems.push(format!("{} {v:?} is not 0 or 1", col(i)));
                false
            }
        }
    };
    let inside_corp = flag(12, true);
    let express_route = flag(13, true);
    let vpn = flag(14, false);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let (network, prefix_len) = (network.expect("checked"), prefix_len.expect("checked"));
    let network = match range_key(network, prefix_len) {
        (false, _, bits) => IpAddr::V4(Ipv4Addr::from(bits as u32)),
        (true, _, bits) => IpAddr::V6(Ipv6Addr::from(bits)),
    };
    let text = |i: usize| Some(fields[i].clone()).filter(|s| !s.is_empty());
    Ok(Building {
        network,
        prefix_len,
        network_name: text(1),
        name: text(3),
        ownership_type: text(4),
        building_type: text(5),
        office_type: text(6),
        city: text(7),
        zip_code: text(8),
        country: text(9),
        state: text(10),
        region: text(11),
        inside_corp,
        express_route,
        vpn,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "192.168.1.0,USA/Seattle/SEATTLE-SEA-1,26,SEATTLE-SEA-1,Contoso,IT Termination,Engineering,Seattle,98001,US,WA,MSUS,1,0,0";

    fn parse(text: &str) -> Result<BuildingIndex, BuildingFileError> {
        BuildingIndex::parse(text, Path::new("b.csv"))
    }

    fn bad_lines(text: &str) -> Vec<usize> {
        match parse(text) {
            Err(BuildingFileError::BadRows { bad, .. }) => bad.iter().map(|b| b.line).collect(),
            other => panic!("expected bad rows, got {other:?}"),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn documented_sample_row_15_columns() {
        let idx = parse(SAMPLE).unwrap();
        assert_eq!(idx.len(), 1);
        let b = &idx.buildings()[0];
        assert_eq!(b.cidr(), "192.168.1.0/26");
        assert_eq!(b.network_name.as_deref(), Some("USA/Seattle/SEATTLE-SEA-1"));
        assert_eq!(b.name.as_deref(), Some("SEATTLE-SEA-1"));
        assert_eq!(b.ownership_type.as_deref(), Some("Contoso"));
        assert_eq!(b.building_type.as_deref(), Some("IT Termination"));
        assert_eq!(b.office_type.as_deref(), Some("Engineering"));
        assert_eq!(b.city.as_deref(), Some("Seattle"));
        assert_eq!(b.zip_code.as_deref(), Some("98001"));
        assert_eq!(b.country.as_deref(), Some("US"));
        assert_eq!(b.state.as_deref(), Some("WA"));
        assert_eq!(b.region.as_deref(), Some("MSUS"));
        assert!(b.inside_corp);
        assert!(!b.express_route);
        assert!(!b.vpn);
        assert_eq!(b.line, 1);
    }

    #[test]
    fn fourteen_columns_mean_no_vpn_and_both_widths_mix() {
        let text = "10.0.0.0,Net A,24,A,,,,Oslo,,NO,,EMEA,1,1\n\
                    10.0.1.0,Net B,24,B,,,,Bergen,,NO,,EMEA,0,0,1\n";
        let idx = parse(text).unwrap();
        assert_eq!(idx.len(), 2);
        let a = &idx.buildings()[0];
        assert!(a.inside_corp && a.express_route && !a.vpn);
        assert_eq!(a.ownership_type, None, "empty text fields are null");
        assert_eq!(a.city.as_deref(), Some("Oslo"));
        let b = &idx.buildings()[1];
        assert!(!b.inside_corp && !b.express_route && b.vpn);
        assert_eq!(b.line, 2);
    }

    #[test]
    fn tsv_is_detected_and_quotes_crlf_bom_blank_rows_are_handled() {
        let tsv = "\u{feff}10.1.0.0\tNet, with comma\t16\tHQ\t\t\t\tParis\t75001\tFR\tIDF\tEMEA\t1\t0\r\n\r\n\
                   \t\t\t\t\t\t\t\t\t\t\t\t\t\r\n";
        let idx = parse(tsv).unwrap();
        assert_eq!(idx.len(), 1);
        assert_eq!(
            idx.buildings()[0].network_name.as_deref(),
            Some("Net, with comma")
        );
        assert_eq!(idx.buildings()[0].city.as_deref(), Some("Paris"));

        let csv = "10.2.0.0, \"Seattle, WA \"\"main\"\"\" ,24,\"B1\",,,,,,,,,1,0\n,,,,,,,,,,,,,\n";
        let idx = parse(csv).unwrap();
        assert_eq!(idx.len(), 1);
        assert_eq!(
            idx.buildings()[0].network_name.as_deref(),
            Some("Seattle, WA \"main\"")
        );
        assert_eq!(idx.buildings()[0].name.as_deref(), Some("B1"));
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_numbers() {
        let text = format!(
            "NetworkIP,NetworkName,NetworkRange,BuildingName,OwnershipType,BuildingType,BuildingOfficeType,City,ZipCode,Country,State,Region,InsideCorp,ExpressRoute,VPN\n\
             {SAMPLE}\n\
             10.0.0.0,n,24,b,,,,,,,,,1\n\
             \n\
             10.0.0.300,n,24,b,,,,,,,,,1,0\n\
             10.0.1.0,n,33,b,,,,,,,,,1,0\n\
             10.0.2.0/24,n,24,b,,,,,,,,,1,0\n\
             10.0.3.0,n,24,b,,,,,,,,,yes,0\n\
             10.0.4.0,n,24,b,,,,,,,,,,0\n\
             10.0.5.0,n,,b,,,,,,,,,1,0,2\n\
             10.0.6.0,\"n,24,b,,,,,,,,,1,0\n\
             10.0.7.0;n;24;b;;;;;;;;;1;0\n\
             192.168.1.0,dup,26,b,,,,,,,,,1,0\n\
             10.9.0.0,ok,24,b,,,,,,,,,1,0\n"
        );
        assert_eq!(bad_lines(&text), vec![1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        let err = parse(&text).unwrap_err();
        let msg = err.to_string();
        for want in [
            "building file b.csv: 11 of 13 rows cannot be read (lines 1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13)",
            "line 1: column 1 (NetworkIP) \"NetworkIP\" is not an IP address (a header row? the file must not have one)",
            "line 3: 13 columns, expected 14 or 15 comma-separated columns",
            "line 5: column 1 (NetworkIP) \"10.0.0.300\" is not an IP address",
            "line 6: column 3 (NetworkRange) \"33\" is not a prefix length 0-32",
            "line 7: column 1 (NetworkIP) \"10.0.2.0/24\" must be an address without /prefix",
            "line 8: column 13 (InsideCorp) \"yes\" is not 0 or 1",
            "line 9: column 13 (InsideCorp) is empty (0 or 1 required)",
            "line 10: column 3 (NetworkRange) is empty; column 15 (VPN) \"2\" is not 0 or 1",
            "line 11: field 2 has an opening quote but no closing quote",
            "line 12: 1 column, expected 14 or 15 comma-separated columns (semicolons",
            "line 13: network 192.168.1.0/26 is already defined on line 2",
        ] {
            assert!(msg.contains(want), "missing {want:?} in:\n{msg}");
        }
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(matches!(parse(""), Err(BuildingFileError::Empty { .. })));
        assert!(matches!(
            parse("\n,,,,,,,,,,,,,\n"),
            Err(BuildingFileError::Empty { .. })
        ));
    }

    #[test]
    fn many_bad_rows_are_listed_up_to_a_limit() {
        let text: String = (0..30).map(|i| format!("x{i}\n")).collect();
        let msg = parse(&text).unwrap_err().to_string();
        assert!(msg.contains("30 of 30 rows"), "{msg}");
        assert!(
            msg.contains("line 20:") && !msg.contains("line 21:"),
            "{msg}"
        );
        assert!(msg.contains("… and 10 more"), "{msg}");
    }

    #[test]
    fn longest_prefix_wins_on_overlapping_ranges() {
        let text = "10.0.0.0,corp,8,Corp,,,,,,,,,1,0\n\
                    10.1.0.0,campus,16,Campus,,,,,,,,,1,1\n\
                    10.1.2.0,floor,24,Floor,,,,,,,,,0,0\n\
                    10.1.2.128,desk,25,Desk,,,,,,,,,1,0\n";
        let idx = parse(text).unwrap();
        let name = |a: &str| idx.lookup(ip(a)).and_then(|b| b.name.clone());
        assert_eq!(name("10.1.2.200").as_deref(), Some("Desk"));
        assert_eq!(name("10.1.2.127").as_deref(), Some("Floor"));
        assert_eq!(name("10.1.2.0").as_deref(), Some("Floor"));
        assert_eq!(name("10.1.3.0").as_deref(), Some("Campus"));
        assert_eq!(name("10.200.0.1").as_deref(), Some("Corp"));
        assert_eq!(name("11.0.0.0"), None);
        assert_eq!(name("9.255.255.255"), None);
    }

    #[test]
    fn network_host_bits_are_ignored_and_edges_match() {
        let idx =
            parse("172.16.5.77,n,22,B,,,,,,,,,1,0\n0.0.0.0,any,0,World,,,,,,,,,0,0\n").unwrap();
        assert_eq!(idx.buildings()[0].cidr(), "172.16.4.0/22");
        let name = |a: &str| idx.lookup(ip(a)).and_then(|b| b.name.clone());
        assert_eq!(name("172.16.4.0").as_deref(), Some("B"));
        assert_eq!(name("172.16.7.255").as_deref(), Some("B"));
        assert_eq!(name("172.16.8.0").as_deref(), Some("World"));
        assert_eq!(name("172.16.3.255").as_deref(), Some("World"));
    }

    #[test]
    fn ipv6_ranges_and_mapped_addresses() {
        let idx = parse(
            "2001:db8::,v6net,32,V6,,,,,,,,,1,0\n\
             2001:db8:1::,v6floor,48,V6F,,,,,,,,,1,0\n\
             10.0.0.0,v4,8,V4,,,,,,,,,1,0\n",
        )
        .unwrap();
        let name = |a: &str| idx.lookup(ip(a)).and_then(|b| b.name.clone());
        assert_eq!(name("2001:db8:1::5").as_deref(), Some("V6F"));
        assert_eq!(name("2001:db8:2::5").as_deref(), Some("V6"));
        assert_eq!(name("2001:db9::1"), None);
        assert_eq!(name("::ffff:10.1.2.3").as_deref(), Some("V4"));
        assert_eq!(name("10.1.2.3").as_deref(), Some("V4"));
    }

    #[test]
    fn endpoint_matching_by_subnet_then_address() {
        let idx = parse(
            "10.10.0.0,office,16,Office,,,,,,,,,1,0\n\
             10.20.30.0,vpn pool,24,VPN,,,,,,,,,1,0,1\n\
             10.40.0.0,lab,24,Lab,,,,,,,,,0,0\n",
        )
        .unwrap();
        let name =
            |s: Option<&str>, a: Option<&str>| idx.for_network(s, a).and_then(|b| b.name.clone());
        // The subnet decides, even when the address is elsewhere.
        assert_eq!(
            name(Some("10.10.4.0"), Some("10.40.0.9")).as_deref(),
            Some("Office")
        );
        // Without a subnet, the address.
        assert_eq!(name(None, Some("10.40.0.9")).as_deref(), Some("Lab"));
        assert_eq!(
            name(Some("garbage"), Some("10.40.0.9")).as_deref(),
            Some("Lab")
        );
        // A subnet outside every range: the address only counts within a VPN range.
        assert_eq!(
            name(Some("0.0.0.0"), Some("10.20.30.7")).as_deref(),
            Some("VPN")
        );
        assert_eq!(name(Some("192.168.1.0"), Some("10.40.0.9")), None);
        // Nothing to match.
        assert_eq!(name(None, None), None);
        assert_eq!(name(Some("192.168.1.0"), None), None);
        // Graph text variants.
        assert_eq!(
            name(Some(" 10.10.4.0/24 "), None).as_deref(),
            Some("Office")
        );
    }

    #[test]
    fn text_encodings() {
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "10.0.0.0\tn\t8\tZürich\t\t\t\t\t\t\t\t\t1\t0".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let t = decode_text(&utf16);
        assert_eq!(
            parse(&t).unwrap().buildings()[0].name.as_deref(),
            Some("Zürich")
        );
        let latin1 = b"10.0.0.0,n,8,Z\xfcrich,,,,,,,,,1,0";
        let t = decode_text(latin1);
        assert_eq!(
            parse(&t).unwrap().buildings()[0].name.as_deref(),
            Some("Zürich")
        );
    }

    #[test]
    fn missing_file_names_the_file() {
        let err = BuildingIndex::load(Path::new("/nonexistent/buildings.csv")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/buildings.csv"),
            "{err}"
        );
    }
}

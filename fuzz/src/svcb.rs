//! The `svcb` target: an arbitrary zone (HTTPS record sets with aliases, chains and loops,
//! hints, ALPN, ports, ECH, A/AAAA records and errors per name) served coherently to a race
//! that asks for HTTPS records, interleaved with arbitrary other inputs.

use arbitrary::{Arbitrary, Unstructured};
use eyeballs::{DnsAnswer, DnsError, Family, QueryId, RecordType, Target};
use eyeballs_sim::monitor::Input;

use crate::input::dns_error;
use crate::{Addr, FuzzRace, Knobs, MAX_OPS, Name, Op, Record, When, text};

/// A record set in the zone `svcb` serves.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum ZoneData {
    /// HTTPS records.
    Https(Vec<Record>),
    /// AAAA records (addresses of the other family are dropped).
    Aaaa(Vec<Addr>),
    /// A records (addresses of the other family are dropped).
    A(Vec<Addr>),
    /// An error for every type at this name.
    Error(u8),
}

/// One input of `svcb`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum SvcbOp {
    /// Answer the n-th (modulo their number) open query from the zone: the first entry for
    /// its name and type, an entry's error, or NODATA.
    Serve {
        /// Which open query.
        pick: u8,
        /// When.
        when: When,
    },
    /// Any other input.
    Other(Op),
}

/// The input of `svcb`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct SvcbCase {
    /// The configuration (`query_https` is forced on).
    pub knobs: Knobs,
    /// The port of `example.com`.
    pub port: u16,
    /// The zone.
    pub zone: Vec<(Name, ZoneData)>,
    /// The inputs.
    pub ops: Vec<SvcbOp>,
}

impl SvcbCase {
    /// The case in `data` (text form or `arbitrary`, as [`EngineCase::decode`]).
    pub fn decode(data: &[u8]) -> Option<SvcbCase> {
        match text::strip_magic(data) {
            Some(t) => Some(text::svcb_case(&t)),
            None => SvcbCase::arbitrary_take_rest(Unstructured::new(data)).ok(),
        }
    }

    /// The zone's answer to a query for `name` and `record`.
    fn serve(&self, name: &str, record: RecordType) -> DnsAnswer {
        for (n, data) in &self.zone {
            if !n.same(name) {
                continue;
            }
            // What each record type can hold: AAAA any IPv6 address (IPv4-mapped ones
            // included), A only IPv4.
            let family = |list: &Vec<Addr>, want: Family| {
                DnsAnswer::Addresses(
                    list.iter()
                        .map(|a| a.ip())
                        .filter(|ip| ip.is_ipv6() == (want == Family::V6))
                        .collect(),
                )
            };
            match (data, record) {
                (ZoneData::Error(code), _) => return DnsAnswer::Error(dns_error(*code)),
                (ZoneData::Https(list), RecordType::Https) => {
                    return DnsAnswer::Services(list.iter().map(Record::build).collect());
                }
                (ZoneData::Aaaa(list), RecordType::Aaaa) => return family(list, Family::V6),
                (ZoneData::A(list), RecordType::A) => return family(list, Family::V4),
                _ => {}
            }
        }
        DnsAnswer::Error(DnsError::NoData)
    }
}

/// Runs an `svcb` case; the race at the end, unless it refused to start.
pub fn run_svcb(case: &SvcbCase) -> Option<FuzzRace> {
    let mut config = case.knobs.config();
    config.query_https = true;
    let mut race = FuzzRace::start(config, Target::host("example.com", case.port))?;
    for op in case.ops.iter().take(MAX_OPS) {
        match op {
            SvcbOp::Serve { pick, when } => {
                let open: Vec<(QueryId, RecordType, String)> = race
                    .monitor()
                    .open_queries()
                    .map(|(id, r, name)| (id, r, name.to_string()))
                    .collect();
                if open.is_empty() {
                    continue;
                }
                let (id, record, name) = &open[usize::from(*pick) % open.len()];
                let answer = case.serve(name, *record);
                race.give(*when, Input::Dns { id: *id, answer });
            }
            SvcbOp::Other(op) => race.op(op),
        }
    }
    race.settle();
    Some(race)
}

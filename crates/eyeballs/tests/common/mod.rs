//! A virtual-time harness for the checklist tests: inputs at times, a log of every action with
//! the time it was emitted, written with the checklist's address names (`6a` = 2001:db8::a,
//! `4a` = 192.0.2.1, ...).
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use eyeballs::{
    Action, AttemptFailure, AttemptId, Config, DnsAnswer, DnsError, Instant, QueryId, Race,
    RaceResult, RecordType, ServiceRecord, Target,
};

pub const HOST: &str = "example.com";
pub const PORT: u16 = 443;

/// `6a` -> 2001:db8::a (a..f), `6h` -> 2001:db8::1:8 (other letters), `4a` -> 192.0.2.1.
pub fn ip(name: &str) -> IpAddr {
    if let Ok(ip) = name.parse() {
        return ip;
    }
    let (fam, letter) = name.split_at(1);
    let l = letter.as_bytes()[0];
    let n = u16::from(l - b'a' + 1);
    match fam {
        "6" if (b'a'..=b'f').contains(&l) => {
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9 + n))
        }
        "6" => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, n)),
        "4" => IpAddr::V4(Ipv4Addr::new(192, 0, 2, n as u8)),
        _ => panic!("bad address name {name}"),
    }
}

pub fn v6(name: &str) -> Ipv6Addr {
    match ip(name) {
        IpAddr::V6(a) => a,
        IpAddr::V4(_) => panic!("{name} is not IPv6"),
    }
}

pub fn v4(name: &str) -> Ipv4Addr {
    match ip(name) {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => panic!("{name} is not IPv4"),
    }
}

/// A ServiceMode record with these address hints (checklist names).
pub fn hints(priority: u16, target: &str, v6s: &[&str], v4s: &[&str]) -> ServiceRecord {
    ServiceRecord::service(priority, target)
        .with_ipv6hint(v6s.iter().map(|n| v6(n)))
        .with_ipv4hint(v4s.iter().map(|n| v4(n)))
}

/// The checklist name of an address, or the address itself.
pub fn name_of(addr: &IpAddr) -> String {
    for fam in ["6", "4"] {
        for l in b'a'..=b'z' {
            let n = format!("{fam}{}", l as char);
            if ip(&n) == *addr {
                return n;
            }
        }
    }
    addr.to_string()
}

pub fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

pub fn config() -> Config {
    Config::default()
}

pub struct H {
    pub race: Race,
    pub log: Vec<String>,
    /// (id, name, record type) of every query asked.
    pub queries: Vec<(QueryId, String, RecordType)>,
    /// (id, address, protocol) of every attempt started.
    pub attempts: Vec<(AttemptId, SocketAddr)>,
    pub result: Option<RaceResult>,
    now: u64,
}

impl H {
    pub fn new(config: Config, target: Target) -> H {
        H::start(config, target, 0)
    }

    /// A race on literal addresses that starts at `t0` ms.
    pub fn new_at(config: Config, names: &[&str], t0: u64) -> H {
        let target = Target::addresses(names.iter().map(|n| SocketAddr::new(ip(n), PORT)));
        H::start(config, target, t0)
    }

    fn start(config: Config, target: Target, t0: u64) -> H {
        let race = Race::new(config, target, ms(t0)).expect("race starts");
        let mut h = H {
            race,
            log: vec![],
            queries: vec![],
            attempts: vec![],
            result: None,
            now: t0,
        };
        h.drain(t0);
        h
    }

    pub fn host(config: Config) -> H {
        H::new(config, Target::host(HOST, PORT))
    }

    pub fn with_https(mut config: Config) -> H {
        config.query_https = true;
        H::host(config)
    }

    pub fn addrs(config: Config, names: &[&str]) -> H {
        H::new(
            config,
            Target::addresses(names.iter().map(|n| SocketAddr::new(ip(n), PORT))),
        )
    }

    fn drain(&mut self, t: u64) {
        while let Some(a) = self.race.poll_action() {
            let line = match &a {
                Action::Resolve { id, name, record } => {
                    self.queries.push((*id, name.to_string(), *record));
                    format!("@{t} query {record} {name}")
                }
                Action::Attempt(att) => {
                    self.attempts.push((att.id, att.addr));
                    let mut s = format!("@{t} start {}/{}", name_of(&att.addr.ip()), att.protocol);
                    if att.addr.port() != PORT {
                        s += &format!(":{}", att.addr.port());
                    }
                    if let Some(alpn) = &att.alpn {
                        s += &format!(" alpn={}", alpn.join(","));
                    }
                    if att.ech.is_some() {
                        s += " ech";
                    }
                    s
                }
                Action::Cancel { id, .. } => format!("@{t} cancel {}", self.attempt_name(*id)),
                Action::CancelQueries => format!("@{t} cancel-queries"),
                Action::Finished(r) => {
                    self.result = Some(*r);
                    format!("@{t} finished {r:?}")
                }
            };
            self.log.push(line);
        }
    }

    pub fn attempt_name(&self, id: AttemptId) -> String {
        let a = self.attempts.iter().find(|a| a.0 == id).unwrap();
        name_of(&a.1.ip())
    }

    /// Fires the timers due strictly before `t` (inputs at `t` come before timers at `t`).
    fn advance_before(&mut self, t: u64) {
        while let Some(d) = self.race.poll_timeout() {
            if d >= ms(t) {
                break;
            }
            let dt = d.as_nanos() / 1_000_000;
            self.race.handle_timeout(d).unwrap();
            self.drain(dt);
        }
        self.now = t;
    }

    /// Fires every timer due at or before `t`.
    pub fn run_until(&mut self, t: u64) {
        self.advance_before(t);
        if self.race.poll_timeout() == Some(ms(t)) {
            self.race.handle_timeout(ms(t)).unwrap();
            self.drain(t);
        }
        self.now = t;
    }

    pub fn query_id(&self, name: &str, record: RecordType) -> QueryId {
        self.queries
            .iter()
            .find(|q| q.1 == name && q.2 == record)
            .unwrap_or_else(|| panic!("no {record} query for {name}: {:?}", self.log))
            .0
    }

    pub fn answer(&mut self, t: u64, name: &str, record: RecordType, answer: DnsAnswer) {
        self.advance_before(t);
        let id = self.query_id(name, record);
        self.race.handle_dns(ms(t), id, answer).unwrap();
        self.drain(t);
    }

    /// An AAAA or A answer for the host.
    pub fn dns(&mut self, t: u64, record: RecordType, addrs: &[&str]) {
        self.dns_for(t, HOST, record, addrs);
    }

    pub fn dns_for(&mut self, t: u64, name: &str, record: RecordType, addrs: &[&str]) {
        let list = addrs.iter().map(|a| ip(a)).collect();
        self.answer(t, name, record, DnsAnswer::Addresses(list));
    }

    pub fn dns_err(&mut self, t: u64, record: RecordType, e: DnsError) {
        self.answer(t, HOST, record, DnsAnswer::Error(e));
    }

    pub fn https_for(&mut self, t: u64, name: &str, records: Vec<ServiceRecord>) {
        self.answer(t, name, RecordType::Https, DnsAnswer::Services(records));
    }

    pub fn https(&mut self, t: u64, records: Vec<ServiceRecord>) {
        self.https_for(t, HOST, records);
    }

    pub fn id_of(&self, addr: &str) -> AttemptId {
        let want = ip(addr);
        self.attempts
            .iter()
            .rev()
            .find(|a| a.1.ip() == want)
            .unwrap_or_else(|| panic!("{addr} never started: {:?}", self.log))
            .0
    }

    pub fn ok(&mut self, t: u64, addr: &str) {
        self.advance_before(t);
        let id = self.id_of(addr);
        self.race.handle_connected(ms(t), id).unwrap();
        self.drain(t);
    }

    pub fn fail(&mut self, t: u64, addr: &str, why: AttemptFailure) {
        self.advance_before(t);
        let id = self.id_of(addr);
        self.race.handle_failed(ms(t), id, why).unwrap();
        self.drain(t);
    }

    pub fn progress(&mut self, t: u64, addr: &str) {
        self.advance_before(t);
        let id = self.id_of(addr);
        self.race.handle_progress(ms(t), id).unwrap();
        self.drain(t);
    }

    pub fn cancel(&mut self, t: u64) {
        self.advance_before(t);
        self.race.cancel(ms(t)).unwrap();
        self.drain(t);
    }

    /// The log, emptied.
    pub fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }

    /// The next wake-up, in ms.
    pub fn timeout_ms(&self) -> Option<u64> {
        self.race.poll_timeout().map(|t| t.as_nanos() / 1_000_000)
    }

    /// Only the `start` lines of the log.
    pub fn starts(&self) -> Vec<String> {
        self.log
            .iter()
            .filter(|l| l.contains(" start "))
            .cloned()
            .collect()
    }
}

pub fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn dur(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

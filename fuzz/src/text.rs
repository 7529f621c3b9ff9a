//! The readable form of fuzz cases, for hand-made seeds. A seed that starts with [`MAGIC`] is
//! read line by line; anything else is decoded with `arbitrary`. Lines that do not parse are
//! skipped (the fuzzer mutates seeds into garbage, and that must not stop the run).
//!
//! ```text
//! #!eyeballs
//! # comments start with '#'
//! config cad=250 rd=50 min=100 max=2000 count=1 attempt=400 total=2000 cap=2
//! config prefer=v4 sort=given interleave=no v6=no v4=no https quic tcp=no prefer=tcp group
//! config alpn=h2,h3 nat64 nat64=48 reliant seed=7 path filter   # or filter=global
//! host example.com 443          # a host target (engine_inputs); ' # ' starts a comment
//! addr [2001:db8::1]:443        # or literal addresses, one per line
//! answer live0 addrs 2001:db8::1 2001:db8::2 @+12ms
//! answer #1 error servfail @now
//! answer live https 1 . alpn=h3,h2 hint=2001:db8::3,192.0.2.3 port=8443 ech=00ff | 0 s1.example.com
//! failed live0 refused @+5ms
//! connected any1 @timer
//! progress live @before-timer
//! timeout @timer
//! cancel @-3ms                  # time going backwards
//! # svcb only:
//! port 443
//! zone example.com https 0 s1.example.com
//! zone s1.example.com aaaa 2001:db8::1
//! zone s1.example.com error servfail
//! serve 0 @+10ms                # answer the first open query from the zone
//! ```
//!
//! References: `#N` is id N, `liveN` the N-th attempt in flight or query open, `anyN` the
//! N-th ever made. Times: `@now`, `@+Nms`, `@+Nns`, `@+Ns`, `@-Nms`, `@timer` (the next
//! deadline), `@before-timer` (1 ns before it); the default is `@now`.

use std::net::{IpAddr, SocketAddr};

use crate::{
    Addr, Alpn, Answer, EngineCase, Knobs, Name, Op, Record, Ref, SvcbCase, SvcbOp, TargetSpec,
    When, ZoneData,
};

/// The first line of a text seed.
pub const MAGIC: &str = "#!eyeballs";

/// The text after [`MAGIC`], when `data` is a text seed.
pub fn strip_magic(data: &[u8]) -> Option<String> {
    let rest = data.strip_prefix(MAGIC.as_bytes())?;
    Some(String::from_utf8_lossy(rest).into_owned())
}

fn dns_code(word: &str) -> Option<u8> {
    [
        "nodata", "nxdomain", "servfail", "timeout", "refused", "other",
    ]
    .iter()
    .position(|k| *k == word)
    .and_then(|i| u8::try_from(i).ok())
}

fn failure_code(word: &str) -> Option<u8> {
    [
        "refused",
        "unreachable",
        "timeout",
        "reset",
        "handshake",
        "other",
    ]
    .iter()
    .position(|k| *k == word)
    .and_then(|i| u8::try_from(i).ok())
}

fn when(word: &str) -> Option<When> {
    let w = word.strip_prefix('@')?;
    let num = |s: &str, unit: &str| s.strip_suffix(unit).and_then(|n| n.parse::<u64>().ok());
    Some(match w {
        "now" => When::Now,
        "timer" => When::AtTimer,
        "before-timer" => When::BeforeTimer,
        _ => {
            if let Some(rest) = w.strip_prefix('+') {
                if let Some(n) = num(rest, "ms") {
                    When::Ms(u16::try_from(n).ok()?)
                } else if let Some(n) = num(rest, "ns") {
                    When::Ns(u32::try_from(n).ok()?)
                } else {
                    When::Far(u32::try_from(num(rest, "s")?).ok()?)
                }
            } else {
                When::Back(u16::try_from(num(w.strip_prefix('-')?, "ms")?).ok()?)
            }
        }
    })
}

fn reference(word: &str) -> Option<Ref> {
    if let Some(n) = word.strip_prefix('#') {
        return n.parse().ok().map(Ref::Raw);
    }
    if let Some(n) = word.strip_prefix("live") {
        return Some(Ref::Live(if n.is_empty() { 0 } else { n.parse().ok()? }));
    }
    let n = word.strip_prefix("any")?;
    Some(Ref::Any(if n.is_empty() { 0 } else { n.parse().ok()? }))
}

fn name(word: &str) -> Name {
    match word {
        "." => Name::Dot,
        "example.com" => Name::Host,
        _ => Name::Raw(word.to_string()),
    }
}

fn ip(word: &str) -> Option<Addr> {
    word.parse::<IpAddr>().ok().map(Addr::of)
}

fn record(words: &[&str]) -> Option<Record> {
    let (priority, rest) = words.split_first()?;
    let (target, params) = rest.split_first()?;
    let priority: u16 = priority.parse().ok()?;
    let mut r = Record {
        priority: 0,
        wide_priority: Some(priority),
        target: name(target),
        port: None,
        alpn: Vec::new(),
        no_default_alpn: false,
        hints: Vec::new(),
        ech: None,
    };
    for p in params {
        let (key, value) = p.split_once('=').unwrap_or((p, ""));
        match key {
            "alpn" => r.alpn = value.split(',').map(Alpn::of).collect(),
            "nodefault" => r.no_default_alpn = true,
            "port" => r.port = value.parse().ok(),
            "hint" => r.hints = value.split(',').filter_map(ip).collect(),
            "ech" => {
                r.ech = Some(
                    (0..value.len() / 2)
                        .filter_map(|i| u8::from_str_radix(value.get(2 * i..2 * i + 2)?, 16).ok())
                        .collect(),
                );
            }
            _ => {}
        }
    }
    Some(r)
}

fn records(words: &[&str]) -> Vec<Record> {
    words.split(|w| *w == "|").filter_map(record).collect()
}

fn knob(k: &mut Knobs, word: &str) {
    let (key, value) = word.split_once('=').unwrap_or((word, ""));
    let n16 = || value.parse::<u16>().ok();
    let yes = value != "no";
    match key {
        "cad" => k.cad_ms = n16(),
        "rd" => k.rd_ms = n16(),
        "min" => k.min_ms = n16(),
        "max" => k.max_ms = n16(),
        "count" => k.family_count = value.parse().ok(),
        "attempt" => k.attempt_timeout_ms = n16(),
        "total" => k.total_timeout_ms = n16(),
        "cap" => k.cap = value.parse().ok(),
        "prefer" if value == "v4" => k.prefer_v4 = true,
        "prefer" if value == "tcp" => k.prefer_tcp = true,
        "sort" => k.sort_given = value == "given",
        "interleave" => k.no_interleave = !yes,
        "v6" => k.no_v6 = !yes,
        "v4" => k.no_v4 = !yes,
        "https" => k.https = yes,
        "quic" => k.quic = yes,
        "tcp" => k.no_tcp = !yes,
        "group" => k.group_by_protocol = yes,
        "alpn" => k.alpn = Some(value.split(',').map(Alpn::of).collect()),
        "nat64" => {
            k.nat64 = Some(
                [32u8, 40, 48, 56, 64]
                    .iter()
                    .position(|l| value.parse::<u8>().ok() == Some(*l))
                    .and_then(|i| u8::try_from(i).ok()),
            );
        }
        "reliant" => k.reliant = yes,
        "seed" => k.seed = value.parse().unwrap_or(0),
        "path" => k.path_info = yes,
        "filter" if value == "global" => k.filter = 3,
        "filter" => k.filter = u8::from(yes),
        _ => {}
    }
}

/// An operation line (`answer`, `connected`, `failed`, `progress`, `timeout`, `cancel`).
fn op(words: &[&str]) -> Option<Op> {
    let (at, words) = match words.last().and_then(|w| when(w)) {
        Some(t) => (t, &words[..words.len() - 1]),
        None => (When::Now, words),
    };
    let (verb, args) = words.split_first()?;
    Some(match *verb {
        "timeout" => Op::Timeout { when: at },
        "cancel" => Op::Cancel { when: at },
        "connected" => Op::Connected {
            attempt: reference(args.first()?)?,
            when: at,
        },
        "progress" => Op::Progress {
            attempt: reference(args.first()?)?,
            when: at,
        },
        "failed" => Op::Failed {
            attempt: reference(args.first()?)?,
            failure: args.get(1).and_then(|w| failure_code(w)).unwrap_or(0),
            when: at,
        },
        "answer" => {
            let query = reference(args.first()?)?;
            let kind = args.get(1)?;
            let rest = args.get(2..).unwrap_or(&[]);
            let answer = match *kind {
                "addrs" => Answer::Addrs(rest.iter().filter_map(|w| ip(w)).collect()),
                "error" => Answer::Error(dns_code(rest.first()?)?),
                "https" => Answer::Services(records(rest)),
                _ => return None,
            };
            Op::Answer {
                query,
                answer,
                when: at,
            }
        }
        _ => return None,
    })
}

fn lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(|l| l.split_once(" # ").map_or(l, |(a, _)| a))
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
}

/// An `engine_inputs` case from its text form.
pub fn engine_case(text: &str) -> EngineCase {
    let mut case = EngineCase {
        knobs: Knobs::default(),
        target: TargetSpec::Literals(Vec::new()),
        ops: Vec::new(),
    };
    for words in lines(text) {
        match words[0] {
            "config" => words[1..].iter().for_each(|w| knob(&mut case.knobs, w)),
            "host" => {
                let port = words.get(2).and_then(|p| p.parse().ok()).unwrap_or(443);
                case.target = TargetSpec::Host(name(words.get(1).unwrap_or(&"")), port);
            }
            "addr" => {
                if let (Some(a), TargetSpec::Literals(list)) = (
                    words.get(1).and_then(|w| w.parse::<SocketAddr>().ok()),
                    &mut case.target,
                ) {
                    list.push((Addr::of(a.ip()), a.port()));
                }
            }
            _ => case.ops.extend(op(&words)),
        }
    }
    case
}

/// An `svcb` case from its text form.
pub fn svcb_case(text: &str) -> SvcbCase {
    let mut case = SvcbCase {
        knobs: Knobs::default(),
        port: 443,
        zone: Vec::new(),
        ops: Vec::new(),
    };
    for words in lines(text) {
        match words[0] {
            "config" => words[1..].iter().for_each(|w| knob(&mut case.knobs, w)),
            "port" => case.port = words.get(1).and_then(|p| p.parse().ok()).unwrap_or(443),
            "zone" if words.len() >= 3 => {
                let rest = &words[3..];
                let data = match words[2] {
                    "https" => ZoneData::Https(records(rest)),
                    "aaaa" => ZoneData::Aaaa(rest.iter().filter_map(|w| ip(w)).collect()),
                    "a" => ZoneData::A(rest.iter().filter_map(|w| ip(w)).collect()),
                    "error" => match rest.first().and_then(|w| dns_code(w)) {
                        Some(code) => ZoneData::Error(code),
                        None => continue,
                    },
                    _ => continue,
                };
                case.zone.push((name(words[1]), data));
            }
            "serve" => {
                let pick = words.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
                let at = words.get(2).and_then(|w| when(w)).unwrap_or(When::Now);
                case.ops.push(SvcbOp::Serve { pick, when: at });
            }
            _ => case.ops.extend(op(&words).map(SvcbOp::Other)),
        }
    }
    case
}

//! `eyeballs_tokio::reqwest::Resolver`: the order it hands reqwest and when, against scripted
//! DNS answers in virtual time (exact); and a real reqwest `Client` using it against HTTP
//! servers on loopback.

#![cfg(feature = "reqwest")]

use std::error::Error as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eyeballs::history::HistoryRecord;
use eyeballs::{Config, DnsAnswer, DnsError, Protocols, RecordType, StartError};
use eyeballs_lab::precondition::require;
use eyeballs_lab::scripted::ScriptedNetwork;
use eyeballs_sim::{DnsEntry, Scenario};
use eyeballs_tokio::reqwest::{ResolveError, ResolveFailure, Resolver};
use eyeballs_tokio::{HistoryConfig, NetworkId, SharedHistory};
use reqwest::dns::Resolve;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;

const HOST: &str = "host.test";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| ip(s)).collect()
}

/// An answer: addresses, or (for an empty list) a negative answer, `after` ms.
fn answer(record: RecordType, after_ms: u64, list: &[&str]) -> DnsEntry {
    DnsEntry {
        name: None,
        record,
        after: Duration::from_millis(after_ms),
        answer: if list.is_empty() {
            DnsAnswer::Error(DnsError::NoData)
        } else {
            DnsAnswer::Addresses(ips(list))
        },
    }
}

/// A network answering `HOST` with `entries` (a query with no entry never answers).
fn network(entries: impl IntoIterator<Item = DnsEntry>) -> ScriptedNetwork {
    let scenario = entries
        .into_iter()
        .fold(Scenario::host("reqwest", HOST, 443), Scenario::dns);
    ScriptedNetwork::from_scenario(&scenario)
}

/// Resolves `HOST` with `resolver`; the result and the virtual time it took.
async fn lookup(resolver: &Resolver<ScriptedNetwork>) -> (Result<Vec<IpAddr>, ResolveError>, u128) {
    let start = Instant::now();
    let result = resolver.lookup(HOST).await;
    (result, start.elapsed().as_millis())
}

/// A history that marks `broken` broken now, on its network.
fn history_with_broken(broken: &[&str]) -> SharedHistory {
    let history = SharedHistory::new(HistoryConfig::default(), NetworkId(7));
    history.import(
        broken
            .iter()
            .map(|addr| HistoryRecord {
                network: NetworkId(7),
                addr: ip(addr),
                rtt: None,
                success_age: None,
                failures: 1,
                broken_age: Some(Duration::ZERO),
                age: Duration::ZERO,
            })
            .collect(),
    );
    for addr in broken {
        assert!(history.path_info(ip(addr)).broken, "{addr} not marked");
    }
    history
}

const V6: [&str; 2] = ["2001:db8::1", "2001:db8::2"];
const V4: [&str; 2] = ["192.0.2.1", "192.0.2.2"];

/// IPv6 first (RFC 6724 rule 6: 2001:db8::/32 has precedence 40, IPv4 35), then one of each
/// family in turn (RFC 8305 §4, First Address Family Count 1); handed over when both have
/// answered.
#[tokio::test(start_paused = true)]
async fn ipv6_first_then_the_families_interleave() {
    let resolver = Resolver::with_network(network([
        answer(RecordType::Aaaa, 10, &V6),
        answer(RecordType::A, 20, &V4),
    ]));
    let (result, took) = lookup(&resolver).await;
    assert_eq!(
        result.unwrap(),
        ips(&["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"])
    );
    assert_eq!(took, 20);
}

/// RFC 6724 sorts each family (6to4, 2002::/16, has precedence 30: below IPv4's 35, so it
/// goes after the IPv4 address although AAAA listed it first), and the interleaving takes
/// the sorted order.
#[tokio::test(start_paused = true)]
async fn rfc6724_sorts_before_the_families_interleave() {
    let resolver = Resolver::with_network(network([
        answer(RecordType::Aaaa, 5, &["2002:c000:201::1", "2001:db8::1"]),
        answer(RecordType::A, 5, &["192.0.2.1"]),
    ]));
    let (result, _) = lookup(&resolver).await;
    assert_eq!(
        result.unwrap(),
        ips(&["2001:db8::1", "192.0.2.1", "2002:c000:201::1"])
    );
}

/// When it returns, and what a late answer loses: every AAAA/A answer is waited for up to
/// the Resolution Delay (50 ms) after the first answer with addresses; a negative answer
/// ends the wait for its family.
#[tokio::test(start_paused = true)]
async fn returns_when_both_answered_or_a_resolution_delay_after_the_first_address() {
    // (AAAA at, A at, the addresses, when the resolver returns); `None`: never answers.
    type Case = (Option<u64>, Option<u64>, &'static [&'static str], u128);
    let cases: [Case; 7] = [
        // A first: AAAA inside the delay joins, and goes first.
        (Some(40), Some(10), &["2001:db8::1", "192.0.2.1"], 40),
        // A first, AAAA after the delay (10 + 50): left out.
        (Some(100), Some(10), &["192.0.2.1"], 60),
        // AAAA first: A inside the delay joins.
        (Some(10), Some(30), &["2001:db8::1", "192.0.2.1"], 30),
        // AAAA first, A after the delay: left out.
        (Some(10), Some(100), &["2001:db8::1"], 60),
        // AAAA first, A never: the delay, then what there is.
        (Some(10), None, &["2001:db8::1"], 60),
        // The delay counts from the first address, not the first query.
        (Some(200), Some(240), &["2001:db8::1", "192.0.2.1"], 240),
        // Exactly at the delay: still waited for (the answer is taken before the timer).
        (Some(10), Some(60), &["2001:db8::1", "192.0.2.1"], 60),
    ];
    for (aaaa, a, expected, at) in cases {
        let mut entries = Vec::new();
        if let Some(after) = aaaa {
            entries.push(answer(RecordType::Aaaa, after, &["2001:db8::1"]));
        }
        if let Some(after) = a {
            entries.push(answer(RecordType::A, after, &["192.0.2.1"]));
        }
        let resolver = Resolver::with_network(network(entries));
        let (result, took) = lookup(&resolver).await;
        let case = format!("AAAA at {aaaa:?}, A at {a:?}");
        assert_eq!(result.expect(&case), ips(expected), "{case}");
        assert_eq!(took, at, "{case}");
    }
    // A negative answer ends the wait for its family: no delay.
    let resolver = Resolver::with_network(network([
        answer(RecordType::Aaaa, 5, &[]),
        answer(RecordType::A, 10, &["192.0.2.1"]),
    ]));
    let (result, took) = lookup(&resolver).await;
    assert_eq!(result.unwrap(), ips(&["192.0.2.1"]));
    assert_eq!(took, 10);
    // A longer Resolution Delay waits longer for the late family.
    let resolver = Resolver::with_network(network([
        answer(RecordType::Aaaa, 10, &["2001:db8::1"]),
        answer(RecordType::A, 100, &["192.0.2.1"]),
    ]))
    .resolution_delay(Duration::from_millis(200));
    let (result, took) = lookup(&resolver).await;
    assert_eq!(result.unwrap(), ips(&["2001:db8::1", "192.0.2.1"]));
    assert_eq!(took, 100);
}

/// A history that marks IPv6 broken puts IPv4 first (RFC 6724 rule 1), and the interleaving
/// follows; without it the same answers give IPv6 first.
#[tokio::test(start_paused = true)]
async fn a_history_marking_ipv6_broken_puts_ipv4_first() {
    let answers = || {
        network([
            answer(RecordType::Aaaa, 10, &V6),
            answer(RecordType::A, 20, &V4),
        ])
    };
    let history = history_with_broken(&V6);
    let resolver = Resolver::with_network(answers()).history(history.clone());
    let (result, _) = lookup(&resolver).await;
    assert_eq!(
        result.unwrap(),
        ips(&["192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2"])
    );
    // Read, never fed: the resolver's race taught the history nothing.
    assert_eq!(history.len(), 2);
    assert!(!history.path_info(ip("192.0.2.1")).used_before);
    let (result, _) = lookup(&Resolver::with_network(answers())).await;
    assert_eq!(result.unwrap()[0], ip("2001:db8::1"));
}

/// A name DNS does not know: an error naming the name and both DNS failures, of kind
/// `NotFound`, with no port anywhere.
#[tokio::test(start_paused = true)]
async fn an_unknown_name_is_an_error_naming_the_dns_failures() {
    let nx = |record| DnsEntry {
        name: None,
        record,
        after: Duration::from_millis(3),
        answer: DnsAnswer::Error(DnsError::NxDomain),
    };
    let resolver = Resolver::with_network(network([nx(RecordType::Aaaa), nx(RecordType::A)]));
    let (result, _) = lookup(&resolver).await;
    let e = result.unwrap_err();
    assert_eq!(e.name(), HOST);
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert_eq!(e.dns_errors().len(), 2);
    assert_eq!(
        e.to_string(),
        "resolving host.test failed: no address could be attempted: \
         AAAA host.test: no such name (NXDOMAIN); A host.test: no such name (NXDOMAIN)"
    );
    assert!(e.source().is_none(), "every fact is in the message once");
    assert_eq!(io::Error::from(e).kind(), io::ErrorKind::NotFound);
}

/// `global_only` leaves private addresses out; when nothing is left, the error lists them
/// and its kind is `PermissionDenied`.
#[tokio::test(start_paused = true)]
async fn the_destination_filter_leaves_addresses_out() {
    let global = |entries: Vec<DnsEntry>| {
        let mut resolver = Resolver::with_network(network(entries));
        resolver.config_mut().destination_filter = Some(Arc::new(eyeballs::GlobalOnly));
        resolver
    };
    let resolver = global(vec![
        answer(RecordType::Aaaa, 5, &["fd00::1"]),
        answer(RecordType::A, 5, &["10.0.0.1", "93.184.216.34"]),
    ]);
    assert_eq!(lookup(&resolver).await.0.unwrap(), ips(&["93.184.216.34"]));

    let resolver = global(vec![
        answer(RecordType::Aaaa, 5, &["fd00::1"]),
        answer(RecordType::A, 5, &["10.0.0.1"]),
    ]);
    let e = lookup(&resolver).await.0.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
    assert_eq!(e.skipped().len(), 2);
    assert!(e.skipped().iter().all(|s| s.addr.port() == 0), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with("resolving host.test failed: no address could be attempted: "),
        "{text}"
    );
    assert!(
        text.contains("fd00::1 left out: refused by the destination filter"),
        "{text}"
    );
    assert!(
        text.contains("10.0.0.1 left out: refused by the destination filter"),
        "{text}"
    );
}

/// Settings reqwest cannot use, and an invalid configuration, fail every resolution with an
/// error naming the setting, before anything is asked.
#[tokio::test(start_paused = true)]
async fn settings_reqwest_cannot_use_are_refused_by_name() {
    let unsupported = |change: fn(&mut Config), history: Option<SharedHistory>| {
        let mut resolver = Resolver::with_network(network([]));
        change(resolver.config_mut());
        if let Some(history) = history {
            resolver = resolver.history(history);
        }
        resolver
    };
    let cases: [(fn(&mut Config), _, _); 4] = [
        (|c| c.query_https = true, None, "query_https"),
        (|c| c.svcb_reliant = true, None, "svcb_reliant"),
        (
            |c| {
                c.protocols = Protocols {
                    tcp: false,
                    quic: true,
                }
            },
            None,
            "protocols",
        ),
        (
            |c| c.path_info = Some(Arc::new(|_| eyeballs::PathInfo::default())),
            Some(SharedHistory::default()),
            "path_info",
        ),
    ];
    for (change, history, setting) in cases {
        let (result, took) = lookup(&unsupported(change, history)).await;
        let e = result.unwrap_err();
        assert!(
            matches!(e.failure(), ResolveFailure::Unsupported { setting: s, .. } if *s == setting),
            "{e:?}"
        );
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(
            e.to_string().starts_with(&format!(
                "resolving host.test failed: the resolver cannot use `{setting}`: "
            )),
            "{e}"
        );
        assert_eq!(took, 0);
    }
    // The engine's own validation, named by the engine.
    let resolver = Resolver::with_network(network([])).resolution_delay(Duration::from_secs(3));
    let e = lookup(&resolver).await.0.unwrap_err();
    assert!(
        matches!(
            e.failure(),
            ResolveFailure::Race(eyeballs_driver::Reason::Start(StartError::Config(_)))
        ),
        "{e:?}"
    );
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("resolution_delay"), "{e}");
}

/// What reqwest receives through `reqwest::dns::Resolve`: the same order, with port 0 (which
/// reqwest replaces with the URL's port).
#[tokio::test(start_paused = true)]
async fn the_resolve_trait_hands_reqwest_the_order_with_port_zero() {
    let resolver = Resolver::with_network(network([
        answer(RecordType::Aaaa, 10, &V6),
        answer(RecordType::A, 20, &V4),
    ]));
    let addrs: Vec<SocketAddr> = resolver
        .resolve(HOST.parse().unwrap())
        .await
        .unwrap()
        .collect();
    let expected: Vec<SocketAddr> = [
        "[2001:db8::1]:0",
        "192.0.2.1:0",
        "[2001:db8::2]:0",
        "192.0.2.2:0",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    assert_eq!(addrs, expected);
}

/// An HTTP/1.1 server on `listener` answering every request with `body` and closing;
/// counts the connections it accepts.
fn serve(listener: std::net::TcpListener, body: &'static str) -> Arc<AtomicUsize> {
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    listener.set_nonblocking(true).unwrap();
    let listener = TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            count.fetch_add(1, Ordering::AcqRel);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(response.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    accepted
}

/// Servers on `[::1]:P` (answering "v6") and `127.0.0.1:P` (answering "v4"); `None` when the
/// machine has no IPv6 loopback and the test may be let through.
fn servers(test: &str) -> Option<(u16, Arc<AtomicUsize>, Arc<AtomicUsize>)> {
    require(test, eyeballs_lab::ipv6_loopback())?;
    let (v4, v6) = eyeballs_lab::same_port(
        "the HTTP servers",
        std::net::TcpListener::bind,
        |v6, v4: &std::net::TcpListener| {
            std::net::TcpListener::bind(SocketAddr::new(v6.ip(), v4.local_addr()?.port()))
        },
    )
    .expect("listeners on 127.0.0.1:P and [::1]:P");
    let port = v4.local_addr().unwrap().port();
    Some((port, serve(v6, "v6"), serve(v4, "v4")))
}

/// A reqwest client resolving with `resolver`, ignoring any proxy the environment names.
fn client(resolver: Resolver) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(Arc::new(resolver))
        .build()
        .expect("a reqwest client")
}

/// The resolver for the real-socket tests: the system resolver (`localhost` is answered
/// without DNS), waiting up to 2 s for the second family, so that a busy machine running
/// the second lookup late does not change the list.
fn patient() -> Resolver {
    Resolver::new().resolution_delay(Duration::from_secs(2))
}

/// GET `http://localhost:{port}/` with `client`; the body and the peer.
async fn get(client: &reqwest::Client, port: u16) -> (String, Option<SocketAddr>) {
    let url = format!("http://localhost:{port}/");
    let response = tokio::time::timeout(Duration::from_secs(30), client.get(&url).send())
        .await
        .expect("a response within 30 s")
        .expect("a response");
    assert_eq!(response.status(), 200);
    let peer = response.remote_addr();
    (response.text().await.expect("the body"), peer)
}

/// A reqwest `Client` with the resolver fetches from a local server by name: `localhost`
/// gives `::1` first, so hyper-util tries IPv6 first and the IPv6 server answers.
#[tokio::test]
async fn a_reqwest_client_with_the_resolver_fetches_by_name() {
    let Some((port, v6, v4)) = servers("a_reqwest_client_with_the_resolver_fetches_by_name") else {
        return;
    };
    let (body, peer) = get(&client(patient()), port).await;
    assert_eq!(body, "v6");
    assert_eq!(peer, Some(SocketAddr::new(ip("::1"), port)));
    assert_eq!(v6.load(Ordering::Acquire), 1);
    assert_eq!(v4.load(Ordering::Acquire), 0);
}

/// With a history that marks `::1` broken, the resolver puts `127.0.0.1` first: hyper-util
/// tries IPv4 first, and the IPv6 server sees no connection at all (hyper-util's fallback
/// to IPv6 would start only 300 ms later, and the IPv4 server answers on loopback at once).
#[tokio::test]
async fn a_reqwest_client_with_ipv6_marked_broken_fetches_over_ipv4() {
    let Some((port, v6, v4)) =
        servers("a_reqwest_client_with_ipv6_marked_broken_fetches_over_ipv4")
    else {
        return;
    };
    let resolver = patient().history(history_with_broken(&["::1"]));
    let (body, peer) = get(&client(resolver), port).await;
    assert_eq!(body, "v4");
    assert_eq!(peer, Some(SocketAddr::new(ip("127.0.0.1"), port)));
    assert_eq!(v4.load(Ordering::Acquire), 1);
    assert_eq!(v6.load(Ordering::Acquire), 0);
}

/// An unknown name: reqwest reports a connect error whose source chain holds the
/// resolver's error (scripted DNS: nothing leaves the machine).
#[tokio::test]
async fn reqwest_reports_an_unknown_name() {
    let nx = |record| DnsEntry {
        name: None,
        record,
        after: Duration::ZERO,
        answer: DnsAnswer::Error(DnsError::NxDomain),
    };
    let resolver = Resolver::with_network(network([nx(RecordType::Aaaa), nx(RecordType::A)]));
    let client = reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(Arc::new(resolver))
        .build()
        .unwrap();
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        client.get(format!("http://{HOST}/")).send(),
    )
    .await
    .expect("an answer within 30 s")
    .expect_err("no address");
    assert!(e.is_connect(), "{e:?}");
    let mut source = e.source();
    let mut found = None;
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<ResolveError>() {
            found = Some(r);
        }
        source = s.source();
    }
    let r = found.unwrap_or_else(|| panic!("no ResolveError in the chain of {e:?}"));
    assert_eq!(r.name(), HOST);
    assert_eq!(r.kind(), io::ErrorKind::NotFound);
}

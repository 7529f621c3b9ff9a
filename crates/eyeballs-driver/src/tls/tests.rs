//! The TLS configuration's decisions per race and per attempt: the name authenticated, the
//! ALPN offered, ECH, what the engine is told.

use std::io;
use std::sync::Arc;

use eyeballs::{Attempt, AttemptId, Config, Protocol, Target};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};

use super::network::check_protocol;
use super::*;
use crate::runtime::RaceContext;
use crate::settings::SocketConfig;

fn attempt(addr: &str, alpn: Option<&[&str]>, ech: Option<&[u8]>) -> Attempt {
    Attempt {
        id: AttemptId(0),
        addr: addr.parse().unwrap(),
        protocol: Protocol::Tcp,
        alpn: alpn.map(|ids| Arc::from(ids.iter().map(|s| s.to_string()).collect::<Vec<_>>())),
        ech: ech.map(Arc::from),
    }
}

fn config() -> TlsConfig {
    TlsConfig::with_roots(RootCertStore::empty()).unwrap()
}

fn name_for(config: &TlsConfig, target: &Target, a: &Attempt) -> Result<String, io::Error> {
    let sockets = SocketConfig::default();
    config
        .server_name_for(&RaceContext::new(target, &sockets), a)
        .map(|n| n.to_str().into_owned())
}

#[test]
fn the_host_name_is_authenticated_for_every_endpoint() {
    let a = attempt("192.0.2.1:443", Some(&["h2"]), None);
    let target = Target::host("Example.COM.", 443);
    assert_eq!(name_for(&config(), &target, &a).unwrap(), "example.com");
    // An override wins, also over a name.
    let other = config().server_name(ServerName::try_from("api.example.net").unwrap());
    assert_eq!(name_for(&other, &target, &a).unwrap(), "api.example.net");
}

#[test]
fn an_address_literal_is_refused_unless_asked_for() {
    let a = attempt("[2001:db8::1]:443", None, None);
    for target in [
        Target::addresses([a.addr]),
        Target::host("2001:db8::1", 443),
        Target::host("[2001:db8::1]", 443),
        Target::host("fe80::1%eth0", 443),
        Target::host("192.0.2.1", 443),
    ] {
        let why = config().check(&target).unwrap_err();
        assert!(why.contains("IP address"), "{target:?}: {why}");
        assert!(why.contains("TlsConfig::server_name"), "{why}");
        assert!(why.contains("ip_address_names(true)"), "{why}");
        let e = name_for(&config(), &target, &a).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
    let ip = config().ip_address_names(true);
    let target = Target::addresses([a.addr]);
    assert!(ip.check(&target).is_ok());
    assert_eq!(name_for(&ip, &target, &a).unwrap(), "2001:db8::1");
    let named = config().server_name(ServerName::try_from("example.com").unwrap());
    assert!(named.check(&target).is_ok());
}

#[test]
fn a_name_rustls_cannot_send_is_refused_before_the_race() {
    let why = config()
        .check(&Target::host("under_score..example", 443))
        .unwrap_err();
    assert!(why.contains("under_score..example"), "{why}");
}

#[test]
fn alpn_is_the_clients_list_filtered_by_the_record_in_the_clients_order() {
    let c = config().alpn(["h2", "http/1.1"]);
    let plain = attempt("192.0.2.1:443", None, None);
    assert_eq!(
        c.offered_alpn(&plain).unwrap(),
        [b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    // The record lists http/1.1 first: the client's order stays.
    let record = attempt("192.0.2.1:443", Some(&["http/1.1", "h2", "h3"]), None);
    assert_eq!(
        c.offered_alpn(&record).unwrap(),
        [b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    let only_h3 = attempt("192.0.2.1:443", Some(&["h3"]), None);
    let e = c.offered_alpn(&only_h3).unwrap_err();
    assert!(e.to_string().contains("nothing in common"), "{e}");
    // No client list: nothing offered, whatever the record says.
    assert!(config().offered_alpn(&record).unwrap().is_empty());
    // The attempt's configuration carries the filtered list; the plain one is shared.
    let only_h1 = attempt("192.0.2.1:443", Some(&["http/1.1"]), None);
    assert_eq!(
        c.attempt_config(&only_h1).unwrap().alpn_protocols,
        [b"http/1.1".to_vec()]
    );
    assert!(Arc::ptr_eq(
        &c.attempt_config(&plain).unwrap(),
        c.client_config()
    ));
}

#[test]
fn the_engine_is_told_the_alpn_list_and_svcb_reliance() {
    let mut engine = Config::default();
    config().configure(&mut engine);
    assert_eq!(engine.alpn, None, "no client list: no filtering");
    assert!(!engine.svcb_reliant);
    config()
        .alpn(["h2", "http/1.1"])
        .ech(Ech::Opportunistic)
        .configure(&mut engine);
    assert_eq!(
        engine.alpn,
        Some(vec!["h2".to_string(), "http/1.1".to_string()])
    );
    assert!(!engine.svcb_reliant && !engine.query_https);
    // The user's own engine list is kept.
    let mut mine = Config::default();
    mine.alpn = Some(vec!["http/1.1".into()]);
    config().alpn(["h2"]).ech(Ech::Reliant).configure(&mut mine);
    assert_eq!(mine.alpn, Some(vec!["http/1.1".to_string()]));
    assert!(mine.svcb_reliant && mine.query_https);
}

#[test]
fn ech_needs_a_configuration_that_can_be_rebuilt() {
    let client = ClientConfig::clone(config().client_config());
    let finished = TlsConfig::new(client).ech(Ech::Opportunistic);
    let why = finished
        .check(&Target::host("example.com", 443))
        .unwrap_err();
    assert!(why.contains("ech_builder"), "{why}");
    assert!(
        config()
            .ech(Ech::Opportunistic)
            .check(&Target::host("example.com", 443))
            .is_ok()
    );
}

#[test]
fn an_unusable_ech_list_is_not_used() {
    let c = config().ech(Ech::Opportunistic);
    let a = attempt("192.0.2.1:443", Some(&["h2"]), Some(&[0, 1, 2]));
    assert!(c.ech_for(&a).is_none());
    // Off: never, whatever the record carries.
    assert!(config().ech_for(&a).is_none());
}

#[test]
fn quic_attempts_are_refused_by_the_tcp_network() {
    let mut a = attempt("192.0.2.1:443", None, None);
    a.protocol = Protocol::Quic;
    let e = check_protocol(&a).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::Unsupported);
}

/// An attempt offers only the client's ids that run over its transport (RFC 9114 §3.1:
/// `h3` is HTTP/3 over QUIC; `h2` and `http/1.1` run over TCP), for a plain A/AAAA endpoint
/// too: a QUIC attempt never offers `h2`, a TCP one never `h3`. A client whose list has
/// nothing for the transport is told so.
#[test]
fn alpn_is_filtered_by_the_attempts_transport_for_every_endpoint() {
    let c = config().alpn(["h3", "h2", "http/1.1"]);
    let mut plain = attempt("192.0.2.1:443", None, None);
    assert_eq!(
        c.offered_alpn(&plain).unwrap(),
        [b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    plain.protocol = Protocol::Quic;
    assert_eq!(c.offered_alpn(&plain).unwrap(), [b"h3".to_vec()]);
    assert_eq!(
        c.attempt_config(&plain).unwrap().alpn_protocols,
        [b"h3".to_vec()]
    );
    let mut record = attempt("192.0.2.1:443", Some(&["h3", "h2"]), None);
    assert_eq!(c.offered_alpn(&record).unwrap(), [b"h2".to_vec()]);
    record.protocol = Protocol::Quic;
    assert_eq!(c.offered_alpn(&record).unwrap(), [b"h3".to_vec()]);
    // Nothing for the transport: an error naming the list and the transport.
    let tcp_only = config().alpn(["h2", "http/1.1"]);
    let e = tcp_only.offered_alpn(&plain).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(
        e.to_string()
            .contains("offers [h2, http/1.1], none of which runs over QUIC"),
        "{e}"
    );
    plain.protocol = Protocol::Tcp;
    let e = config().alpn(["h3"]).offered_alpn(&plain).unwrap_err();
    assert!(
        e.to_string()
            .contains("offers [h3], none of which runs over TCP"),
        "{e}"
    );
    // No client list: nothing offered, nothing refused.
    assert!(config().offered_alpn(&plain).unwrap().is_empty());
}

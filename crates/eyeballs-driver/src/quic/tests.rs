//! What a QUIC attempt is made with (its TLS configuration, its endpoint's socket) and how
//! its failures are counted; the races themselves are tested on loopback by the adapters.

use super::*;
use rustls::RootCertStore;

fn attempt(protocol: Protocol, alpn: Option<&[&str]>, ech: Option<&[u8]>) -> Attempt {
    Attempt {
        id: eyeballs::AttemptId(0),
        addr: "127.0.0.1:443".parse().unwrap(),
        protocol,
        alpn: alpn.map(|ids| Arc::from(ids.iter().map(|s| s.to_string()).collect::<Vec<_>>())),
        ech: ech.map(Arc::from),
    }
}

fn tls() -> TlsConfig {
    TlsConfig::with_roots(RootCertStore::empty()).unwrap()
}

/// A QUIC attempt offers the client's QUIC ids (h3), filtered by its record; a client list
/// with nothing for QUIC fails the attempt before anything is sent, naming the list.
#[test]
fn a_quic_attempt_offers_h3_only() {
    let config = tls().alpn(["h3", "h2", "http/1.1"]);
    assert!(client_config(&config, &attempt(Protocol::Quic, None, None)).is_ok());
    assert_eq!(
        config
            .offered_alpn(&attempt(Protocol::Quic, Some(&["h3", "h2"]), None))
            .unwrap(),
        [b"h3".to_vec()]
    );
    let e = client_config(
        &tls().alpn(["h2", "http/1.1"]),
        &attempt(Protocol::Quic, None, None),
    )
    .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("none of which runs over QUIC"),
        "{e}"
    );
}

/// With ECH on, an endpoint whose record carries an ECH configuration is not attempted
/// over QUIC (where the name would go out in the clear): the attempt fails at once, saying
/// why. ECH off, or no usable configuration: the attempt is made.
#[test]
fn a_quic_attempt_to_an_endpoint_with_ech_fails_at_once_when_ech_is_on() {
    let list = ech_config_list();
    let a = attempt(Protocol::Quic, Some(&["h3"]), Some(&list));
    let on = tls().alpn(["h3"]).ech(crate::tls::Ech::Opportunistic);
    let e = client_config(&on, &a).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::Unsupported);
    assert!(e.to_string().contains("left to TCP+TLS"), "{e}");
    assert!(client_config(&tls().alpn(["h3"]), &a).is_ok(), "ECH off");
    let no_ech = attempt(Protocol::Quic, Some(&["h3"]), None);
    assert!(client_config(&on, &no_ech).is_ok());
}

/// An ECHConfigList rustls can use (X25519, HKDF-SHA256, AES-128-GCM; any 32-byte key).
fn ech_config_list() -> Vec<u8> {
    let name = b"public.example";
    let mut contents = vec![7u8];
    contents.extend(0x0020u16.to_be_bytes());
    contents.extend(32u16.to_be_bytes());
    contents.extend([0x42u8; 32]);
    contents.extend(4u16.to_be_bytes());
    contents.extend(1u16.to_be_bytes());
    contents.extend(1u16.to_be_bytes());
    contents.push(0);
    contents.push(u8::try_from(name.len()).unwrap());
    contents.extend(name);
    contents.extend(0u16.to_be_bytes());
    let mut config = 0xfe0du16.to_be_bytes().to_vec();
    config.extend(u16::try_from(contents.len()).unwrap().to_be_bytes());
    config.extend(contents);
    let mut list = u16::try_from(config.len()).unwrap().to_be_bytes().to_vec();
    list.extend(config);
    list
}

/// A TLS configuration without TLS 1.3 cannot carry QUIC: refused, saying what it needs.
#[test]
fn a_tls_configuration_without_tls13_is_refused_for_quic() {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider
        .cipher_suites
        .retain(|s| s.version() == &rustls::version::TLS12);
    let tls12_only = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
    let e = client_config(
        &TlsConfig::new(tls12_only).alpn(["h3"]),
        &attempt(Protocol::Quic, None, None),
    )
    .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("TLS13_AES_128_GCM_SHA256"), "{e}");
}

#[test]
fn handshake_failures_get_kinds_that_fit() {
    use quinn::ConnectionError as E;
    assert_eq!(handshake_error(E::TimedOut).kind(), io::ErrorKind::TimedOut);
    assert_eq!(
        handshake_error(E::Reset).kind(),
        io::ErrorKind::ConnectionReset
    );
    assert_eq!(
        handshake_error(E::LocallyClosed).kind(),
        io::ErrorKind::ConnectionAborted
    );
    let alert = quinn::ConnectionClose {
        error_code: quinn::TransportErrorCode::crypto(120), // no_application_protocol
        frame_type: None,
        reason: bytes_of("no application protocol"),
    };
    let e = handshake_error(E::ConnectionClosed(alert));
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("no application protocol"), "{e}");
    let closed = quinn::ConnectionClose {
        error_code: quinn::TransportErrorCode::PROTOCOL_VIOLATION,
        frame_type: None,
        reason: bytes_of(""),
    };
    assert_eq!(
        handshake_error(E::ConnectionClosed(closed)).kind(),
        io::ErrorKind::ConnectionAborted
    );
}

fn bytes_of(s: &'static str) -> bytes::Bytes {
    bytes::Bytes::from_static(s.as_bytes())
}

/// An endpoint's socket: the family's unspecified address, IPv6-only for IPv6 (each family
/// has its own); the family's local address when the settings give one.
#[test]
fn an_endpoint_socket_is_bound_per_family() {
    let sockets = SocketConfig::default();
    let v4 = Bind::for_peer("192.0.2.1:443".parse().unwrap(), &sockets);
    assert_eq!(v4.addr, "0.0.0.0:0".parse().unwrap());
    let v6 = Bind::for_peer("[2001:db8::1]:443".parse().unwrap(), &sockets);
    assert_eq!(v6.addr, "[::]:0".parse().unwrap());
    let socket = v4.socket().unwrap();
    assert_ne!(socket.local_addr().unwrap().port(), 0);
    if eyeballs_lab::has_ipv6_loopback() {
        let socket = socket2::Socket::from(v6.socket().unwrap());
        assert!(socket.only_v6().unwrap());
    }
    let local = SocketConfig {
        local_v4: Some("127.0.0.1:0".parse().unwrap()),
        ..SocketConfig::default()
    };
    let bound = Bind::for_peer("127.0.0.1:443".parse().unwrap(), &local);
    assert_eq!(bound.addr, "127.0.0.1:0".parse().unwrap());
    assert_eq!(
        bound.socket().unwrap().local_addr().unwrap().ip(),
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    );
}

#[test]
fn a_secure_connection_says_what_it_is() {
    let tls: SecureConnection<u8> = SecureConnection::Tls(7);
    assert_eq!(tls.protocol(), Protocol::Tcp);
    assert_eq!(tls.tls(), Some(&7));
    assert!(tls.quic().is_none());
    assert_eq!(tls.into_tls().ok(), Some(7));
}

/// QUIC needs ALPN (RFC 9001 §8.1): a client with no ALPN list makes no QUIC attempt (every
/// server would refuse it), and the error says what to add.
#[test]
fn a_quic_attempt_without_any_alpn_is_refused_before_anything_is_sent() {
    let e = client_config(&tls(), &attempt(Protocol::Quic, None, None)).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    let text = e.to_string();
    assert!(text.contains("RFC 9001 §8.1"), "{text}");
    assert!(text.contains("TlsConfig::alpn"), "{text}");
    let e = client_config(&tls(), &attempt(Protocol::Quic, Some(&["h3"]), None)).unwrap_err();
    assert!(e.to_string().contains("RFC 9001 §8.1"), "{e}");
}

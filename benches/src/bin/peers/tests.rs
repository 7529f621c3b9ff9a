//! The peers binary's own pieces: the eyeballs contenders, curl's output, the outcome counts.

use super::*;

use eyeballs_lab::tls::TestCa;

/// Every eyeballs adapter is a contender, each with its own runtime, and each connects
/// to the lab's target (here a refusing port, then a listening one, on loopback).
#[test]
fn every_eyeballs_adapter_connects() {
    let closed = eyeballs_lab::ClosedPort::new(V4_LOOPBACK).expect("a closed loopback port");
    let listener =
        eyeballs_lab::Listener::bind(SocketAddr::new(V4_LOOPBACK, 0)).expect("a loopback listener");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let lab = Lab {
        resolution: Resolution::Preresolved,
        v6: closed.addr(),
        v4: listener.addr(),
        rt: Arc::new(rt),
    };
    let mut contenders = eyeballs_contenders(&lab);
    let labels: Vec<&str> = contenders.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "eyeballs_tokio::connect",
            "eyeballs_smol::connect",
            "eyeballs_async_std::connect",
            "eyeballs_mio::connect (blocking)"
        ]
    );
    for c in &mut contenders {
        assert_eq!(c.how, lab.eyeballs_how());
        let run = c.run.as_mut().expect("every adapter runs");
        assert_eq!(run().result, Ok(V4_LOOPBACK), "{}", c.label);
    }
}

#[test]
fn curl_output_is_parsed() {
    let bound = Duration::from_secs(2);
    let r = parse_curl("0.251234 127.0.0.1", b"", Some(0), "connection", bound);
    assert_eq!(r.result, Ok(V4_LOOPBACK));
    assert_eq!(r.elapsed, Duration::from_micros(251_234));
    // A TLS connection made, then an error later (the lab's server does not speak HTTP):
    // the time says the handshake was done.
    let r = parse_curl(
        "0.252000 127.0.0.1",
        b"curl: (1) ...",
        Some(1),
        "TLS connection",
        bound,
    );
    assert_eq!(r.result, Ok(V4_LOOPBACK));
    // No connection: curl reports 0 (and with TLS, the address TCP connected to).
    let r = parse_curl(
        "0.000000 ",
        b"curl: (7) Failed to connect",
        Some(7),
        "connection",
        bound,
    );
    assert_eq!(r.result, Err("curl: (7) Failed to connect".into()));
    // Its --max-time ran out: the bound, in the words of every contender (the message
    // itself varies from run to run).
    let r = parse_curl(
        "0.000000 ::1",
        b"curl: (28) Operation timed out after 2001 milliseconds with 0 bytes received",
        Some(28),
        "TLS connection",
        bound,
    );
    assert_eq!(r.result, Err("no TLS connection within 2.00 s".into()));
}

#[test]
fn python_output_is_parsed() {
    let bound = Duration::from_millis(1500);
    let r = parse_python("ok 0.251000 127.0.0.1", "TLS connection", bound);
    assert_eq!(
        (r.result, r.elapsed),
        (Ok(V4_LOOPBACK), Duration::from_millis(251))
    );
    let r = parse_python("timeout 1.502000", "TLS connection", bound);
    assert_eq!(r.result, Err("no TLS connection within 1.50 s".into()));
    let r = parse_python(
        "err 0.001000 ConnectionRefusedError: [Errno 111] refused",
        "connection",
        bound,
    );
    assert_eq!(
        r.result,
        Err("python: ConnectionRefusedError: [Errno 111] refused".into())
    );
    let r = parse_python("", "connection", bound);
    assert_eq!(r.result, Err("python: \"\"".into()));
}

/// A lab on loopback without IPv6: `v6` stands in for the lab's `[::1]:P` on 127.0.0.2, on
/// the TLS server's port.
fn ipv4_lab(v6: SocketAddr, v4: SocketAddr) -> Lab {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    Lab {
        resolution: Resolution::Preresolved,
        v6,
        v4,
        rt: Arc::new(rt),
    }
}

#[test]
fn curl_is_asked_for_the_tls_connection_the_others_make() {
    let lab = ipv4_lab(
        "127.0.0.2:4433".parse().unwrap(),
        "127.0.0.1:4433".parse().unwrap(),
    );
    let args = curl_args(
        &lab,
        Some(Path::new("/tmp/ca.pem")),
        Duration::from_millis(2500),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(
        args,
        [
            "-sS",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "--max-time",
            "2.5",
            "-w",
            "%{time_appconnect} %{remote_ip}",
            "--cacert",
            "/tmp/ca.pem",
            "--resolve",
            "eyeballs-lab.test:4433:127.0.0.2,127.0.0.1",
            "https://eyeballs-lab.test:4433/",
        ]
    );
    // The broken-IPv6 comparison: plain http://, time_connect, IPv6 in brackets.
    let lab = ipv4_lab("[::1]:80".parse().unwrap(), "127.0.0.1:80".parse().unwrap());
    let args = curl_args(&lab, None, Duration::from_secs(10));
    assert_eq!(
        args[5..],
        [
            "--max-time",
            "10",
            "-w",
            "%{time_connect} %{remote_ip}",
            "--resolve",
            "eyeballs-lab.test:80:[::1],127.0.0.1",
            "http://eyeballs-lab.test:80/",
        ]
    );
}

#[test]
fn a_peer_that_cannot_run_is_reported_not_installed() {
    let lab = ipv4_lab(
        "127.0.0.2:4433".parse().unwrap(),
        "127.0.0.1:4433".parse().unwrap(),
    );
    let secure = secure_for(&TestCa::new("peers test CA").expect("a CA"));
    let missing = "/nonexistent/eyeballs-peers-test";
    let contenders = [
        tls::curl_tls(&lab, &secure, missing),
        tls::python_tls(&lab, &secure, missing),
        curl(&lab, missing),
        python(&lab, missing),
    ];
    for c in &contenders {
        assert_eq!(
            c.run.as_ref().err().map(String::as_str),
            Some("not installed")
        );
    }
    let mut out = String::new();
    let rows = contender_table(&mut out, &contenders, "how", "eyeballs");
    assert_eq!(out.matches("| not installed | | | | |").count(), 4, "{out}");
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert_eq!(row.bar, Bar::Missing("not installed".into()));
    }
}

/// What the TLS contenders are given, trusting `ca` (no CA file: curl and Python are not
/// run by these tests), with a bound of 1 s.
fn secure_for(ca: &TestCa) -> tls::Secure {
    tls::Secure {
        client: Arc::new(
            eyeballs_benches::tls::full_handshake_client(ca).expect("a client configuration"),
        ),
        ca_file: PathBuf::from("/nonexistent/ca.pem"),
        bound: Duration::from_secs(1),
    }
}

/// The TLS-dead first address, on IPv4 only: a listener that accepts TCP and never speaks
/// at 127.0.0.2, the TLS server at 127.0.0.1 on the same port (for the lab's name). eyeballs moves on when
/// the Connection Attempt Delay runs out and connects to the TLS server; hyper-rustls takes
/// the first TCP connection and its handshake hangs until the bound. Both make a TCP
/// connection to the silent listener, and the table says all of it.
#[test]
fn eyeballs_moves_past_a_tls_dead_address_and_hyper_rustls_hangs_on_it() {
    let ca = TestCa::new("peers test CA").expect("a CA");
    let cert = ca.issue(&[LAB_NAME]).expect("a certificate");
    let server = eyeballs_lab::tls::TlsServer::bind("127.0.0.1:0".parse().unwrap(), &cert, &[])
        .expect("a TLS server");
    // On the server's port, as in the lab: hyper-util and curl take the port from the URI.
    let silent_addr = SocketAddr::from(([127, 0, 0, 2], server.addr().port()));
    let silent = eyeballs_lab::SilentListener::bind(silent_addr).expect("127.0.0.2");
    let lab = ipv4_lab(silent.addr(), server.addr());
    let secure = secure_for(&ca);
    let mut contenders = vec![
        tls::eyeballs_tls(&lab, &secure),
        tls::hyper_rustls(&lab, &secure),
    ];
    run_rounds("test", &mut contenders, 2, Some(&silent));
    let (eyeballs, hyper) = (&contenders[0], &contenders[1]);
    assert_eq!(eyeballs.label, "eyeballs_tokio Connector::tls");
    let ended: Vec<_> = eyeballs.runs.iter().map(|r| r.result.clone()).collect();
    assert_eq!(ended, [Ok(V4_LOOPBACK), Ok(V4_LOOPBACK)]);
    let ended: Vec<_> = hyper.runs.iter().map(|r| r.result.clone()).collect();
    let hung = Err("no TLS connection within 1.00 s".to_string());
    assert_eq!(ended, [hung.clone(), hung]);
    assert_eq!((eyeballs.to_silent, hyper.to_silent), (Some(2), Some(2)));
    // The warm-up round and the two measured ones: three handshakes, all eyeballs' (the
    // server counts each on a thread of its own, once the client is done).
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.handshakes() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.handshakes(), 3);

    let mut out = String::new();
    let rows = contender_table(&mut out, &contenders, "how it races", "eyeballs");
    assert!(
        out.starts_with(
            "| contender | how it races | median | p10 – p90 | min – max | × eyeballs | \
             connected to | TCP to the silent [::1] |\n"
        ),
        "{out}"
    );
    assert!(out.contains(" | 1.00 | 127.0.0.1 (2/2) | 2/2 |\n"), "{out}");
    assert!(
        out.contains(
            "| hyper-util + hyper-rustls HttpsConnector | TCP race (300 ms fallback), then TLS \
             over the winner | did not connect within 1.00 s | | | | failed: no TLS connection \
             within 1.00 s (2/2) | 2/2 |\n"
        ),
        "{out}"
    );
    assert!(matches!(rows[0].bar, Bar::Measured(_)), "{rows:?}");
    assert_eq!(rows[1].bar, Bar::TimedOut(Duration::from_secs(1)));
}

#[test]
fn outcomes_are_counted() {
    let ok = Run {
        elapsed: Duration::ZERO,
        result: Ok(V4_LOOPBACK),
    };
    let bad = Run {
        elapsed: Duration::ZERO,
        result: Err("timed out".into()),
    };
    assert_eq!(
        outcomes(&[ok.clone(), bad, ok]),
        "127.0.0.1 (2/3), failed: timed out (1/3)"
    );
    assert_eq!(times(&[]), Vec::<Duration>::new());
}

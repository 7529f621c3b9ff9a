//! The peers binary's own pieces: the eyeballs contenders, curl's output, the outcome counts.

use super::*;

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
    let r = parse_curl("0.251234 127.0.0.1", b"");
    assert_eq!(r.result, Ok(V4_LOOPBACK));
    assert_eq!(r.elapsed, Duration::from_micros(251_234));
    // No connection: curl reports 0 and no address.
    let r = parse_curl("0.000000 ", b"curl: (28) Connection timed out");
    assert_eq!(r.result, Err("curl: (28) Connection timed out".into()));
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

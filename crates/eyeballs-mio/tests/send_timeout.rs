//! A send timeout (`SO_SNDTIMEO`) the socket hook sets is the stream's, not the connect's:
//! the blocking connect to one address (made without a poll) waits for a hanging peer as
//! long as the poll loop does. On Linux a blocking `connect(2)` gives up with `EINPROGRESS`
//! when the socket's send timeout passes; a non-blocking one never does.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use eyeballs_lab::Blackhole;
use eyeballs_lab::precondition::require;
use eyeballs_mio::Connector;

#[test]
fn a_send_timeout_from_the_hook_does_not_bound_the_connect() {
    let Some(hole) = require(
        "a_send_timeout_from_the_hook_does_not_bound_the_connect",
        Blackhole::new(SocketAddr::from(([127, 0, 0, 2], 0))),
    ) else {
        return;
    };
    let addr = hole.addr();
    let connector = Connector::new()
        .socket_hook(|socket, _| socket.set_write_timeout(Some(Duration::from_millis(50))));
    let (tx, rx) = mpsc::channel();
    // Without a timer (one blocking connect) and with one that never fires (the poll loop).
    for waits in [false, true] {
        let connector = match waits {
            true => connector.clone().total_timeout(Duration::from_secs(3600)),
            false => connector.clone(),
        };
        let tx = tx.clone();
        std::thread::spawn(move || {
            let result = connector.connect(addr).map(drop).map_err(|e| e.to_string());
            let _ = tx.send((waits, result));
        });
    }
    if let Ok((waits, result)) = rx.recv_timeout(Duration::from_millis(600)) {
        panic!(
            "the connect (poll loop: {waits}) to a hanging peer ended within 600 ms, past the \
             hook's 50 ms send timeout: {result:?}"
        );
    }
    // Closed, the peer refuses the next SYN (retransmitted 1 s, then 3 s after the first):
    // both connects end, refused.
    drop(hole);
    for _ in 0..2 {
        let (waits, result) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the connects end once the peer refuses");
        let e = result.expect_err("connected to a closed port");
        assert!(e.contains("refused"), "poll loop: {waits}: {e}");
    }
}

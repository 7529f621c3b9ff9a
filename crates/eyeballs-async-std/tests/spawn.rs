//! The race futures own what they need: they can be spawned (`async_std::task::spawn`
//! needs `Send + 'static`), and the connector can be dropped while they run.

use std::net::TcpListener;

use eyeballs_async_std::{Connect, ConnectWithReport, Connector};

/// Compiles only if the futures are `Send + 'static`.
const _: fn() = || {
    fn spawnable<T: Send + 'static>() {}
    spawnable::<Connect>();
    spawnable::<ConnectWithReport>();
};

#[test]
fn races_spawned_on_async_std_outlive_their_connector() {
    let server = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
    let addr = server.local_addr().expect("its address");
    async_std::task::block_on(async {
        let connector = Connector::new().tcp_nodelay(true);
        let plain = async_std::task::spawn(connector.connect(addr));
        let reported = async_std::task::spawn(
            connector.connect_with_report(format!("localhost:{}", addr.port())),
        );
        drop(connector);
        let stream = plain.await.expect("a connection");
        assert_eq!(stream.peer_addr().expect("its peer"), addr);
        assert!(stream.nodelay().expect("TCP_NODELAY"));
        let (result, report) = reported.await;
        let stream = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
        assert_eq!(stream.peer_addr().expect("its peer").port(), addr.port());
    });
}

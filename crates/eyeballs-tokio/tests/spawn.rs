//! The race futures own what they need: they can be spawned (`tokio::spawn` needs
//! `Send + 'static`), and the connector can be dropped while they run.

use std::net::TcpListener;

use eyeballs_tokio::{Connect, ConnectWithReport, Connector};

/// Compiles only if the futures are `Send + 'static`, for every network.
const _: fn() = || {
    fn spawnable<T: Send + 'static>() {}
    spawnable::<Connect>();
    spawnable::<ConnectWithReport>();
    spawnable::<Connect<eyeballs_tokio::hickory::HickoryNetwork>>();
    spawnable::<ConnectWithReport<eyeballs_lab::scripted::ScriptedNetwork>>();
};

#[tokio::test]
async fn races_spawned_on_tokio_outlive_their_connector() {
    let server = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
    let addr = server.local_addr().expect("its address");
    let connector = Connector::new().tcp_nodelay(true);
    let plain = tokio::spawn(connector.connect(addr));
    let reported =
        tokio::spawn(connector.connect_with_report(format!("localhost:{}", addr.port())));
    drop(connector);
    let stream = plain.await.expect("the task").expect("a connection");
    assert_eq!(stream.peer_addr().expect("its peer"), addr);
    assert!(stream.nodelay().expect("TCP_NODELAY"));
    let (result, report) = reported.await.expect("the task");
    let stream = result.unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(stream.peer_addr().expect("its peer").port(), addr.port());
}

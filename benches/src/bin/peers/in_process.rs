//! The contenders of the broken-IPv6 comparison that run in this process: eyeballs (one per
//! adapter), tokio's `TcpStream::connect` bounded by a timeout, hyper-util's `HttpConnector`.

use super::*;

/// One eyeballs adapter's connect, run to completion on the adapter's own runtime, giving
/// the address connected to: the only thing in which the eyeballs contenders differ.
type AdapterConnect = Box<dyn Fn(Target) -> std::io::Result<SocketAddr>>;

/// The eyeballs contenders, one per adapter (tokio, smol, async-std, mio), in that order:
/// the same connect to the lab's target, timed the same way.
pub(super) fn eyeballs_contenders(lab: &Lab) -> Vec<Contender> {
    let rt = lab.rt.clone();
    let adapters: [(&str, AdapterConnect); 4] = [
        (
            "eyeballs_tokio::connect",
            Box::new(move |t| rt.block_on(eyeballs_tokio::connect(t))?.peer_addr()),
        ),
        (
            "eyeballs_smol::connect",
            Box::new(|t| smol::block_on(eyeballs_smol::connect(t))?.peer_addr()),
        ),
        (
            "eyeballs_async_std::connect",
            Box::new(|t| async_std::task::block_on(eyeballs_async_std::connect(t))?.peer_addr()),
        ),
        (
            "eyeballs_mio::connect (blocking)",
            Box::new(|t| eyeballs_mio::connect(t)?.peer_addr()),
        ),
    ];
    adapters
        .into_iter()
        .map(|(label, connect)| {
            let target = lab.target();
            let run = move || {
                let start = Instant::now();
                Run::timed(start, connect(target.clone()))
            };
            Contender::new(label, lab.eyeballs_how(), Ok(Box::new(run)))
        })
        .collect()
}

pub(super) fn tokio_plain(lab: &Lab, bound: Duration) -> Contender {
    let rt = lab.rt.clone();
    let how = match &lab.resolution {
        Resolution::Name(_) => "getaddrinfo (both families), addresses in turn",
        Resolution::Preresolved => "pre-resolved &[[::1]:P, 127.0.0.1:P], in turn",
    };
    let (name, port, addrs) = (lab.host().to_string(), lab.port(), [lab.v6, lab.v4]);
    let by_name = matches!(lab.resolution, Resolution::Name(_));
    let run = move || {
        let start = Instant::now();
        let r = rt.block_on(async {
            let connect = async {
                if by_name {
                    tokio::net::TcpStream::connect((name.as_str(), port)).await
                } else {
                    tokio::net::TcpStream::connect(&addrs[..]).await
                }
            };
            match tokio::time::timeout(bound, connect).await {
                Ok(r) => r.and_then(|s| s.peer_addr()).map_err(|e| e.to_string()),
                Err(_) => Err(none_within("connection", bound)),
            }
        });
        Run::timed(start, r)
    };
    Contender::new(
        format!("tokio::net::TcpStream::connect, {} timeout", Human(bound)),
        how,
        Ok(Box::new(run)),
    )
    .bounded(bound)
}

/// hyper-util's resolver trait, answering the lab's two addresses (pre-resolved mode).
#[derive(Clone)]
pub(super) struct FixedResolver(pub(super) Vec<SocketAddr>);

impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for FixedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        std::future::ready(Ok(self.0.clone().into_iter()))
    }
}

/// One `Service<Uri>` call, readiness first.
pub(super) async fn call_service<S>(mut service: S, uri: http::Uri) -> Result<S::Response, S::Error>
where
    S: tower_service::Service<http::Uri>,
{
    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(uri).await
}

/// One hyper-util connect through `connector` to `uri`, timed: the two ways the lab is
/// resolved differ only in the connector's resolver.
fn hyper_run<C>(rt: Arc<tokio::runtime::Runtime>, connector: C, uri: http::Uri) -> RunFn
where
    C: tower_service::Service<http::Uri, Response = hyper_util::rt::TokioIo<tokio::net::TcpStream>>
        + Clone
        + 'static,
    C::Error: std::fmt::Display,
{
    Box::new(move || {
        let start = Instant::now();
        let r = rt.block_on(call_service(connector.clone(), uri.clone()));
        Run::timed(
            start,
            r.map_err(|e| e.to_string())
                .and_then(|io| io.inner().peer_addr().map_err(|e| e.to_string())),
        )
    })
}

pub(super) fn hyper_util(lab: &Lab) -> Contender {
    use hyper_util::client::legacy::connect::HttpConnector;
    let rt = lab.rt.clone();
    let uri: Result<http::Uri, String> = format!("http://{}:{}/", lab.host(), lab.port())
        .parse()
        .map_err(|e| format!("bad URI: {e}"));
    let uri = match uri {
        Ok(u) => u,
        Err(e) => return Contender::new("hyper-util HttpConnector", "", Err(e)),
    };
    // hyper-util's default fallback delay (its Happy Eyeballs) is 300 ms.
    let (how, run) = match &lab.resolution {
        Resolution::Name(_) => (
            "GaiResolver (getaddrinfo)",
            hyper_run(rt, HttpConnector::new(), uri),
        ),
        Resolution::Preresolved => (
            "resolver answering [::1], 127.0.0.1",
            hyper_run(
                rt,
                HttpConnector::new_with_resolver(FixedResolver(vec![lab.v6, lab.v4])),
                uri,
            ),
        ),
    };
    Contender::new("hyper-util HttpConnector (300 ms fallback)", how, Ok(run))
}

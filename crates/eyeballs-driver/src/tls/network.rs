//! The network that makes secure attempts ([`Tls`]): TCP from a transport network, then the
//! TLS handshake, within the handshake timeout.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use eyeballs::{Attempt, DnsAnswer, Protocol, RecordType, Target};

use super::config::TlsConfig;
use super::handshake::TlsHandshake;
use super::secured::{SecureInfo, Secured};
use crate::attempt::{self, BoxAttempt};
use crate::runtime::{BoxFuture, Network, RaceContext, Runtime};

/// A network whose attempts are TCP (made by `N`), then TLS (run by `H`): a race over it
/// ends when a TLS handshake is done. `resolve` is `N`'s. See the [module](crate::tls).
///
/// ```
/// use eyeballs_driver::SystemNetwork;
/// use eyeballs_driver::tls::{Tls, TlsConfig};
///
/// # struct MyTls;
/// # impl<T: Send + 'static> eyeballs_driver::tls::TlsHandshake<T> for MyTls {
/// #     type Stream = rustls::ClientConnection;
/// #     fn handshake(&self, _: std::sync::Arc<rustls::ClientConfig>, _: rustls::pki_types::ServerName<'static>, _: T)
/// #         -> eyeballs_driver::BoxFuture<std::io::Result<Self::Stream>> { unimplemented!() }
/// #     fn connection(s: &Self::Stream) -> &rustls::ClientConnection { s }
/// # }
/// // `MyTls` runs the handshake on the runtime's streams (tokio: eyeballs_tokio::TokioTls).
/// let network = Tls::new(SystemNetwork, MyTls, TlsConfig::webpki_roots()?);
/// assert!(network.config().client_config().alpn_protocols.is_empty());
/// # Ok::<(), eyeballs_driver::tls::rustls::Error>(())
/// ```
pub struct Tls<N, H> {
    inner: Arc<TlsInner<N, H>>,
}

struct TlsInner<N, H> {
    network: Arc<N>,
    handshake: H,
    config: TlsConfig,
}

impl<N, H> Clone for Tls<N, H> {
    fn clone(&self) -> Self {
        Tls {
            inner: self.inner.clone(),
        }
    }
}

impl<N, H> fmt::Debug for Tls<N, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl<N, H> Tls<N, H> {
    /// TLS over `network`'s TCP, handshakes run by `handshake`, configured by `config`.
    pub fn new(network: N, handshake: H, config: TlsConfig) -> Tls<N, H> {
        Tls::over(Arc::new(network), handshake, config)
    }

    /// [`new`](Tls::new) over a network already shared (a connector's).
    pub fn over(network: Arc<N>, handshake: H, config: TlsConfig) -> Tls<N, H> {
        Tls {
            inner: Arc::new(TlsInner {
                network,
                handshake,
                config,
            }),
        }
    }

    /// The TLS configuration.
    pub fn config(&self) -> &TlsConfig {
        &self.inner.config
    }

    /// The transport network.
    pub fn network(&self) -> &N {
        &self.inner.network
    }
}

impl<R, N, H> Network<R> for Tls<N, H>
where
    R: Runtime,
    N: Network<R>,
    H: TlsHandshake<N::Stream>,
{
    type Stream = Secured<H::Stream>;

    fn resolve(&self, runtime: &R, name: &str, record: RecordType) -> BoxFuture<DnsAnswer> {
        self.inner.network.resolve(runtime, name, record)
    }

    fn connect(
        &self,
        runtime: &R,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxFuture<io::Result<Self::Stream>> {
        attempt::finish(self.attempt(runtime, attempt, race))
    }

    fn attempt(
        &self,
        runtime: &R,
        attempt: &Attempt,
        race: &RaceContext<'_>,
    ) -> BoxAttempt<Self::Stream> {
        let config = &self.inner.config;
        let prepared = check_protocol(attempt).and_then(|()| {
            Ok((
                config.attempt_config(attempt)?,
                config.server_name_for(race, attempt)?,
            ))
        });
        let (client, name) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => return attempt::single(Box::pin(std::future::ready(Err(e)))),
        };
        let transport = self.inner.network.connect(runtime, attempt, race);
        let inner = self.inner.clone();
        let runtime = runtime.clone();
        let endpoint = attempt.clone();
        attempt::secure("TLS", transport, move |tcp| {
            let shown = name.to_str().into_owned();
            let handshake = inner.handshake.handshake(client, name, tcp);
            let timeout = inner.config.handshake_timeout;
            let handshake = within(&runtime, timeout, handshake, "TLS", "of the TCP connection");
            Box::pin(async move {
                let stream = handshake.await?;
                let connection = H::connection(&stream);
                let info = SecureInfo::new(
                    &endpoint,
                    &shown,
                    connection.alpn_protocol().map(<[u8]>::to_vec),
                    connection.ech_status(),
                );
                Ok(Secured::new(stream, info))
            })
        })
    }

    fn check(&self, target: &Target) -> Result<(), String> {
        self.inner.network.check(target)?;
        self.inner.config.check(target)
    }
}

/// [`Tls`] makes TCP attempts only.
pub(super) fn check_protocol(attempt: &Attempt) -> Result<(), io::Error> {
    match attempt.protocol {
        Protocol::Tcp => Ok(()),
        Protocol::Quic => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a QUIC attempt, and this network makes TCP+TLS attempts only",
        )),
    }
}

/// `handshake`, failing with `TimedOut` if it takes longer than `timeout` (from now): `no
/// {layer} handshake within {timeout} {since}`.
pub(crate) fn within<R: Runtime, S: Send + 'static>(
    runtime: &R,
    timeout: Option<Duration>,
    handshake: BoxFuture<io::Result<S>>,
    layer: &'static str,
    since: &'static str,
) -> BoxFuture<io::Result<S>> {
    let Some(timeout) = timeout else {
        return handshake;
    };
    let mut handshake = handshake;
    let mut sleep = runtime.sleep_until(runtime.now() + timeout);
    Box::pin(std::future::poll_fn(move |cx| {
        if let std::task::Poll::Ready(result) = handshake.as_mut().poll(cx) {
            return std::task::Poll::Ready(result);
        }
        sleep.as_mut().poll(cx).map(|()| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no {layer} handshake within {timeout:?} {since}"),
            ))
        })
    }))
}

//! The TLS-dead-IPv6 comparison: time to a usable TLS connection when `[::1]:P` accepts TCP
//! and never speaks (a TCP-terminating proxy whose upstream is gone, HEv3 §6.1) and
//! `127.0.0.1:P` serves TLS. eyeballs races to a finished TLS handshake
//! (`Connector::tls`); hyper-util + hyper-rustls, curl and Python asyncio race TCP, then run
//! TLS over the winner.

use super::*;

use eyeballs_benches::tls::full_handshake_client;
use eyeballs_lab::tls::{TestCa, TlsDeadIpv6};
use eyeballs_tokio::tls::TlsConfig;
use eyeballs_tokio::tls::rustls::ClientConfig;
use eyeballs_tokio::tls::rustls::pki_types::ServerName;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;

/// The chart's title.
pub(super) const TLS_CHART_TITLE: &str =
    "Time to a TLS connection: [::1] accepts TCP and never speaks, 127.0.0.1 serves TLS";

/// What the TLS contenders are given besides the lab: the client configuration the Rust
/// contenders share (trusting the lab's CA), the CA's PEM file for curl and Python, and the
/// bound on every connect.
pub(super) struct Secure {
    pub(super) client: Arc<ClientConfig>,
    pub(super) ca_file: PathBuf,
    pub(super) bound: Duration,
}

/// eyeballs' secure racing: every attempt is TCP, then TLS; the race ends at the first
/// finished handshake. Pre-resolved, the target has no name: the lab's name is given as
/// the one to authenticate (as the other contenders send it).
pub(super) fn eyeballs_tls(lab: &Lab, secure: &Secure) -> Contender {
    let label = "eyeballs_tokio Connector::tls";
    let mut config = TlsConfig::new(secure.client.clone());
    if matches!(lab.resolution, Resolution::Preresolved) {
        match ServerName::try_from(lab.host().to_string()) {
            Ok(name) => config = config.server_name(name),
            Err(e) => return Contender::new(label, "", Err(format!("bad name: {e}"))),
        }
    }
    let connector = eyeballs_tokio::Connector::new().tls(config);
    let (rt, target, bound) = (lab.rt.clone(), lab.target(), secure.bound);
    let run = move || {
        let start = Instant::now();
        let r = rt.block_on(async {
            match tokio::time::timeout(bound, connector.connect(target.clone())).await {
                Ok(Ok(secured)) => Ok(secured.info().remote_addr()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(none_within("TLS connection", bound)),
            }
        });
        Run::timed(start, r)
    };
    Contender::new(
        label,
        "TCP then TLS per attempt; the race ends at a TLS handshake (HEv3 §6.1)",
        Ok(Box::new(run)),
    )
    .bounded(secure.bound)
}

/// hyper-rustls's `HttpsConnector` over `http` (the connector hyper-util's legacy `Client`
/// is built with), with the shared client configuration.
fn https<H>(client: &ClientConfig, http: H) -> HttpsConnector<H> {
    HttpsConnectorBuilder::new()
        .with_tls_config(client.clone())
        .https_only()
        .enable_http1()
        .wrap_connector(http)
}

/// The address a hyper-rustls connection is connected to.
fn https_peer(
    stream: &MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>,
) -> Result<SocketAddr, String> {
    match stream {
        MaybeHttpsStream::Https(tls) => tls
            .inner()
            .get_ref()
            .0
            .inner()
            .inner()
            .peer_addr()
            .map_err(|e| e.to_string()),
        MaybeHttpsStream::Http(_) => Err("plain HTTP on an https:// URI".into()),
    }
}

/// One hyper-rustls connect through `connector` to `uri` within `bound`, timed.
fn https_run<C>(
    rt: Arc<tokio::runtime::Runtime>,
    connector: C,
    uri: http::Uri,
    bound: Duration,
) -> RunFn
where
    C: tower_service::Service<
            http::Uri,
            Response = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>,
        > + Clone
        + 'static,
    C::Error: std::fmt::Display,
{
    Box::new(move || {
        let start = Instant::now();
        let r = rt.block_on(async {
            match tokio::time::timeout(bound, call_service(connector.clone(), uri.clone())).await {
                Ok(Ok(stream)) => https_peer(&stream),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(none_within("TLS connection", bound)),
            }
        });
        Run::timed(start, r)
    })
}

/// hyper-util's `HttpConnector` (its Happy Eyeballs: a 300 ms fallback to the other
/// family) with hyper-rustls on top: the connection hyper-util's legacy `Client` makes for
/// an `https://` URI.
pub(super) fn hyper_rustls(lab: &Lab, secure: &Secure) -> Contender {
    let label = "hyper-util + hyper-rustls HttpsConnector";
    let uri: http::Uri = match format!("https://{}:{}/", lab.host(), lab.port()).parse() {
        Ok(u) => u,
        Err(e) => return Contender::new(label, "", Err(format!("bad URI: {e}"))),
    };
    let (rt, bound) = (lab.rt.clone(), secure.bound);
    let run = match &lab.resolution {
        Resolution::Name(_) => {
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            https_run(rt, https(&secure.client, http), uri, bound)
        }
        Resolution::Preresolved => {
            let mut http = HttpConnector::new_with_resolver(FixedResolver(vec![lab.v6, lab.v4]));
            http.enforce_http(false);
            https_run(rt, https(&secure.client, http), uri, bound)
        }
    };
    Contender::new(
        label,
        "TCP race (300 ms fallback), then TLS over the winner",
        Ok(run),
    )
    .bounded(bound)
}

/// curl `https://`, trusting the lab's CA, timed by `time_appconnect`.
pub(super) fn curl_tls(lab: &Lab, secure: &Secure, curl: &str) -> Contender {
    curl_contender(
        curl,
        "https:// (200 ms happy eyeballs default)",
        "TCP race (200 ms), then TLS over the winner; time_appconnect",
        curl_args(lab, Some(&secure.ca_file), secure.bound),
        "TLS connection",
        secure.bound,
    )
    .bounded(secure.bound)
}

/// Python asyncio's `open_connection` with `ssl=` a context trusting the lab's CA.
pub(super) fn python_tls(lab: &Lab, secure: &Secure, python: &str) -> Contender {
    let label = "Python asyncio + ssl (happy_eyeballs_delay=0.25)";
    match PythonPeer::start(python, lab, Some(&secure.ca_file), secure.bound) {
        Ok((mut peer, version)) => Contender::new(
            label,
            format!("Python {version}; TCP race (250 ms), then TLS over the winner"),
            Ok(Box::new(move || peer.connect())),
        )
        .bounded(secure.bound),
        Err(why) => Contender::new(label, "", Err(why)),
    }
}

/// Every contender of the comparison, eyeballs first (the ratios' base).
pub(super) fn contenders(lab: &Lab, secure: &Secure, args: &Args) -> Vec<Contender> {
    vec![
        eyeballs_tls(lab, secure),
        hyper_rustls(lab, secure),
        curl_tls(lab, secure, &args.curl),
        python_tls(lab, secure, &args.python),
    ]
}

/// A directory of this process's own, removed on drop: the CA's PEM file for curl and
/// Python.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("eyeballs-peers-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The lab, the CA and what the contenders are given; or why the comparison cannot run.
fn setup(
    args: &Args,
    rt: &Arc<tokio::runtime::Runtime>,
) -> Result<(TlsDeadIpv6, Lab, Secure, TempDir), String> {
    eyeballs_lab::ipv6_loopback().map_err(|e| e.to_string())?;
    let ca = TestCa::new("eyeballs peers CA").map_err(|e| e.to_string())?;
    // The name is known before the port: a name resolves the same on every port.
    let resolution = resolution(args.name.as_deref(), 0);
    let host = match &resolution {
        Resolution::Name(n) => n.clone(),
        Resolution::Preresolved => LAB_NAME.to_string(),
    };
    let cert = ca.issue(&[&host]).map_err(|e| e.to_string())?;
    let lab = TlsDeadIpv6::new(&cert, &[]).map_err(|e| e.to_string())?;
    let dir = TempDir::new().map_err(|e| format!("a directory for the CA file: {e}"))?;
    let ca_file = dir.0.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).map_err(|e| format!("{}: {e}", ca_file.display()))?;
    let client = full_handshake_client(&ca).map_err(|e| e.to_string())?;
    let env = Lab {
        resolution,
        v6: lab.v6_addr(),
        v4: lab.v4_addr(),
        rt: rt.clone(),
    };
    let secure = Secure {
        client: Arc::new(client),
        ca_file,
        bound: Duration::from_millis(args.bound_ms),
    };
    Ok((lab, env, secure, dir))
}

/// The comparison, as a Markdown section in `out` (and its chart, with `--tls-svg`).
pub(super) fn comparison(args: &Args, rt: &Arc<tokio::runtime::Runtime>, out: &mut String) {
    let _ = writeln!(
        out,
        "## Time to a TLS connection with a TLS-dead IPv6 path\n"
    );
    let (lab, env, secure, _dir) = match setup(args, rt) {
        Ok(set) => set,
        Err(why) => {
            not_measured(out, args.tls_svg.as_deref(), TLS_CHART_TITLE, &why);
            return;
        }
    };
    let mut contenders = contenders(&env, &secure, args);
    run_rounds("TLS-dead IPv6", &mut contenders, args.reps, Some(lab.v6()));
    let resolved = match &env.resolution {
        Resolution::Name(n) => format!(
            "The name `{n}` resolves to both through the system resolver (a private `/etc/hosts`); every \
             contender looks it up itself."
        ),
        Resolution::Preresolved => "No name resolved to both here, so every contender was \
             handed both addresses, IPv6 first (eyeballs: `Target::addresses`, with the name to \
             authenticate given by `TlsConfig::server_name`; hyper-util: a resolver answering \
             both; curl: `--resolve`; Python: `getaddrinfo` patched)."
            .to_string(),
    };
    let _ = writeln!(
        out,
        "The lab (`eyeballs_lab::tls::TlsDeadIpv6`): `[::1]:{p}` accepts TCP and never speaks \
         (a TCP-terminating proxy whose upstream is gone, HEv3 §6.1), `127.0.0.1:{p}` serves \
         TLS (rustls) with a certificate for `{host}` from a CA made at run time, which every \
         contender trusts (the Rust contenders share one rustls `ClientConfig`; curl: \
         `--cacert`; Python: `ssl.create_default_context(cafile=...)`). {resolved}\n",
        p = env.port(),
        host = env.host(),
    );
    let _ = writeln!(
        out,
        "{reps} measured connects per contender after one warm-up, round-robin, each bounded at \
         {bound} (curl: `--max-time`; Python: `asyncio.wait_for`; the Rust contenders: \
         `tokio::time::timeout`). Time from the call to a usable TLS connection, the handshake \
         done (curl: its `time_appconnect`; Python: `time.perf_counter()` around \
         `open_connection`). The last column counts the measured runs that made a TCP \
         connection to the silent `[::1]` (its accept count).\n",
        reps = args.reps,
        bound = Human(secure.bound),
    );
    let rows = contender_table(out, &contenders, "how it races", "eyeballs");
    // The Python process ends before the lab does.
    drop(contenders);
    drop(lab);
    if let Some(path) = &args.tls_svg {
        write_chart(
            out,
            path,
            TLS_CHART_TITLE,
            "Time to a TLS connection, TLS-dead IPv6",
            &rows,
        );
    }
}

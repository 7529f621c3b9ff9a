//! The TLS flags of `eyeballs connect` (`--tls`, `--quic` and what goes with them) and the
//! TLS configuration they build, checked against the target before the race as the race
//! will check them.

use std::path::PathBuf;
use std::time::Duration;

use eyeballs::{Protocol, Target};
use eyeballs_tokio::tls::TlsConfig;
use eyeballs_tokio::tls::rustls::pki_types::ServerName;

use super::{UsageError, parse_duration};

/// The longest ALPN protocol id (RFC 7301 §3.1: "Empty strings MUST NOT be included and
/// byte strings MUST NOT be truncated", each id is prefixed by a one-byte length).
const MAX_ALPN_ID: usize = 255;

/// What QUIC attempts offer when `--alpn` names no protocol that runs over QUIC: HTTP/3
/// (RFC 9114 §3.2: "HTTP/3 support is indicated by selecting the ALPN token \"h3\"").
const QUIC_DEFAULT_ALPN: &str = "h3";

/// What TCP attempts offer with `--quic` and no `--alpn`: HTTP/2 (RFC 9113 §3.1), then
/// HTTP/1.1 (RFC 7301 §6). With QUIC in the race the client has an ALPN list (QUIC needs
/// one: RFC 9001 §8.1), and every TCP attempt offers that list's TCP ids, so they need ids
/// of their own.
const TCP_DEFAULT_ALPN: [&str; 2] = ["h2", "http/1.1"];

/// Which transports a race with QUIC in it uses (`--quic`, `--quic-only`).
///
/// ```
/// use eyeballs_cli::connect::{QuicRace, TlsFlags};
///
/// assert_eq!(TlsFlags { quic: true, ..TlsFlags::default() }.quic_race(), Some(QuicRace::WithTcp));
/// assert_eq!(TlsFlags { quic_only: true, ..TlsFlags::default() }.quic_race(), Some(QuicRace::Only));
/// assert_eq!(TlsFlags { tls: true, ..TlsFlags::default() }.quic_race(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuicRace {
    /// QUIC and TCP+TLS attempts race (`--quic`): each address over QUIC, then over TCP
    /// the Connection Attempt Delay later (the engine's order).
    WithTcp,
    /// QUIC attempts only (`--quic-only`).
    Only,
}

/// The flags of secure racing. Without `--tls` (or `--quic`, `--quic-only`, which imply
/// it) the race ends at the TCP handshake, and the other flags are refused (by clap: they
/// require one of them).
#[derive(Clone, Debug, Default, clap::Args)]
#[command(group(clap::ArgGroup::new("secure").multiple(true).args(["tls", "quic", "quic_only"])))]
pub struct TlsFlags {
    /// Secure racing: each attempt is TCP, then TLS, and the first attempt whose TLS
    /// handshake is done wins (HEv3 §6.1); a path where TCP connects and TLS never answers
    /// costs one Connection Attempt Delay. The certificate is checked against the Mozilla
    /// roots (or --ca-file) for the target's host name (or --server-name).
    #[arg(long, help_heading = "TLS")]
    pub tls: bool,
    /// QUIC in the race too (implies --tls): each address is tried over QUIC first, then
    /// over TCP+TLS the Connection Attempt Delay later, and the first handshake done wins,
    /// over either (HEv3 §6.1, §6.2). QUIC attempts offer --alpn's QUIC ids (h3 when it
    /// has none), TCP ones its other ids (h2,http/1.1 without --alpn).
    #[arg(long, help_heading = "TLS")]
    pub quic: bool,
    /// QUIC attempts only, no TCP (implies --quic): --alpn must name a protocol that runs
    /// over QUIC (h3, the default).
    #[arg(long, help_heading = "TLS")]
    pub quic_only: bool,
    /// Trust the CA certificates of this PEM file instead of the Mozilla roots.
    #[arg(long, value_name = "PEM", requires = "secure", help_heading = "TLS")]
    pub ca_file: Option<PathBuf>,
    /// The ALPN protocols to offer, most preferred first, separated by commas
    /// (h2,http/1.1); the one the server chose is shown with the connection. With --quic,
    /// the ids that run over QUIC (h3) go to QUIC attempts, the others to TCP ones.
    #[arg(long, value_name = "LIST", requires = "secure", help_heading = "TLS")]
    pub alpn: Option<String>,
    /// The name to authenticate (sent as SNI, checked against the certificate) instead of
    /// the target's host name. Needed when the target is an address; an IP address here
    /// checks a certificate issued to that address.
    #[arg(long, value_name = "NAME", requires = "secure", help_heading = "TLS")]
    pub server_name: Option<String>,
    /// How long a TLS handshake may take once TCP has connected, and a QUIC handshake
    /// from its start (default 30s); after it the attempt fails and the next one starts.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_duration,
        requires = "secure",
        help_heading = "TLS"
    )]
    pub handshake_timeout: Option<Duration>,
}

/// `--alpn LIST` as the list of protocol ids, or why it cannot be offered.
fn alpn_list(list: &str) -> Result<Vec<String>, UsageError> {
    let bad = |why: String| {
        UsageError(format!(
            "invalid --alpn '{list}': {why} (give the protocols separated by commas, most \
             preferred first, e.g. h2,http/1.1)"
        ))
    };
    if list.trim().is_empty() {
        return Err(bad("the list is empty".to_string()));
    }
    let mut ids = Vec::new();
    for id in list.split(',').map(str::trim) {
        if id.is_empty() {
            return Err(bad("a protocol id is empty (RFC 7301 §3.1)".to_string()));
        }
        if id.len() > MAX_ALPN_ID {
            return Err(bad(format!(
                "a protocol id is {} bytes long, and at most {MAX_ALPN_ID} fit (RFC 7301 §3.1)",
                id.len()
            )));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// Over which transport ALPN id `id` runs (`h3` over QUIC: [`eyeballs::svcb::alpn_transport`],
/// the rule the driver filters each attempt's offer by).
fn transport_of(id: &str) -> Protocol {
    eyeballs::svcb::alpn_transport(id)
}

/// The ALPN list a race offers: `given` (`--alpn`, parsed) as the transports raced need it.
/// Without QUIC, `given` as it is. With QUIC and TCP, `given` with `h3` first when it names
/// no QUIC id (the default for QUIC, alongside the TCP list), and `h3,h2,http/1.1` when
/// nothing is given; a list with no TCP id is refused (every TCP attempt would fail, having
/// nothing to offer). QUIC alone: `h3` when nothing is given; a list with no QUIC id is
/// refused.
fn race_alpn(
    given: Option<Vec<String>>,
    race: Option<QuicRace>,
    list: &str,
) -> Result<Option<Vec<String>>, UsageError> {
    let Some(race) = race else {
        return Ok(given);
    };
    let Some(mut ids) = given else {
        return Ok(Some(match race {
            QuicRace::WithTcp => std::iter::once(QUIC_DEFAULT_ALPN)
                .chain(TCP_DEFAULT_ALPN)
                .map(String::from)
                .collect(),
            QuicRace::Only => vec![QUIC_DEFAULT_ALPN.to_string()],
        }));
    };
    let over = |p: Protocol| ids.iter().any(|id| transport_of(id) == p);
    match race {
        QuicRace::WithTcp if !over(Protocol::Tcp) => Err(UsageError(format!(
            "invalid --alpn '{list}' with --quic: it names no protocol that runs over TCP, and \
             --quic races TCP+TLS attempts too, which would have nothing to offer: add the \
             TCP ones (e.g. {list},h2,http/1.1), or race QUIC alone with --quic-only"
        ))),
        QuicRace::WithTcp => {
            if !over(Protocol::Quic) {
                ids.insert(0, QUIC_DEFAULT_ALPN.to_string());
            }
            Ok(Some(ids))
        }
        QuicRace::Only if !over(Protocol::Quic) => Err(UsageError(format!(
            "invalid --alpn '{list}' with --quic-only: it names no protocol that runs over \
             QUIC, and QUIC needs one (RFC 9001 §8.1): add h3 (HTTP/3), or race TCP+TLS too \
             with --quic"
        ))),
        QuicRace::Only => Ok(Some(ids)),
    }
}

impl TlsFlags {
    /// Whether QUIC is in the race, and with TCP or alone (`None`: no QUIC).
    pub fn quic_race(&self) -> Option<QuicRace> {
        if self.quic_only {
            Some(QuicRace::Only)
        } else if self.quic {
            Some(QuicRace::WithTcp)
        } else {
            None
        }
    }

    /// The flag that asked for secure racing, for messages: `--quic-only`, `--quic` or
    /// `--tls`.
    fn flag(&self) -> &'static str {
        match self.quic_race() {
            Some(QuicRace::Only) => "--quic-only",
            Some(QuicRace::WithTcp) => "--quic",
            None => "--tls",
        }
    }

    /// The header line of a secure race: what wins, the name authenticated, the roots, the
    /// ALPN ids offered over each transport raced.
    ///
    /// ```
    /// use eyeballs_cli::connect::{TlsFlags, parse_target};
    ///
    /// let flags = TlsFlags { quic: true, ..TlsFlags::default() };
    /// let config = flags.config(&parse_target("localhost:443").unwrap()).unwrap().unwrap();
    /// assert_eq!(
    ///     flags.describe(&config),
    ///     "secure racing: QUIC, and TCP then TLS, per address, the first handshake done wins \
    ///      (HEv3 §6.1, §6.2); server name: the host name, the Mozilla roots, ALPN h3 over \
    ///      QUIC, h2,http/1.1 over TCP\n"
    /// );
    /// ```
    pub fn describe(&self, config: &TlsConfig) -> String {
        let name = match &self.server_name {
            Some(name) => format!("server name {name}"),
            None => "server name: the host name".to_string(),
        };
        let roots = match &self.ca_file {
            Some(path) => format!("CA certificates from {}", path.display()),
            None => "the Mozilla roots".to_string(),
        };
        let ids: Vec<String> = config
            .client_config()
            .alpn_protocols
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        let over = |p: Protocol| {
            ids.iter()
                .filter(|id| transport_of(id) == p)
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        };
        let (what, alpn) = match self.quic_race() {
            None if ids.is_empty() => (
                "TCP then TLS per attempt, the first TLS handshake done wins (HEv3 §6.1)",
                "no ALPN".to_string(),
            ),
            None => (
                "TCP then TLS per attempt, the first TLS handshake done wins (HEv3 §6.1)",
                format!("ALPN {}", ids.join(",")),
            ),
            Some(QuicRace::WithTcp) => (
                "QUIC, and TCP then TLS, per address, the first handshake done wins (HEv3 \
                 §6.1, §6.2)",
                format!(
                    "ALPN {} over QUIC, {} over TCP",
                    over(Protocol::Quic),
                    over(Protocol::Tcp)
                ),
            ),
            Some(QuicRace::Only) => (
                "QUIC only, the first QUIC handshake done wins (HEv3 §6.2)",
                format!("ALPN {} over QUIC", over(Protocol::Quic)),
            ),
        };
        format!("secure racing: {what}; {name}, {roots}, {alpn}\n")
    }

    /// The TLS configuration these flags ask for (`None` without `--tls`, `--quic` or
    /// `--quic-only`), checked against `target` as the race will check it, so that a bad
    /// flag, an unreadable CA file, an ALPN list the transports raced cannot use or a target
    /// with no name to authenticate is reported before anything is sent.
    ///
    /// ```
    /// use eyeballs_cli::connect::{TlsFlags, parse_target};
    ///
    /// let by_name = parse_target("localhost:443").unwrap();
    /// let flags = TlsFlags { tls: true, alpn: Some("h2,http/1.1".into()), ..TlsFlags::default() };
    /// let config = flags.config(&by_name).unwrap().unwrap();
    /// assert_eq!(config.client_config().alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    ///
    /// // An address has no name to authenticate: --server-name gives one.
    /// let literal = parse_target("127.0.0.1:443").unwrap();
    /// let e = TlsFlags { tls: true, ..TlsFlags::default() }.config(&literal).unwrap_err();
    /// assert!(e.to_string().contains("--server-name"), "{e}");
    /// assert!(TlsFlags::default().config(&literal).unwrap().is_none()); // no --tls
    /// ```
    pub fn config(&self, target: &Target) -> Result<Option<TlsConfig>, UsageError> {
        if !self.tls && self.quic_race().is_none() {
            return Ok(None);
        }
        let mut config = match &self.ca_file {
            Some(path) => TlsConfig::with_ca_file(path)
                .map_err(|e| UsageError(format!("invalid --ca-file: {e}")))?,
            None => TlsConfig::webpki_roots().map_err(|e| {
                UsageError(format!(
                    "cannot build a TLS configuration with the Mozilla roots: {e}"
                ))
            })?,
        };
        let given = self.alpn.as_deref().map(alpn_list).transpose()?;
        let list = self.alpn.as_deref().unwrap_or_default();
        if let Some(ids) = race_alpn(given, self.quic_race(), list)? {
            config = config.alpn(ids);
        }
        if let Some(name) = &self.server_name {
            let name = ServerName::try_from(name.clone()).map_err(|e| {
                UsageError(format!(
                    "invalid --server-name '{name}': {e} (give a host name, e.g. example.com, or \
                     an IP address)"
                ))
            })?;
            config = config.server_name(name);
        }
        if let Some(timeout) = self.handshake_timeout {
            if timeout.is_zero() {
                return Err(UsageError(
                    "invalid --handshake-timeout: 0 would fail every TLS handshake; give a \
                     duration such as 10s"
                        .to_string(),
                ));
            }
            config = config.handshake_timeout(Some(timeout));
        }
        if let Err(why) = config.check(target) {
            // The one reason checking the addresses themselves would lift: no name.
            let no_name = self.server_name.is_none()
                && config.clone().ip_address_names(true).check(target).is_ok();
            let flag = self.flag();
            return Err(UsageError(if no_name {
                format!(
                    "{flag} needs a name to authenticate (sent as SNI, checked against the \
                     certificate), and the target is an IP address: connect by name \
                     (HOST:PORT), or give the name the server's certificate has with \
                     --server-name NAME (or the address itself, for a certificate issued to it)"
                )
            } else {
                format!("{flag}: {why}")
            }));
        }
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::parse_target;

    /// The flags as clap parses them for the real command.
    fn flags(args: &[&str]) -> Result<TlsFlags, clap::Error> {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            tls: TlsFlags,
        }
        let mut all = vec!["eyeballs"];
        all.extend_from_slice(args);
        <Cli as clap::Parser>::try_parse_from(all).map(|c| c.tls)
    }

    fn config(args: &[&str], target: &str) -> Result<Option<TlsConfig>, String> {
        flags(args)
            .unwrap()
            .config(&parse_target(target).unwrap())
            .map_err(|e| e.0)
    }

    #[test]
    fn alpn_lists() {
        assert_eq!(alpn_list("h2"), Ok(vec!["h2".to_string()]));
        assert_eq!(
            alpn_list(" h2 , http/1.1 "),
            Ok(vec!["h2".to_string(), "http/1.1".to_string()])
        );
        for (bad, says) in [
            ("", "the list is empty"),
            (" ", "the list is empty"),
            (",", "a protocol id is empty"),
            ("h2,,http/1.1", "a protocol id is empty"),
        ] {
            let e = alpn_list(bad).unwrap_err().0;
            assert!(
                e.starts_with(&format!("invalid --alpn '{bad}': {says}")),
                "{e}"
            );
            assert!(e.contains("h2,http/1.1"), "{e}");
        }
        let long = "x".repeat(256);
        let e = alpn_list(&long).unwrap_err().0;
        assert!(e.contains("256 bytes") && e.contains("RFC 7301"), "{e}");
        assert!(alpn_list(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn every_flag_reaches_the_configuration() {
        assert!(config(&[], "localhost:443").unwrap().is_none());
        let c = config(
            &[
                "--tls",
                "--alpn",
                "h2,http/1.1",
                "--server-name",
                "example.com",
                "--handshake-timeout",
                "5s",
            ],
            "127.0.0.1:443",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            c.client_config().alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert_eq!(c.handshake_timeout_setting(), Some(Duration::from_secs(5)));
        // The name given is the one authenticated.
        let target = parse_target("127.0.0.1:443").unwrap();
        let sockets = eyeballs_driver::SocketConfig::default();
        let attempt = eyeballs::Attempt {
            id: eyeballs::AttemptId(0),
            addr: "127.0.0.1:443".parse().unwrap(),
            protocol: eyeballs::Protocol::Tcp,
            alpn: None,
            ech: None,
        };
        let name = c
            .server_name_for(
                &eyeballs_driver::RaceContext::new(&target, &sockets),
                &attempt,
            )
            .unwrap();
        assert_eq!(name.to_str(), "example.com");
        // Defaults: no ALPN, the driver's handshake timeout.
        let c = config(&["--tls"], "localhost:443").unwrap().unwrap();
        assert!(c.client_config().alpn_protocols.is_empty());
        assert_eq!(
            c.handshake_timeout_setting(),
            Some(eyeballs_tokio::tls::DEFAULT_HANDSHAKE_TIMEOUT)
        );
    }

    #[test]
    fn bad_tls_flags_name_the_flag() {
        // Every TLS flag needs --tls (clap's error, exit code 2 there too).
        for args in [
            &["--ca-file", "ca.pem"][..],
            &["--alpn", "h2"],
            &["--server-name", "example.com"],
            &["--handshake-timeout", "5s"],
        ] {
            let e = flags(args)
                .err()
                .unwrap_or_else(|| panic!("{args:?} parsed"));
            assert!(e.to_string().contains("--tls"), "{args:?}: {e}");
        }
        let e = config(
            &["--tls", "--ca-file", "/nonexistent/ca.pem"],
            "localhost:443",
        )
        .unwrap_err();
        assert!(
            e.starts_with("invalid --ca-file: /nonexistent/ca.pem: "),
            "{e}"
        );
        let e = config(&["--tls", "--alpn", ""], "localhost:443").unwrap_err();
        assert!(e.starts_with("invalid --alpn '': the list is empty"), "{e}");
        let e = config(&["--tls", "--server-name", "not a name"], "localhost:443").unwrap_err();
        assert!(e.starts_with("invalid --server-name 'not a name': "), "{e}");
        let e = config(&["--tls", "--handshake-timeout", "0"], "localhost:443").unwrap_err();
        assert!(e.starts_with("invalid --handshake-timeout"), "{e}");
        // An address, or a list of them, has no name: --server-name gives one.
        for target in ["127.0.0.1:443", "[::1]:443,127.0.0.1:443"] {
            let e = config(&["--tls"], target).unwrap_err();
            assert!(
                e.contains("the target is an IP address") && e.contains("--server-name NAME"),
                "{target}: {e}"
            );
            assert!(
                config(&["--tls", "--server-name", "localhost"], target).is_ok(),
                "{target}"
            );
            // The address itself, for a certificate issued to it.
            assert!(
                config(&["--tls", "--server-name", "127.0.0.1"], target).is_ok(),
                "{target}"
            );
        }
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn offered(args: &[&str]) -> Result<Vec<String>, String> {
        let c = config(args, "localhost:443")?.unwrap();
        Ok(c.client_config()
            .alpn_protocols
            .iter()
            .map(|p| String::from_utf8(p.clone()).unwrap())
            .collect())
    }

    /// With QUIC in the race, QUIC attempts need an id of theirs (h3 by default) and, when
    /// TCP races too, TCP attempts need ids of theirs; without QUIC the list is as given.
    #[test]
    fn quic_alpn_defaults_and_combinations() {
        let (with_tcp, only) = (Some(QuicRace::WithTcp), Some(QuicRace::Only));
        assert_eq!(race_alpn(None, None, ""), Ok(None));
        assert_eq!(
            race_alpn(Some(ids(&["h3"])), None, "h3"),
            Ok(Some(ids(&["h3"])))
        );
        assert_eq!(
            race_alpn(None, with_tcp, ""),
            Ok(Some(ids(&["h3", "h2", "http/1.1"])))
        );
        assert_eq!(race_alpn(None, only, ""), Ok(Some(ids(&["h3"]))));
        // A TCP list gets h3 for QUIC; a list with a QUIC id is kept as it is.
        assert_eq!(
            race_alpn(Some(ids(&["h2"])), with_tcp, "h2"),
            Ok(Some(ids(&["h3", "h2"])))
        );
        assert_eq!(
            race_alpn(Some(ids(&["h2", "h3-29"])), with_tcp, "h2,h3-29"),
            Ok(Some(ids(&["h2", "h3-29"])))
        );
        assert_eq!(
            race_alpn(Some(ids(&["h3", "h2"])), only, "h3,h2"),
            Ok(Some(ids(&["h3", "h2"])))
        );
        // Nothing for TCP while TCP races; nothing for QUIC when QUIC races alone.
        let e = race_alpn(Some(ids(&["h3"])), with_tcp, "h3").unwrap_err().0;
        assert!(
            e.starts_with(
                "invalid --alpn 'h3' with --quic: it names no protocol that runs over TCP"
            ) && e.contains("--quic-only"),
            "{e}"
        );
        let e = race_alpn(Some(ids(&["h2"])), only, "h2").unwrap_err().0;
        assert!(
            e.starts_with(
                "invalid --alpn 'h2' with --quic-only: it names no protocol that runs over QUIC"
            ) && e.contains("RFC 9001 §8.1")
                && e.contains("add h3"),
            "{e}"
        );
    }

    /// --quic and --quic-only imply --tls, reach the configuration (its ALPN list) and the
    /// header, and let the other TLS flags be given without --tls.
    #[test]
    fn quic_flags_imply_tls() {
        let f = flags(&["--quic"]).unwrap();
        assert_eq!(f.quic_race(), Some(QuicRace::WithTcp));
        let f = flags(&["--quic-only", "--quic", "--tls"]).unwrap();
        assert_eq!(f.quic_race(), Some(QuicRace::Only));
        assert_eq!(flags(&["--tls"]).unwrap().quic_race(), None);
        assert_eq!(offered(&["--quic"]), Ok(ids(&["h3", "h2", "http/1.1"])));
        assert_eq!(offered(&["--quic-only"]), Ok(ids(&["h3"])));
        assert_eq!(
            offered(&["--quic", "--alpn", "http/1.1"]),
            Ok(ids(&["h3", "http/1.1"]))
        );
        assert_eq!(offered(&["--tls"]), Ok(ids(&[])));
        for flag in ["--quic", "--quic-only"] {
            for args in [
                &["--ca-file", "/nonexistent/ca.pem"][..],
                &["--server-name", "a b"],
                &["--handshake-timeout", "0"],
            ] {
                let mut all = vec![flag];
                all.extend_from_slice(args);
                let e = config(&all, "localhost:443").unwrap_err();
                assert!(
                    e.starts_with(&format!("invalid {}", args[0])),
                    "{all:?}: {e}"
                );
            }
            let e = config(&[flag], "127.0.0.1:443").unwrap_err();
            assert!(e.starts_with(&format!("{flag} needs a name")), "{e}");
        }
        let describe = |args: &[&str]| {
            let f = flags(args).unwrap();
            f.describe(
                &f.config(&parse_target("localhost:443").unwrap())
                    .unwrap()
                    .unwrap(),
            )
        };
        assert!(
            describe(&["--quic", "--alpn", "h2"])
                .contains("QUIC, and TCP then TLS, per address, the first handshake done wins (HEv3 §6.1, §6.2); server name: the host name, the Mozilla roots, ALPN h3 over QUIC, h2 over TCP\n"),
        );
        assert!(
            describe(&["--quic-only", "--server-name", "example.com"])
                .contains("QUIC only, the first QUIC handshake done wins (HEv3 §6.2); server name example.com, the Mozilla roots, ALPN h3 over QUIC\n"),
        );
        assert!(describe(&["--tls"]).ends_with("the Mozilla roots, no ALPN\n"));
        assert!(describe(&["--tls", "--alpn", "h2,http/1.1"]).ends_with("ALPN h2,http/1.1\n"));
    }
}

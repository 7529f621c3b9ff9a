//! The TLS flags of `eyeballs connect` (`--tls` and what goes with it) and the TLS
//! configuration they build, checked against the target before the race as the race will
//! check them.

use std::path::PathBuf;
use std::time::Duration;

use eyeballs::Target;
use eyeballs_tokio::tls::TlsConfig;
use eyeballs_tokio::tls::rustls::pki_types::ServerName;

use super::{UsageError, parse_duration};

/// The longest ALPN protocol id (RFC 7301 §3.1: "Empty strings MUST NOT be included and
/// byte strings MUST NOT be truncated", each id is prefixed by a one-byte length).
const MAX_ALPN_ID: usize = 255;

/// The flags of secure racing. Without `--tls` the race ends at the TCP handshake, and the
/// other flags are refused (by clap: they require `--tls`).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct TlsFlags {
    /// Secure racing: each attempt is TCP, then TLS, and the first attempt whose TLS
    /// handshake is done wins (HEv3 §6.1); a path where TCP connects and TLS never answers
    /// costs one Connection Attempt Delay. The certificate is checked against the Mozilla
    /// roots (or --ca-file) for the target's host name (or --server-name).
    #[arg(long, help_heading = "TLS")]
    pub tls: bool,
    /// Trust the CA certificates of this PEM file instead of the Mozilla roots.
    #[arg(long, value_name = "PEM", requires = "tls", help_heading = "TLS")]
    pub ca_file: Option<PathBuf>,
    /// The ALPN protocols to offer, most preferred first, separated by commas
    /// (h2,http/1.1); the one the server chose is shown with the connection.
    #[arg(long, value_name = "LIST", requires = "tls", help_heading = "TLS")]
    pub alpn: Option<String>,
    /// The name to authenticate (sent as SNI, checked against the certificate) instead of
    /// the target's host name. Needed when the target is an address; an IP address here
    /// checks a certificate issued to that address.
    #[arg(long, value_name = "NAME", requires = "tls", help_heading = "TLS")]
    pub server_name: Option<String>,
    /// How long a TLS handshake may take once TCP has connected (default 30s); after it the
    /// attempt fails and the next one starts.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_duration,
        requires = "tls",
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

impl TlsFlags {
    /// The TLS configuration these flags ask for (`None` without `--tls`), checked against
    /// `target` as the race will check it, so that a bad flag, an unreadable CA file or a
    /// target with no name to authenticate is reported before anything is sent.
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
        if !self.tls {
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
        if let Some(list) = &self.alpn {
            config = config.alpn(alpn_list(list)?);
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
            return Err(UsageError(if no_name {
                "--tls needs a name to authenticate (sent as SNI, checked against the \
                 certificate), and the target is an IP address: connect by name (HOST:PORT), \
                 or give the name the server's certificate has with --server-name NAME (or \
                 the address itself, for a certificate issued to it)"
                    .to_string()
            } else {
                format!("--tls: {why}")
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
}

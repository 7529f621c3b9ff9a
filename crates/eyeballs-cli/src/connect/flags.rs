//! The engine flags of `eyeballs connect` and the settings they build, checked before the
//! race as the race will check them.

use std::net::IpAddr;
use std::time::Duration;

use eyeballs::{ConfigError, Family, StartError, Target};
use eyeballs_driver::{Reason, Settings};

use super::UsageError;

/// An address family on the command line: `v4` or `v6` (also `ipv4`, `ipv6`, `4`, `6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FamilyArg {
    /// IPv4.
    #[value(alias = "ipv4", alias = "4")]
    V4,
    /// IPv6.
    #[value(alias = "ipv6", alias = "6")]
    V6,
}

impl From<FamilyArg> for Family {
    fn from(f: FamilyArg) -> Family {
        match f {
            FamilyArg::V4 => Family::V4,
            FamilyArg::V6 => Family::V6,
        }
    }
}

/// Parses a duration flag: `250ms`, `2s`, `1.5s`, `500us`, or a bare number of
/// milliseconds (`250`).
///
/// ```
/// use std::time::Duration;
/// use eyeballs_cli::connect::parse_duration;
///
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
/// assert_eq!(parse_duration("100"), Ok(Duration::from_millis(100)));
/// assert!(parse_duration("fast").unwrap_err().contains("250ms"));
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "'{s}' is not a duration: write milliseconds or seconds, e.g. 250ms, 2s, 1.5s \
             (a bare number is milliseconds)"
        )
    };
    let t = s.trim();
    let (number, unit_nanos) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e6)
    } else if let Some(n) = t.strip_suffix("us").or_else(|| t.strip_suffix("µs")) {
        (n, 1e3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1e9)
    } else {
        (t, 1e6)
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !value.is_finite() || value < 0.0 {
        return Err(bad());
    }
    let nanos = value * unit_nanos;
    if nanos > u64::MAX as f64 {
        return Err(format!("'{s}' is too long a duration"));
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// Every engine setting the command has a flag for. The flags parse into these fields;
/// [`EngineFlags::settings`] checks them together and builds the connector's settings.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct EngineFlags {
    /// Connection Attempt Delay: wait this long for an attempt before starting the next
    /// (RFC 8305 §5; default 250ms; allowed 10ms to 2s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Race")]
    pub delay: Option<Duration>,
    /// Resolution Delay: after an A answer, wait this long for AAAA (RFC 8305 §3; default
    /// 50ms; at most 2s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Race")]
    pub resolution_delay: Option<Duration>,
    /// The shortest delay derived from RTT history (RFC 8305 §5; default 100ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Race")]
    pub min_delay: Option<Duration>,
    /// The longest delay derived from RTT history (RFC 8305 §5; default 2s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Race")]
    pub max_delay: Option<Duration>,
    /// First Address Family Count: how many addresses of the preferred family go before the
    /// other family's first (RFC 8305 §4; default 1).
    #[arg(long, value_name = "N", help_heading = "Race")]
    pub family_count: Option<u8>,
    /// The preferred address family (default v6).
    #[arg(long, value_name = "v4|v6", help_heading = "Race")]
    pub prefer: Option<FamilyArg>,
    /// IPv4 only: no AAAA query, IPv6 addresses skipped.
    #[arg(
        short = '4',
        long = "ipv4",
        conflicts_with = "ipv6_only",
        help_heading = "Race"
    )]
    pub ipv4_only: bool,
    /// IPv6 only: no A query, IPv4 addresses skipped.
    #[arg(short = '6', long = "ipv6", help_heading = "Race")]
    pub ipv6_only: bool,
    /// Give up on the whole race after this long (default: no limit; each attempt then
    /// ends when the OS gives up on it).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Race")]
    pub timeout: Option<Duration>,
    /// Give up on a single attempt after this long (default: when the OS gives up).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Race")]
    pub attempt_timeout: Option<Duration>,
    /// At most this many attempts in flight at once (default: no cap).
    #[arg(long, value_name = "N", help_heading = "Race")]
    pub max_attempts: Option<u32>,
    /// Bind attempts of this address's family to it (once per family). With a local address
    /// for one family only, the other family is not used.
    #[arg(long = "local-addr", value_name = "IP", help_heading = "Race")]
    pub local_addr: Vec<IpAddr>,
    /// Connect only to globally reachable addresses: refuse loopback, private, link-local,
    /// unique-local, documentation and every other address the IANA special-purpose
    /// registries mark as not global (in every spelling: IPv4-mapped and NAT64 addresses are
    /// judged by the IPv4 address they carry). The guard for names from untrusted input.
    #[arg(long = "global-only", help_heading = "Race")]
    pub global_only: bool,
}

/// The flag a configuration field is set with.
fn flag_of(field: &str) -> &'static str {
    match field {
        "connection_attempt_delay" => "--delay",
        "min_connection_attempt_delay" => "--min-delay",
        "max_connection_attempt_delay" => "--max-delay",
        "resolution_delay" => "--resolution-delay",
        "attempt_timeout" => "--attempt-timeout",
        "total_timeout" => "--timeout",
        _ => "a flag",
    }
}

/// A configuration error in the words of the command line.
fn config_usage(e: &ConfigError) -> UsageError {
    let message = match e {
        ConfigError::DelayOutOfRange { field, .. } | ConfigError::ZeroTimeout { field } => {
            format!("invalid {}: {e}", flag_of(field))
        }
        ConfigError::MinAboveMax { .. } => format!("invalid --min-delay / --max-delay: {e}"),
        ConfigError::FamilyCountZero => format!("invalid --family-count: {e}"),
        ConfigError::ConcurrencyCapZero => format!("invalid --max-attempts: {e}"),
        _ => format!("invalid settings: {e}"),
    };
    UsageError(message)
}

impl EngineFlags {
    /// The connector settings these flags ask for, checked against `target` as the race
    /// will check them ([`eyeballs_driver::check_start`]), so that a bad flag or target is
    /// reported before anything is sent.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs_cli::connect::{EngineFlags, parse_target};
    ///
    /// let target = parse_target("127.0.0.1:80").unwrap();
    /// let flags = EngineFlags { delay: Some(Duration::from_millis(5)), ..EngineFlags::default() };
    /// let e = flags.settings(&target).unwrap_err();
    /// assert!(e.to_string().starts_with("invalid --delay: "));
    /// assert!(e.to_string().contains("RFC 8305 §5"));
    /// ```
    pub fn settings(&self, target: &Target) -> Result<Settings, UsageError> {
        let mut settings = Settings::default();
        let c = &mut settings.config;
        if let Some(d) = self.delay {
            c.connection_attempt_delay = d;
        }
        if let Some(d) = self.resolution_delay {
            c.resolution_delay = d;
        }
        if let Some(d) = self.min_delay {
            c.min_connection_attempt_delay = d;
        }
        if let Some(d) = self.max_delay {
            c.max_connection_attempt_delay = d;
        }
        if let Some(n) = self.family_count {
            c.first_address_family_count = n;
        }
        if let Some(f) = self.prefer {
            c.prefer_family = f.into();
        }
        c.connectivity.ipv6 = !self.ipv4_only;
        c.connectivity.ipv4 = !self.ipv6_only;
        c.total_timeout = self.timeout;
        c.attempt_timeout = self.attempt_timeout;
        c.max_concurrent_attempts = self.max_attempts;
        if self.global_only {
            c.destination_filter = Some(std::sync::Arc::new(eyeballs::GlobalOnly));
        }
        let mut seen: Option<IpAddr> = None;
        for ip in &self.local_addr {
            if let Some(other) = seen.filter(|o| o.is_ipv6() == ip.is_ipv6()) {
                return Err(UsageError(format!(
                    "--local-addr is given twice for {} ({other} and {ip}): give at most one \
                     address per family",
                    Family::of(ip)
                )));
            }
            seen = seen.or(Some(*ip));
            settings.set_local_address(*ip);
        }
        match eyeballs_driver::check_start(&settings, target) {
            Ok(()) => Ok(settings),
            Err(e) => Err(match e.reason() {
                Reason::Start(StartError::Config(c)) => config_usage(c),
                Reason::NoUsableFamily(_) => UsageError(format!(
                    "{} (drop -4/-6, or give --local-addr for the family you keep)",
                    e.reason()
                )),
                _ => UsageError(e.to_string()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::parse_target;

    /// The flags as clap parses them for the real command.
    fn flags(args: &[&str]) -> Result<EngineFlags, clap::Error> {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            engine: EngineFlags,
        }
        let mut all = vec!["eyeballs"];
        all.extend_from_slice(args);
        <Cli as clap::Parser>::try_parse_from(all).map(|c| c.engine)
    }

    fn v4() -> Target {
        parse_target("127.0.0.1:80").unwrap()
    }

    #[test]
    fn durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("250ms"), Ok(ms(250)));
        assert_eq!(parse_duration(" 2s "), Ok(ms(2000)));
        assert_eq!(parse_duration("0.5s"), Ok(ms(500)));
        assert_eq!(parse_duration("750us"), Ok(Duration::from_micros(750)));
        assert_eq!(parse_duration("12.5"), Ok(Duration::from_micros(12_500)));
        for bad in ["", "ms", "-5ms", "1e999s", "NaNms", "5 minutes", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_flag_reaches_the_settings() {
        let f = flags(&[
            "--delay",
            "150ms",
            "--resolution-delay",
            "20",
            "--min-delay",
            "50ms",
            "--max-delay",
            "1s",
            "--family-count",
            "2",
            "--prefer",
            "v4",
            "-6",
            "--timeout",
            "5s",
            "--attempt-timeout",
            "2s",
            "--max-attempts",
            "3",
            "--local-addr",
            "::1",
        ])
        .unwrap();
        let s = f.settings(&v4()).unwrap();
        let c = &s.config;
        assert_eq!(c.connection_attempt_delay, Duration::from_millis(150));
        assert_eq!(c.resolution_delay, Duration::from_millis(20));
        assert_eq!(c.min_connection_attempt_delay, Duration::from_millis(50));
        assert_eq!(c.max_connection_attempt_delay, Duration::from_secs(1));
        assert_eq!(c.first_address_family_count, 2);
        assert_eq!(c.prefer_family, Family::V4);
        assert!(c.connectivity.ipv6 && !c.connectivity.ipv4);
        assert_eq!(c.total_timeout, Some(Duration::from_secs(5)));
        assert_eq!(c.attempt_timeout, Some(Duration::from_secs(2)));
        assert_eq!(c.max_concurrent_attempts, Some(3));
        assert_eq!(s.socket.local_v6, Some("[::1]:0".parse().unwrap()));
        assert_eq!(s.socket.local_v4, None);
        // The defaults are the engine's.
        let d = EngineFlags::default().settings(&v4()).unwrap().config;
        let e = eyeballs::Config::default();
        assert_eq!(d.connection_attempt_delay, e.connection_attempt_delay);
        assert_eq!(d.connectivity, e.connectivity);
        assert_eq!(d.total_timeout, None);
    }

    #[test]
    fn bad_flags_name_the_flag_and_the_rule() {
        let err = |args: &[&str]| flags(args).unwrap().settings(&v4()).unwrap_err().0;
        let e = err(&["--delay", "5ms"]);
        assert!(e.starts_with("invalid --delay: "), "{e}");
        assert!(e.contains("10ms") && e.contains("RFC 8305 §5"), "{e}");
        assert!(err(&["--delay", "3s"]).contains("2s"));
        assert!(err(&["--resolution-delay", "3s"]).starts_with("invalid --resolution-delay"));
        assert!(err(&["--min-delay", "1s", "--max-delay", "500ms"]).contains("--min-delay"));
        assert!(err(&["--family-count", "0"]).starts_with("invalid --family-count"));
        assert!(err(&["--max-attempts", "0"]).starts_with("invalid --max-attempts"));
        assert!(err(&["--timeout", "0s"]).starts_with("invalid --timeout"));
        assert!(err(&["--attempt-timeout", "0"]).starts_with("invalid --attempt-timeout"));
        let e = err(&["--local-addr", "127.0.0.1", "--local-addr", "127.0.0.2"]);
        assert!(e.contains("127.0.0.1 and 127.0.0.2"), "{e}");
        let e = err(&["-4", "--local-addr", "::1"]);
        assert!(e.contains("IPv6") && e.contains("-4/-6"), "{e}");
        // Flag syntax is clap's to reject (exit code 2 there too).
        assert!(flags(&["--prefer", "v5"]).is_err());
        assert!(flags(&["-4", "-6"]).is_err());
        assert!(flags(&["--delay", "soon"]).is_err());
        assert!(flags(&["--local-addr", "localhost"]).is_err());
    }

    /// A target the engine refuses is refused before the race with the driver's own error,
    /// the one the race would return (the target written as the driver writes it).
    #[test]
    fn refused_targets_get_the_drivers_error() {
        for (target, shown) in [
            ("0.0.0.0:80", "0.0.0.0:80"),
            ("example.com:0", "example.com:0"),
            ("[::1]:80,0.0.0.0:80", "[::1]:80, 0.0.0.0:80"),
        ] {
            let t = parse_target(target).unwrap();
            let e = EngineFlags::default().settings(&t).unwrap_err().0;
            let driver = eyeballs_driver::check_start(&Settings::default(), &t).unwrap_err();
            assert_eq!(e, driver.to_string());
            assert!(
                e.starts_with(&format!("connecting to {shown} failed: ")),
                "{e}"
            );
        }
    }
}

//! The one error a failed race returns: every attempt with its `io::Error`, the endpoints
//! that were skipped and the DNS failures, with an `io::ErrorKind` that fits.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use eyeballs::{
    AttemptError, DnsError, DnsFailure, FailReason, Family, RaceResult, SkipReason, Skipped,
    StartError,
};

/// Why a race produced no connection: the driver's own reasons (the target, the local
/// addresses, its own I/O) or, for a race that ran, how the engine says it ended.
///
/// ```
/// use eyeballs::{FailReason, RaceResult};
/// use eyeballs_driver::Reason;
///
/// let failed = Reason::Race(RaceResult::Failed(FailReason::AllAttemptsFailed));
/// assert_eq!(failed.to_string(), "every connection attempt failed");
/// assert_eq!(Reason::Race(RaceResult::TimedOut).to_string(), "the total timeout passed");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The target could not be understood (`"example.com"` without a port, ...).
    InvalidTarget(String),
    /// The zone of an IPv6 address (`[fe80::1%eth9]:443`) names no network interface of
    /// this host.
    UnknownInterface(String),
    /// The engine refused to start: invalid configuration, host name or addresses.
    Start(StartError),
    /// Local addresses are configured for one family only, and the configured connectivity
    /// does not allow that family: no attempt could ever be made.
    NoUsableFamily(Family),
    /// The race ran and ended without a connection, as the engine's
    /// [`RaceResult`] says: failed ([`FailReason`]: no address could be attempted, every
    /// attempt failed, the HTTPS resolution failed in SVCB-reliant mode), the total timeout
    /// passed, or cancelled (also a race abandoned before it ended). Never
    /// `RaceResult::Connected`.
    Race(RaceResult),
    /// The connector's [deadline](crate::Settings::deadline) passed: before the race
    /// started (nothing was attempted), or while it ran (it came before the total
    /// timeout).
    DeadlinePassed,
    /// The driver's own I/O failed (creating its poll, its waker, ...), before or outside
    /// any attempt.
    Io {
        /// The error's kind.
        kind: io::ErrorKind,
        /// The error's text.
        message: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::InvalidTarget(why) => f.write_str(why),
            Reason::UnknownInterface(name) => write!(
                f,
                "no network interface is named '{name}' (the zone after % names the interface \
                 a link-local address is reached through: `ip link` lists them)"
            ),
            Reason::Start(e) => e.fmt(f),
            Reason::NoUsableFamily(only) => write!(
                f,
                "local addresses are configured for {only} only, and connectivity excludes {only}: \
                 nothing can be attempted"
            ),
            // The engine's words, where they say it to a person who asked for a connection.
            Reason::Race(RaceResult::Failed(FailReason::NoAddresses)) => {
                f.write_str("no address could be attempted")
            }
            Reason::Race(RaceResult::Failed(reason)) => reason.fmt(f),
            Reason::Race(RaceResult::TimedOut) => f.write_str("the total timeout passed"),
            Reason::DeadlinePassed => f.write_str("the deadline passed"),
            Reason::Race(RaceResult::Cancelled) => f.write_str("the race was cancelled"),
            Reason::Race(RaceResult::Connected(id)) => {
                write!(f, "{id} connected, but its connection was lost")
            }
            Reason::Io { message, .. } => write!(f, "the driver's own I/O failed: {message}"),
        }
    }
}

/// One attempt that did not connect: the engine's [`AttemptError`] (its id, address,
/// transport and failure, as [`Outcome::attempt_errors`](eyeballs::Outcome) lists it) with
/// the I/O error behind it ([`ConnectError::attempt_errors`]).
///
/// ```
/// use eyeballs_driver::{AttemptIoError, ConnectError};
///
/// fn refused(e: &ConnectError) -> Vec<std::net::SocketAddr> {
///     e.attempt_errors()
///         .iter()
///         .filter(|a: &&AttemptIoError| a.error.kind() == std::io::ErrorKind::ConnectionRefused)
///         .map(|a| a.attempt.addr)
///         .collect()
/// }
/// # let _ = refused;
/// ```
#[derive(Debug)]
pub struct AttemptIoError {
    /// The attempt, as the engine records it (`failure` is `TimedOut` for an attempt the
    /// engine gave up on, or that was still running when the race timed out).
    pub attempt: AttemptError,
    /// What went wrong: the OS's error, or a `TimedOut` error for an attempt the engine
    /// gave up on (or that was still running when the race timed out).
    pub error: io::Error,
}

struct Inner {
    target: String,
    reason: Reason,
    attempts: Vec<AttemptIoError>,
    skipped: Vec<Skipped>,
    dns: Vec<DnsFailure>,
    only_family: Option<Family>,
}

/// A race that produced no connection, with everything that went wrong.
///
/// Converts into an `io::Error` whose kind fits ([`ConnectError::kind`]); the one-liners
/// return that, and `io::Error::get_ref` / `into_inner` give this value back.
///
/// Its text is the whole story, once: what was connected to, why it failed, then every
/// attempt with its OS error, every endpoint skipped and every DNS failure
/// (`connecting to example.com:443 failed: every connection attempt failed:
/// [2001:db8::1]:443: Connection refused (os error 111); 192.0.2.1:443: ...`).
/// [`source`](StdError::source) is therefore `None`: in a chain of errors (hyper's
/// client error, tonic's transport error) no attempt's error is printed twice.
///
/// ```
/// use eyeballs_driver::{ConnectError, IntoTarget};
///
/// let e: ConnectError = "example.com".into_target().unwrap_err();
/// assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
/// let io: std::io::Error = e.into();
/// assert!(io.get_ref().unwrap().downcast_ref::<ConnectError>().is_some());
/// ```
pub struct ConnectError {
    inner: Box<Inner>,
}

impl ConnectError {
    pub(crate) fn new(target: String, reason: Reason) -> ConnectError {
        ConnectError {
            inner: Box::new(Inner {
                target,
                reason,
                attempts: Vec::new(),
                skipped: Vec::new(),
                dns: Vec::new(),
                only_family: None,
            }),
        }
    }

    /// An error for a target that cannot be understood: `input` as given, and why.
    pub fn invalid_target(input: &str, why: &str) -> ConnectError {
        ConnectError::new(input.to_string(), Reason::InvalidTarget(why.to_string()))
    }

    /// An error for the driver's own I/O (`e`), while connecting to `target`.
    pub fn io(target: &str, e: &io::Error) -> ConnectError {
        ConnectError::new(
            target.to_string(),
            Reason::Io {
                kind: e.kind(),
                message: e.to_string(),
            },
        )
    }

    pub(crate) fn no_usable_family(only: Family) -> ConnectError {
        ConnectError::new(String::new(), Reason::NoUsableFamily(only))
    }

    pub(crate) fn with_target(mut self, target: String) -> ConnectError {
        if self.inner.target.is_empty() {
            self.inner.target = target;
        }
        self
    }

    pub(crate) fn with_details(
        mut self,
        attempts: Vec<AttemptIoError>,
        skipped: Vec<Skipped>,
        dns: Vec<DnsFailure>,
        only_family: Option<Family>,
    ) -> ConnectError {
        self.inner.attempts = attempts;
        self.inner.skipped = skipped;
        self.inner.dns = dns;
        self.inner.only_family = only_family;
        self
    }

    /// What was being connected to.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// Why no connection was made.
    pub fn reason(&self) -> &Reason {
        &self.inner.reason
    }

    /// Every attempt that did not connect, in start order, with its error.
    pub fn attempt_errors(&self) -> &[AttemptIoError] {
        &self.inner.attempts
    }

    /// Every endpoint that was never attempted, and why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.inner.skipped
    }

    /// Every DNS query that produced no records.
    pub fn dns_errors(&self) -> &[DnsFailure] {
        &self.inner.dns
    }

    /// The `io::ErrorKind` this error converts to:
    ///
    /// - a bad target or configuration: `InvalidInput`;
    /// - nothing to attempt: `PermissionDenied` when every address was refused by the
    ///   destination filter
    ///   ([`Config::destination_filter`](eyeballs::Config::destination_filter)), otherwise
    ///   `NotFound` (DNS had no addresses or every address was skipped), or `TimedOut` when
    ///   a DNS query timed out;
    /// - attempts failed: their common kind when they agree (all refused:
    ///   `ConnectionRefused`), otherwise the first attempt's (the most preferred address);
    /// - the total timeout or the deadline: `TimedOut`; cancelled: `Interrupted`.
    pub fn kind(&self) -> io::ErrorKind {
        let inner = &self.inner;
        match &inner.reason {
            Reason::InvalidTarget(_)
            | Reason::UnknownInterface(_)
            | Reason::Start(_)
            | Reason::NoUsableFamily(_) => io::ErrorKind::InvalidInput,
            Reason::Race(RaceResult::Failed(
                FailReason::NoAddresses | FailReason::ServiceResolutionFailed,
            )) => {
                let filtered = |s: &Skipped| matches!(s.reason, SkipReason::Filtered(_));
                if !inner.skipped.is_empty() && inner.skipped.iter().all(filtered) {
                    io::ErrorKind::PermissionDenied
                } else if inner.dns.iter().any(|d| d.error == DnsError::Timeout)
                    && inner.skipped.is_empty()
                {
                    io::ErrorKind::TimedOut
                } else {
                    io::ErrorKind::NotFound
                }
            }
            Reason::Race(RaceResult::Failed(FailReason::AllAttemptsFailed)) => {
                let mut kinds = inner.attempts.iter().map(|a| a.error.kind());
                match kinds.next() {
                    Some(first) if kinds.all(|k| k == first) => first,
                    Some(_) => inner.attempts[0].error.kind(),
                    None => io::ErrorKind::NotFound,
                }
            }
            Reason::Race(RaceResult::TimedOut) | Reason::DeadlinePassed => io::ErrorKind::TimedOut,
            Reason::Race(RaceResult::Cancelled | RaceResult::Connected(_)) => {
                io::ErrorKind::Interrupted
            }
            Reason::Io { kind, .. } => *kind,
        }
    }
}

impl fmt::Display for ConnectError {
    /// `connecting to example.com:443 failed: every connection attempt failed:
    /// [2001:db8::1]:443: Connection refused (os error 111); 192.0.2.1:443: ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        if inner.target.is_empty() {
            write!(f, "connect failed: {}", inner.reason)?;
        } else {
            write!(f, "connecting to {} failed: {}", inner.target, inner.reason)?;
        }
        let mut sep = ": ";
        for a in &inner.attempts {
            write!(f, "{sep}{}: {}", a.attempt.addr, a.error)?;
            sep = "; ";
        }
        for s in &inner.skipped {
            write!(f, "{sep}{s}")?;
            sep = "; ";
        }
        for d in &inner.dns {
            write!(f, "{sep}{d}")?;
            sep = "; ";
        }
        if let (Some(only), false) = (inner.only_family, inner.skipped.is_empty()) {
            write!(
                f,
                " (local addresses are configured for {only} only, so {} destinations \
                 cannot be used; configure a local address for {} too)",
                only.other(),
                only.other()
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for ConnectError {
    /// The public parts, by the names of the methods that return them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectError")
            .field("target", &self.target())
            .field("reason", self.reason())
            .field("kind", &self.kind())
            .field("attempt_errors", &self.attempt_errors())
            .field("skipped", &self.skipped())
            .field("dns_errors", &self.dns_errors())
            .finish()
    }
}

impl StdError for ConnectError {
    /// `None`: the error's text already says everything (every attempt with its OS error,
    /// the endpoints skipped, the DNS failures), so that an error chain (hyper's, tonic's,
    /// `anyhow`'s `{:#}`) says each fact once. The details are typed in
    /// [`attempt_errors`](ConnectError::attempt_errors), [`skipped`](ConnectError::skipped),
    /// [`dns_errors`](ConnectError::dns_errors) and [`reason`](ConnectError::reason).
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        None
    }
}

impl From<ConnectError> for io::Error {
    fn from(e: ConnectError) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eyeballs::{AttemptFailure, AttemptId, Protocol};
    use std::net::SocketAddr;

    fn failed(kinds: &[io::ErrorKind]) -> ConnectError {
        let attempts = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| AttemptIoError {
                attempt: AttemptError {
                    id: AttemptId(i as u32),
                    addr: SocketAddr::from(([127, 0, 0, 1], 1000 + i as u16)),
                    protocol: Protocol::Tcp,
                    failure: AttemptFailure::Other,
                },
                error: io::Error::from(*k),
            })
            .collect();
        let all_failed = Reason::Race(RaceResult::Failed(FailReason::AllAttemptsFailed));
        ConnectError::new("example.com:443".into(), all_failed).with_details(
            attempts,
            Vec::new(),
            Vec::new(),
            None,
        )
    }

    #[test]
    fn kinds() {
        use io::ErrorKind as K;
        assert_eq!(
            failed(&[K::ConnectionRefused, K::ConnectionRefused]).kind(),
            K::ConnectionRefused
        );
        assert_eq!(
            failed(&[K::HostUnreachable, K::ConnectionRefused]).kind(),
            K::HostUnreachable
        );
        let timeout = ConnectError::new("x:1".into(), Reason::Race(RaceResult::TimedOut));
        assert_eq!(timeout.kind(), K::TimedOut);
        let no_addresses = Reason::Race(RaceResult::Failed(FailReason::NoAddresses));
        let none = ConnectError::new("x:1".into(), no_addresses).with_details(
            Vec::new(),
            Vec::new(),
            vec![DnsFailure {
                name: "x".into(),
                record: eyeballs::RecordType::A,
                error: DnsError::NxDomain,
            }],
            None,
        );
        assert_eq!(none.kind(), K::NotFound);
        assert_eq!(
            none.to_string(),
            "connecting to x:1 failed: no address could be attempted: A x: no such name (NXDOMAIN)"
        );
    }

    /// Every message of an error chain, outermost first.
    fn chain(e: &(dyn StdError + 'static)) -> Vec<String> {
        let mut messages = vec![e.to_string()];
        let mut next = e.source();
        while let Some(e) = next {
            messages.push(e.to_string());
            next = e.source();
        }
        messages
    }

    /// A client's error wrapping ours, as hyper-util's legacy client does.
    #[derive(Debug)]
    struct ClientError(io::Error);

    impl fmt::Display for ClientError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl StdError for ClientError {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_chain_says_each_fact_once() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused).to_string();
        let e = failed(&[io::ErrorKind::ConnectionRefused, io::ErrorKind::TimedOut]);
        let messages = chain(&ClientError(e.into()));
        assert_eq!(messages.len(), 2, "{messages:#?}");
        let all = messages.join("\n");
        for fact in [
            refused.as_str(),
            "127.0.0.1:1000",
            "127.0.0.1:1001",
            "example.com:443",
        ] {
            assert_eq!(all.matches(fact).count(), 1, "{fact:?} in {messages:#?}");
        }
        for (i, a) in messages.iter().enumerate() {
            for b in &messages[i + 1..] {
                assert!(
                    !a.contains(b.as_str()) && !b.contains(a.as_str()),
                    "{messages:#?}"
                );
            }
        }
        let start = Reason::Start(StartError::PortZero);
        let e = ConnectError::new("x:0".into(), start);
        assert_eq!(
            chain(&e).len(),
            1,
            "the engine's refusal is in the text already"
        );
    }

    #[test]
    fn debug_names_public_things_only() {
        let e = failed(&[io::ErrorKind::ConnectionRefused]);
        let debug = format!("{e:?}");
        assert!(debug.starts_with("ConnectError { target: \"example.com:443\", reason: Race(Failed(AllAttemptsFailed)), kind: ConnectionRefused, attempt_errors: [AttemptIoError {"), "{debug}");
        assert!(
            !debug.contains("Inner") && !debug.contains("only_family"),
            "{debug}"
        );
    }

    #[test]
    fn display_lists_every_attempt() {
        let e = failed(&[io::ErrorKind::ConnectionRefused, io::ErrorKind::TimedOut]);
        let text = e.to_string();
        assert!(
            text.starts_with("connecting to example.com:443 failed: every connection attempt failed: 127.0.0.1:1000: "),
            "{text}"
        );
        assert!(text.contains("; 127.0.0.1:1001: "), "{text}");
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused);
    }
}

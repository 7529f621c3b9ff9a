//! An attempt in flight, as the driver polls it: one handshake (TCP), or a transport
//! handshake and then a secure one (TLS over TCP; HEv3 §6.1), each step reported.
//!
//! The driver asks its [`Network`](crate::Network) for a [`BoxAttempt`]
//! ([`Network::attempt`](crate::Network::attempt)) and polls it with
//! [`AttemptFuture::poll_step`]:
//!
//! - [`AttemptStep::TransportConnected`] once, when the transport handshake is done and a
//!   secure one goes on: the driver gives the session
//!   [`handle_progress`](crate::Session::handle_progress) (the report's `transport` event;
//!   the engine extends the Next Connection Attempt Timer), and polls on;
//! - [`AttemptStep::Done`] once, last: the connection ready for the application (it wins),
//!   or the error (it failed). A failure after `TransportConnected` is a failure of the
//!   secure handshake: [`secure`] wraps it in a [`HandshakeError`], which the engine counts
//!   as [`AttemptFailure::Handshake`](eyeballs::AttemptFailure::Handshake).
//!
//! Dropping the attempt closes whatever it holds (the socket, the TLS state).
//!
//! ## The seam for other secure transports
//!
//! Nothing here is TLS-specific. An attempt that is not TCP at all (QUIC: one handshake that
//! is transport and secure at once) is any [`AttemptFuture`]: a network returns it from
//! [`Network::attempt`](crate::Network::attempt) for the attempts whose
//! [`protocol`](eyeballs::Attempt::protocol) it handles, reports
//! [`TransportConnected`](AttemptStep::TransportConnected) when it knows the path works (or
//! never), and ends with [`Done`](AttemptStep::Done); [`single`] makes one from a future,
//! and a handshake failure is a [`HandshakeError`] (`HandshakeError::new("QUIC", e)`), so
//! that the race report and the aggregate error say it failed in the handshake.
//!
//! ```
//! use std::io;
//! use eyeballs_driver::attempt::{self, AttemptStep, BoxAttempt};
//!
//! // TCP connected, then a "TLS" handshake that fails.
//! let mut tcp_then_tls: BoxAttempt<String> = attempt::secure(
//!     "TLS",
//!     Box::pin(async { Ok::<_, io::Error>(7u8) }),
//!     |_tcp| Box::pin(async { Err(io::Error::new(io::ErrorKind::InvalidData, "bad certificate")) }),
//! );
//! let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! assert!(matches!(tcp_then_tls.as_mut().poll_step(&mut cx), std::task::Poll::Ready(AttemptStep::TransportConnected)));
//! let std::task::Poll::Ready(AttemptStep::Done(Err(e))) = tcp_then_tls.as_mut().poll_step(&mut cx) else { panic!() };
//! assert_eq!(e.to_string(), "TLS handshake failed: bad certificate");
//! assert_eq!(e.kind(), io::ErrorKind::InvalidData);
//! assert!(attempt::HandshakeError::of(&e).is_some());
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::BoxFuture;

/// What an attempt in flight has to say ([`AttemptFuture::poll_step`]).
#[derive(Debug)]
pub enum AttemptStep<S> {
    /// Its transport handshake is done (TCP connected) and a secure handshake goes on. At
    /// most once, before [`Done`](AttemptStep::Done).
    TransportConnected,
    /// Its result, last: the connection ready for the application, or why it failed.
    Done(io::Result<S>),
}

/// An attempt in flight: polled until it is [`Done`](AttemptStep::Done) (then never
/// again), telling on the way when its transport handshake is done. Every
/// `Future<Output = io::Result<S>>` is one (with no transport step: [`single`]).
pub trait AttemptFuture<S>: Send {
    /// Advances the attempt: `Ready` with the next step, or `Pending` (the waker is woken
    /// when there is more to say).
    fn poll_step(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AttemptStep<S>>;
}

impl<S, F> AttemptFuture<S> for F
where
    F: Future<Output = io::Result<S>> + Send,
{
    fn poll_step(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AttemptStep<S>> {
        self.poll(cx).map(AttemptStep::Done)
    }
}

/// A boxed attempt in flight: what [`Network::attempt`](crate::Network::attempt) returns.
pub type BoxAttempt<S> = Pin<Box<dyn AttemptFuture<S> + 'static>>;

/// An attempt with one handshake: `connect`'s result is the attempt's (a plain TCP attempt;
/// a QUIC one that reports no transport step).
///
/// ```
/// use eyeballs_driver::attempt::{self, AttemptStep};
///
/// let mut a = attempt::single(Box::pin(async { Ok::<_, std::io::Error>("connected") }));
/// let step = a.as_mut().poll_step(&mut std::task::Context::from_waker(std::task::Waker::noop()));
/// assert!(matches!(step, std::task::Poll::Ready(AttemptStep::Done(Ok("connected")))));
/// ```
pub fn single<S: 'static>(connect: BoxFuture<io::Result<S>>) -> BoxAttempt<S> {
    Box::pin(connect)
}

/// An attempt in two handshakes: `transport` (TCP), then `handshake` on what it connected
/// (TLS), named `layer` (`"TLS"`) in its errors. It reports
/// [`TransportConnected`](AttemptStep::TransportConnected) when `transport` is done; a
/// failure of `handshake` becomes a [`HandshakeError`] (unless it is one already), so
/// that it counts as a handshake failure. A failure of `transport` is returned as it is.
///
/// See the [module](self) for an example.
pub fn secure<T, S, H>(
    layer: &'static str,
    transport: BoxFuture<io::Result<T>>,
    handshake: H,
) -> BoxAttempt<S>
where
    T: Send + 'static,
    S: 'static,
    H: FnOnce(T) -> BoxFuture<io::Result<S>> + Send + 'static,
{
    Box::pin(Secure::Transport {
        layer,
        transport,
        handshake: Some(handshake),
    })
}

/// [`secure`]'s attempt: the transport handshake, then the secure one.
enum Secure<T, S, H> {
    Transport {
        layer: &'static str,
        transport: BoxFuture<io::Result<T>>,
        handshake: Option<H>,
    },
    Handshake {
        layer: &'static str,
        handshake: BoxFuture<io::Result<S>>,
    },
    Done,
}

impl<T, S, H> AttemptFuture<S> for Secure<T, S, H>
where
    T: Send + 'static,
    H: FnOnce(T) -> BoxFuture<io::Result<S>> + Send + 'static,
{
    fn poll_step(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AttemptStep<S>> {
        // Every future it holds is boxed: nothing is pinned in place (`Unpin` below).
        let this = Pin::into_inner(self);
        match this {
            Secure::Transport {
                layer,
                transport,
                handshake,
            } => {
                let layer = *layer;
                let connected = match transport.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => {
                        *this = Secure::Done;
                        return Poll::Ready(AttemptStep::Done(Err(e)));
                    }
                    Poll::Ready(Ok(connected)) => connected,
                };
                let Some(start) = handshake.take() else {
                    *this = Secure::Done;
                    return Poll::Ready(AttemptStep::Done(Err(io::Error::other(
                        "the secure handshake was started twice",
                    ))));
                };
                *this = Secure::Handshake {
                    layer,
                    handshake: start(connected),
                };
                Poll::Ready(AttemptStep::TransportConnected)
            }
            Secure::Handshake { layer, handshake } => {
                let layer = *layer;
                let result = match handshake.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(result) => result,
                };
                *this = Secure::Done;
                Poll::Ready(AttemptStep::Done(
                    result.map_err(|e| HandshakeError::wrap(layer, e)),
                ))
            }
            Secure::Done => Poll::Pending,
        }
    }
}

// `Secure` holds only boxed futures and plain data.
impl<T, S, H> Unpin for Secure<T, S, H> {}

/// An attempt whose transport connected and whose secure handshake (TLS, QUIC's) then
/// failed: a TLS alert, a certificate rejected, the peer closing or resetting the
/// connection mid-handshake, a handshake timeout. Carried inside the attempt's
/// `io::Error` (whose kind is the cause's); the engine counts the attempt as
/// [`AttemptFailure::Handshake`](eyeballs::AttemptFailure::Handshake), and the race's
/// report and error show its text: `TLS handshake failed: invalid peer certificate:
/// UnknownIssuer`.
///
/// Its text includes the cause's, so [`source`](StdError::source) is `None` (an error
/// chain says each fact once); [`cause`](HandshakeError::cause) gives the cause itself
/// (for TLS, an `io::Error` whose inner error is the `rustls::Error`).
///
/// ```
/// use std::io;
/// use eyeballs_driver::attempt::HandshakeError;
///
/// let e: io::Error = HandshakeError::new("TLS", io::Error::from(io::ErrorKind::UnexpectedEof)).into();
/// assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
/// let h = HandshakeError::of(&e).unwrap();
/// assert_eq!(h.layer(), "TLS");
/// assert_eq!(e.to_string(), format!("TLS handshake failed: {}", h.cause()));
/// assert!(HandshakeError::of(&io::Error::from(io::ErrorKind::ConnectionRefused)).is_none());
/// ```
#[derive(Debug)]
pub struct HandshakeError {
    layer: &'static str,
    cause: io::Error,
}

impl HandshakeError {
    /// The secure handshake of `layer` (`"TLS"`, `"QUIC"`) failed with `cause`.
    pub fn new(layer: &'static str, cause: io::Error) -> HandshakeError {
        HandshakeError { layer, cause }
    }

    /// `cause` as an `io::Error` carrying a [`HandshakeError`] (of its kind), unless it
    /// carries one already.
    pub fn wrap(layer: &'static str, cause: io::Error) -> io::Error {
        if HandshakeError::of(&cause).is_some() {
            return cause;
        }
        HandshakeError::new(layer, cause).into()
    }

    /// The handshake failure `error` carries, if it is one.
    pub fn of(error: &io::Error) -> Option<&HandshakeError> {
        error.get_ref()?.downcast_ref::<HandshakeError>()
    }

    /// Which handshake failed: `"TLS"`, `"QUIC"`.
    pub fn layer(&self) -> &'static str {
        self.layer
    }

    /// Why.
    pub fn cause(&self) -> &io::Error {
        &self.cause
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} handshake failed: {}", self.layer, self.cause)
    }
}

impl StdError for HandshakeError {
    /// `None`: the text includes the cause's ([`cause`](HandshakeError::cause) gives it).
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        None
    }
}

impl From<HandshakeError> for io::Error {
    fn from(e: HandshakeError) -> io::Error {
        io::Error::new(e.cause.kind(), e)
    }
}

/// `attempt` with its connection turned into another type by `f` (when it is done): to
/// put the attempts of two networks into one type (a TLS stream and a QUIC connection into
/// one enum), steps unchanged.
///
/// ```
/// use eyeballs_driver::attempt::{self, AttemptStep};
///
/// let mut a = attempt::map(attempt::single(Box::pin(async { Ok::<_, std::io::Error>(20u8) })), u32::from);
/// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// assert!(matches!(a.as_mut().poll_step(&mut cx), std::task::Poll::Ready(AttemptStep::Done(Ok(20u32)))));
/// ```
pub fn map<S, T, F>(attempt: BoxAttempt<S>, f: F) -> BoxAttempt<T>
where
    S: 'static,
    T: 'static,
    F: FnOnce(S) -> T + Send + 'static,
{
    Box::pin(Map {
        attempt,
        f: Some(f),
    })
}

/// [`map`]'s attempt.
struct Map<S, F> {
    attempt: BoxAttempt<S>,
    f: Option<F>,
}

// `Map` holds a boxed attempt and a function it never pins.
impl<S, F> Unpin for Map<S, F> {}

impl<S, T, F> AttemptFuture<T> for Map<S, F>
where
    F: FnOnce(S) -> T + Send,
{
    fn poll_step(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AttemptStep<T>> {
        match self.attempt.as_mut().poll_step(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(AttemptStep::TransportConnected) => {
                Poll::Ready(AttemptStep::TransportConnected)
            }
            Poll::Ready(AttemptStep::Done(result)) => match self.f.take() {
                Some(f) => Poll::Ready(AttemptStep::Done(result.map(f))),
                // Polled again after it was done.
                None => Poll::Pending,
            },
        }
    }
}

/// The attempt's result without its steps: what [`Network::connect`](crate::Network::connect)
/// of a network whose [`attempt`](crate::Network::attempt) reports them returns.
///
/// ```
/// use eyeballs_driver::attempt;
///
/// let a = attempt::secure("TLS", Box::pin(async { Ok::<_, std::io::Error>(1) }), |n| Box::pin(async move { Ok(n + 1) }));
/// let mut f = attempt::finish(a);
/// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// let std::task::Poll::Ready(result) = f.as_mut().poll(&mut cx) else { panic!() };
/// assert_eq!(result.unwrap(), 2);
/// ```
pub fn finish<S: Send + 'static>(mut attempt: BoxAttempt<S>) -> BoxFuture<io::Result<S>> {
    Box::pin(std::future::poll_fn(move |cx| {
        loop {
            match attempt.as_mut().poll_step(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(AttemptStep::TransportConnected) => continue,
                Poll::Ready(AttemptStep::Done(result)) => return Poll::Ready(result),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn step<S>(a: &mut BoxAttempt<S>) -> Poll<AttemptStep<S>> {
        let waker = Waker::noop();
        a.as_mut().poll_step(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_transport_failure_is_returned_as_it_is() {
        let mut a: BoxAttempt<()> = secure(
            "TLS",
            Box::pin(async { Err::<u8, _>(io::Error::from(io::ErrorKind::ConnectionRefused)) }),
            |_| Box::pin(async { Ok(()) }),
        );
        let Poll::Ready(AttemptStep::Done(Err(e))) = step(&mut a) else {
            panic!()
        };
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert!(HandshakeError::of(&e).is_none());
        assert!(step(&mut a).is_pending(), "done: nothing more to say");
    }

    #[test]
    fn success_reports_the_transport_then_the_connection() {
        let mut a = secure("TLS", Box::pin(async { Ok::<_, io::Error>(20u8) }), |n| {
            Box::pin(async move { Ok(u32::from(n) + 1) })
        });
        assert!(matches!(
            step(&mut a),
            Poll::Ready(AttemptStep::TransportConnected)
        ));
        assert!(matches!(
            step(&mut a),
            Poll::Ready(AttemptStep::Done(Ok(21)))
        ));
    }

    #[test]
    fn a_pending_handshake_stays_pending_after_the_transport_step() {
        let mut a: BoxAttempt<()> =
            secure("TLS", Box::pin(async { Ok::<_, io::Error>(()) }), |_| {
                Box::pin(std::future::pending())
            });
        assert!(matches!(
            step(&mut a),
            Poll::Ready(AttemptStep::TransportConnected)
        ));
        assert!(step(&mut a).is_pending());
    }

    #[test]
    fn a_handshake_error_is_wrapped_once() {
        let inner: io::Error = HandshakeError::new("QUIC", io::ErrorKind::TimedOut.into()).into();
        let again = HandshakeError::wrap("TLS", inner);
        let h = HandshakeError::of(&again).unwrap();
        assert_eq!(h.layer(), "QUIC");
        assert_eq!(again.kind(), io::ErrorKind::TimedOut);
        assert!(StdError::source(h).is_none());
    }
}

//! A history that follows the machine's network: at the start of a race, at most once per
//! interval, it asks which network the machine is on ([`network::current`], or the user's
//! detection) and re-keys itself with [`SharedHistory::set_network`] when that changed.
//!
//! Between checks a race start costs one atomic load and a comparison. A check runs in the
//! race start that finds it due (reading `/proc/net` takes tens of microseconds); races
//! starting while another one checks do not wait for it, and use the network as it was.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant as StdInstant};

use eyeballs::Instant;
use eyeballs::history::NetworkId;

use super::SharedHistory;
use crate::{clock, network};

/// How a handle follows the network; shared by the handle's clones.
pub(super) struct Follow {
    /// When the next check is due, in engine nanoseconds; `u64::MAX` when not following.
    due: AtomicU64,
    state: Mutex<Option<State>>,
}

type Detect = Arc<dyn Fn() -> io::Result<NetworkId> + Send + Sync>;

struct State {
    every: Duration,
    keep_others: bool,
    detect: Detect,
    /// The network the latest check that worked saw.
    seen: Option<NetworkId>,
    /// The latest check's error (`None` when it worked).
    error: Option<(io::ErrorKind, String)>,
}

impl Follow {
    /// Not following.
    pub(super) fn new() -> Follow {
        Follow {
            due: AtomicU64::new(u64::MAX),
            state: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<State>> {
        // A detection that panicked leaves the state as it was before the call.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SharedHistory {
    /// Follows the machine's network: at the start of a race, at most once every
    /// `check_every`, asks [`network::current`] which network the machine is on, and when
    /// that changed, moves the history to it with
    /// [`set_network(id, keep_others)`](SharedHistory::set_network). So a history learned
    /// where IPv6 was broken is not applied on the next network, and (with `keep_others`)
    /// applies again on returning. Apple's Network.framework keeps its per-network history
    /// this way.
    ///
    /// Checks once now and moves the history at once; gives what it saw. When detection
    /// fails the history keeps its network, the error is returned (later:
    /// [`last_network_error`](SharedHistory::last_network_error), and a `tracing` warning
    /// with the `tracing` feature), and the next race start after `check_every` tries again:
    /// detection never fails or delays a connect. On systems where the network is not
    /// detected ([`network::DETECTS`] is false) it is always
    /// [`network::UNDETECTED`], so the history never moves; bring your own detection with
    /// [`follow_network_with`](SharedHistory::follow_network_with).
    ///
    /// `keep_others`: keep the other networks' entries for when the machine comes back
    /// (HEv3 §5.3 allows it for networks that can be re-identified; see
    /// [`network`] for how well they are and when two networks look alike), or drop them at
    /// every change (HEv3 §5.3's default: "SHOULD be flushed whenever a device changes the
    /// PvD"; a short disconnection then flushes too).
    ///
    /// Every clone of this handle follows (made before or after); a
    /// [`with_network`](SharedHistory::with_network) handle does not, and a network set
    /// with `set_network` lasts until the detected network changes. Calling it again
    /// replaces the settings.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eyeballs_driver::{Settings, SharedHistory, network};
    ///
    /// let history = SharedHistory::default();
    /// let here = history.follow_network(Duration::from_secs(5), true)?;
    /// assert_eq!(history.network(), here);
    /// assert_eq!(here, network::current()?);
    /// // Every connector given a clone races on the network the machine is on.
    /// let settings = Settings { history: Some(history.clone()), ..Settings::default() };
    /// # let _ = settings;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn follow_network(
        &self,
        check_every: Duration,
        keep_others: bool,
    ) -> io::Result<NetworkId> {
        self.follow_network_with(check_every, keep_others, network::current)
    }

    /// [`follow_network`](SharedHistory::follow_network) with your own detection: where
    /// the network is not detected (not Linux), or to identify networks some other way (a
    /// Wi-Fi network's name, a provisioning domain). `detect` runs in the race start that
    /// finds a check due; it must be quick and must not block.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use eyeballs_driver::{NetworkId, SharedHistory};
    ///
    /// let wifi = Arc::new(AtomicU64::new(1)); // set by the platform's network callbacks
    /// let seen = wifi.clone();
    /// let history = SharedHistory::default();
    /// history.follow_network_with(Duration::from_secs(1), true, move || {
    ///     Ok(NetworkId(seen.load(Ordering::Relaxed)))
    /// })?;
    /// assert_eq!(history.network(), NetworkId(1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn follow_network_with<F>(
        &self,
        check_every: Duration,
        keep_others: bool,
        detect: F,
    ) -> io::Result<NetworkId>
    where
        F: Fn() -> io::Result<NetworkId> + Send + Sync + 'static,
    {
        let mut state = self.follow.lock();
        *state = Some(State {
            every: check_every,
            keep_others,
            detect: Arc::new(detect),
            seen: None,
            error: None,
        });
        self.check(&mut state, clock::to_engine(StdInstant::now()))
    }

    /// Why the latest check of the network failed, while the history follows the network
    /// ([`follow_network`](SharedHistory::follow_network)) and that check failed; `None`
    /// otherwise. The history stays on its network meanwhile.
    ///
    /// ```
    /// use std::io;
    /// use std::time::Duration;
    /// use eyeballs_driver::SharedHistory;
    ///
    /// let history = SharedHistory::default();
    /// assert!(history.last_network_error().is_none());
    /// let unreadable = || Err(io::Error::new(io::ErrorKind::PermissionDenied, "/proc/net/route"));
    /// assert!(history.follow_network_with(Duration::from_secs(5), true, unreadable).is_err());
    /// assert_eq!(history.last_network_error().unwrap().kind(), io::ErrorKind::PermissionDenied);
    /// ```
    pub fn last_network_error(&self) -> Option<io::Error> {
        let state = self.follow.lock();
        let (kind, message) = state.as_ref()?.error.as_ref()?;
        Some(io::Error::new(*kind, message.clone()))
    }

    /// At a race's start (`now`): checks the network when a check is due. Never waits for
    /// another race's check.
    pub(super) fn follow_check(&self, now: Instant) {
        let not_due = |follow: &Follow| now.as_nanos() < follow.due.load(Ordering::Acquire);
        if not_due(&self.follow) {
            return;
        }
        let mut state = match self.follow.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        // Another race may have checked between the load and the lock.
        if not_due(&self.follow) {
            return;
        }
        // Its error is kept for `last_network_error`.
        let _ = self.check(&mut state, now);
    }

    /// Asks which network the machine is on, moves the history there if that changed, and
    /// sets when the next check is due.
    fn check(&self, state: &mut Option<State>, now: Instant) -> io::Result<NetworkId> {
        let Some(s) = state.as_mut() else {
            return Ok(self.network());
        };
        let every = u64::try_from(s.every.as_nanos()).unwrap_or(u64::MAX);
        self.follow
            .due
            .store(now.as_nanos().saturating_add(every), Ordering::Release);
        match (s.detect)() {
            Ok(id) => {
                s.error = None;
                if s.seen != Some(id) {
                    s.seen = Some(id);
                    if id != self.network() {
                        #[cfg(feature = "tracing")]
                        tracing::debug!(target: "eyeballs", from = self.network().0, to = id.0, "the network changed: the connection history follows it");
                        self.set_network(id, s.keep_others);
                    }
                }
                Ok(id)
            }
            Err(e) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(target: "eyeballs", error = %e, network = self.network().0, "cannot tell which network this is: the connection history stays on its network");
                s.error = Some((e.kind(), e.to_string()));
                Err(e)
            }
        }
    }
}

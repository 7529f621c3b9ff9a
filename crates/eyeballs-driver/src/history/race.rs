//! What races read and feed: the snapshot a race starts with, combined with the user's
//! provider, and the ticket it learns with when it ends.

use std::net::IpAddr;
use std::sync::Arc;

use eyeballs::history::{HistorySnapshot, NetworkId};
use eyeballs::{Instant, PathInfo, PathInfoProvider, Race};

use super::SharedHistory;

/// What a race needs to feed its result back: where it ran, and whether its history was
/// flushed meanwhile.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    network: NetworkId,
    flushes: u64,
}

/// The history's view of one race, combined with the user's provider.
struct WithHistory {
    user: Option<Arc<dyn PathInfoProvider>>,
    snapshot: HistorySnapshot,
}

impl PathInfoProvider for WithHistory {
    fn path_info(&self, destination: IpAddr) -> PathInfo {
        let learned = self.snapshot.get(destination);
        match &self.user {
            None => learned,
            Some(user) => {
                let given = user.path_info(destination);
                PathInfo {
                    rtt: given.rtt.or(learned.rtt),
                    used_before: given.used_before || learned.used_before,
                    broken: given.broken || learned.broken,
                    ..given
                }
            }
        }
    }
}

impl SharedHistory {
    /// Starts a race at `now`: the provider for its `Config::path_info` (`user`'s combined
    /// with the history's snapshot of the current network, checked first when the history
    /// follows the machine's network and a check is due; `user` unchanged when the history
    /// knows nothing there), and the ticket to learn with.
    pub(crate) fn begin(
        &self,
        now: Instant,
        user: Option<Arc<dyn PathInfoProvider>>,
    ) -> (Option<Arc<dyn PathInfoProvider>>, Ticket) {
        self.follow_check(now);
        let mut store = self.lock();
        store.latest = store.latest.max(now);
        let network = self.network();
        let snapshot = store.history.snapshot(network, now);
        let ticket = Ticket {
            network,
            flushes: store.flushes,
        };
        drop(store);
        if snapshot == HistorySnapshot::default() {
            return (user, ticket);
        }
        let provider: Arc<dyn PathInfoProvider> = Arc::new(WithHistory { user, snapshot });
        (Some(provider), ticket)
    }

    /// Learns from a race that ended (or is abandoned) at `last`, unless its history was
    /// flushed since it started.
    pub(crate) fn learn(&self, ticket: Ticket, race: &Race, last: Instant) {
        let mut store = self.lock();
        store.latest = store.latest.max(last);
        if store.flushes == ticket.flushes {
            store.history.learn(ticket.network, race);
        }
    }
}

//! The attempts a race has started, in start order, and which of them are in flight.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::action::{
    Actions, Attempt, AttemptError, AttemptId, AttemptRecord, AttemptState, CancelReason, Pending,
};
use crate::addr::Protocol;
use crate::count_u32;
use crate::error::InputError;
use crate::small::{Filler, SmallVec};
use crate::time::Instant;

impl Filler for AttemptRecord {
    const FILLER: AttemptRecord = AttemptRecord {
        id: AttemptId(0),
        addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
        protocol: Protocol::Tcp,
        started: Instant::ZERO,
        timeout_at: None,
        state: AttemptState::InFlight,
    };
}

/// The ALPN ids and ECH configuration an attempt carries ([`Attempt::alpn`],
/// [`Attempt::ech`]): both `None` but for a service endpoint (HEv3 §6.2).
pub(crate) type Params = (Option<Arc<[String]>>, Option<Arc<[u8]>>);

/// The ALPN ids and ECH configuration of an attempt to a service endpoint (HEv3 §6.2), kept
/// for its [`Action::Attempt`](crate::Action::Attempt).
#[derive(Clone, Debug)]
struct ServiceParams {
    index: u32,
    alpn: Option<Arc<[String]>>,
    ech: Option<Arc<[u8]>>,
}

/// Every attempt started (index = attempt id), with two caches of where the attempts in
/// flight are. Only [`start`](Attempts::start) and [`end`](Attempts::end) change an
/// attempt's state, and they keep the caches.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attempts {
    /// Inline for the first two: a two-address race allocates nothing here.
    list: SmallVec<AttemptRecord, 2>,
    /// The service parameters of the attempts that have some, in start order (made for the
    /// first: none without HTTPS records).
    #[allow(
        clippy::box_collection,
        reason = "8 bytes in every race rather than an empty Vec's 24: most have none"
    )]
    params: Option<Box<Vec<ServiceParams>>>,
    /// Cache: how many attempts of `list` are in flight.
    in_flight: u32,
    /// Cache: the first attempt in start order that is in flight (`list.len()` when none is).
    /// Attempt timeouts are the start plus one fixed duration, so its timeout is the earliest.
    first_in_flight: u32,
}

impl Attempts {
    /// Every attempt started so far, in start order.
    pub(crate) fn as_slice(&self) -> &[AttemptRecord] {
        self.list.as_slice()
    }

    /// How many are in flight.
    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// Whether attempt `index` is the most recently started one.
    pub(crate) fn is_latest(&self, index: usize) -> bool {
        index + 1 == self.list.len()
    }

    /// The first attempt in flight (the one whose timeout is the earliest), and its index.
    pub(crate) fn first_in_flight(&self) -> Option<(usize, &AttemptRecord)> {
        let first = self.first_in_flight as usize;
        self.list
            .get(first)
            .filter(|a| a.state == AttemptState::InFlight)
            .map(|a| (first, a))
    }

    /// The attempts in flight, in start order (so in timeout order).
    pub(crate) fn iter_in_flight(&self) -> impl Iterator<Item = &AttemptRecord> {
        self.list
            .iter()
            .skip(self.first_in_flight as usize)
            .filter(|a| a.state == AttemptState::InFlight)
    }

    /// The index of attempt `id`, if it is in flight; otherwise why an input about it is
    /// refused.
    pub(crate) fn index_in_flight(&self, id: AttemptId) -> Result<usize, InputError> {
        let index = id.0 as usize;
        let record = self.list.get(index).ok_or(InputError::UnknownAttempt(id))?;
        match record.state {
            AttemptState::InFlight => Ok(index),
            state => Err(InputError::AttemptAlreadyEnded { id, state }),
        }
    }

    /// A new attempt, in flight from `now`, with the service parameters `alpn` and `ech`
    /// for its action: its id.
    pub(crate) fn start(
        &mut self,
        addr: SocketAddr,
        protocol: Protocol,
        now: Instant,
        timeout_at: Option<Instant>,
        (alpn, ech): Params,
    ) -> AttemptId {
        let id = AttemptId(count_u32(self.list.len()));
        if alpn.is_some() || ech.is_some() {
            self.params.get_or_insert_default().push(ServiceParams {
                index: id.0,
                alpn,
                ech,
            });
        }
        self.list.push(AttemptRecord {
            id,
            addr,
            protocol,
            started: now,
            timeout_at,
            state: AttemptState::InFlight,
        });
        self.in_flight = self.in_flight.saturating_add(1);
        id
    }

    /// Attempt `index` (in flight) ends as `state`.
    pub(crate) fn end(&mut self, index: usize, state: AttemptState) {
        let Some(record) = self.list.get_mut(index) else {
            return;
        };
        if record.state != AttemptState::InFlight {
            return;
        }
        record.state = state;
        self.in_flight = self.in_flight.saturating_sub(1);
        while self
            .list
            .get(self.first_in_flight as usize)
            .is_some_and(|a| a.state != AttemptState::InFlight)
        {
            self.first_in_flight += 1;
        }
    }

    /// The action that starts attempt `id`.
    pub(crate) fn action(&self, id: AttemptId) -> Option<Attempt> {
        let record = self.list.get(id.0 as usize)?;
        let params = self.params.as_ref().and_then(|list| {
            let i = list.binary_search_by_key(&id.0, |p| p.index).ok()?;
            list.get(i)
        });
        Some(Attempt {
            id,
            addr: record.addr,
            protocol: record.protocol,
            alpn: params.and_then(|p| p.alpn.clone()),
            ech: params.and_then(|p| p.ech.clone()),
        })
    }

    /// The race is over: every attempt in flight is cancelled, in start order, with a
    /// [`Action::Cancel`] each.
    pub(crate) fn cancel_in_flight(
        &mut self,
        now: Instant,
        reason: CancelReason,
        actions: &mut Actions,
    ) {
        for index in self.first_in_flight as usize..self.list.len() {
            let Some(&AttemptRecord { id, state, .. }) = self.list.get(index) else {
                break;
            };
            if state == AttemptState::InFlight {
                self.end(index, AttemptState::Cancelled { at: now, reason });
                actions.push_back(Pending::Cancel(id, reason));
            }
        }
    }

    /// Every attempt that failed, in start order
    /// ([`Outcome::attempt_errors`](crate::Outcome::attempt_errors)).
    pub(crate) fn errors(&self) -> Vec<AttemptError> {
        let error = |a: &AttemptRecord| match a.state {
            AttemptState::Failed { failure, .. } => Some(AttemptError {
                id: a.id,
                addr: a.addr,
                protocol: a.protocol,
                failure,
            }),
            _ => None,
        };
        // Exactly as long as it needs to be: the outcome keeps it.
        let mut out = Vec::with_capacity(self.list.iter().filter_map(error).count());
        out.extend(self.list.iter().filter_map(error));
        out
    }

    /// Where attempt `id` connected to, and over which transport.
    pub(crate) fn endpoint(&self, id: AttemptId) -> Option<(SocketAddr, Protocol)> {
        self.list.get(id.0 as usize).map(|a| (a.addr, a.protocol))
    }
}

//! The ordered list of endpoints not yet attempted, and the choice of the next one.
//!
//! Ordering (HEv3 §5): endpoints are grouped (by transport when the client groups by protocol,
//! §5.1; by service priority, §5.2), sorted within each group (RFC 6724, §5.3), and then
//! picked one at a time with family interleaving (RFC 8305 §4, HEv3 §5.3).
//!
//! Interleaving is decided at pick time from the attempts already made in the group, not from
//! a precomputed list, so that addresses that arrive late continue the interleaving from the
//! family of the last attempt (the RFC 8305 §3 reading of checklist item A8: new addresses are
//! sorted into the not-yet-attempted list). The First Address Family Count N is read as "the
//! first N of the first family, then one of each family in turn" (checklist ambiguity 2, the
//! reading of CPython's asyncio).

use core::cmp::Ordering;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::time::Duration;

use crate::action::AttemptRecord;
use crate::addr::{Family, PerFamily, Protocol};
use crate::config::SortMode;
use crate::rfc6724::{PathInfo, Policy, Scope, SortKey, Source, compare};
use crate::small::{Filler, SmallVec};

/// Where an endpoint's group sorts: by transport group (when grouping by protocol), then by
/// service priority, then by the seeded shuffle of equal priorities, then by record position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct GroupKey {
    pub(crate) transport: u8,
    pub(crate) priority: u32,
    pub(crate) rank: u64,
    pub(crate) index: u32,
}

impl GroupKey {
    /// HEv3 §5.2: "the unassociated addresses SHOULD be put in a group of endpoints that is
    /// prioritized at the end of the list". Without service records this is the only group.
    pub(crate) fn unassociated(transport: u8) -> GroupKey {
        GroupKey {
            transport,
            priority: u32::MAX,
            rank: 0,
            index: 0,
        }
    }

    /// The position of its service record among the ServiceMode records, when it has one
    /// (service priorities are 16-bit: `u32::MAX` is the unassociated group).
    pub(crate) fn service(&self) -> Option<usize> {
        (self.priority != u32::MAX).then_some(self.index as usize)
    }
}

/// One endpoint that may be attempted, as the builder makes it (`endpoints.rs`): with what
/// sorting needs. The plan keeps a smaller [`Entry`] of it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Endpoint {
    /// Where to connect.
    pub(crate) addr: SocketAddr,
    /// The address sorting and interleaving look at: the IPv4 address for a NAT64-synthesised
    /// endpoint (checklist D8), otherwise the connect address.
    pub(crate) key: SortKey,
    pub(crate) protocol: Protocol,
    pub(crate) group: GroupKey,
    /// The Connection Attempt Delay after starting this endpoint.
    pub(crate) delay: Duration,
}

impl Endpoint {
    pub(crate) fn family(&self) -> Family {
        Family::of(&self.key.ip)
    }
}

/// A pending endpoint as the plan keeps it, in sorted order.
#[derive(Clone, Copy, Debug)]
struct Entry {
    addr: SocketAddr,
    /// The Connection Attempt Delay in nanoseconds: at most the Maximum Connection Attempt
    /// Delay, 2 s ([`Config::validate`](crate::Config::validate)), so it fits.
    delay_nanos: u32,
    /// Its group's index in [`Plan::groups`].
    group: u32,
    protocol: Protocol,
    family: Family,
    /// History marks its path broken.
    broken: bool,
}

const NO_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

impl Filler for Entry {
    const FILLER: Entry = Entry {
        addr: NO_ADDR,
        delay_nanos: 0,
        group: 0,
        protocol: Protocol::Tcp,
        family: Family::V6,
        broken: false,
    };
}

/// The endpoint [`Plan::take`] gives: what its attempt needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Taken {
    pub(crate) addr: SocketAddr,
    pub(crate) protocol: Protocol,
    pub(crate) group: GroupKey,
    pub(crate) delay: Duration,
}

/// What has been attempted in one group: enough to continue its interleaving.
#[derive(Clone, Copy, Debug)]
struct GroupHistory {
    /// Distinct addresses attempted (an address tried over QUIC and TCP counts once).
    units: u32,
    first_family: Family,
    /// How many of the first units were of the first family.
    first_run: u32,
    last_family: Family,
    /// The group's most recent attempt: its index in the race's attempts (whose address
    /// the next pick compares).
    last: u32,
}

/// One group known to the plan (of a pending endpoint or of an attempted one), and its
/// interleaving state once something in it has been attempted.
#[derive(Clone, Copy, Debug)]
struct Group {
    key: GroupKey,
    history: Option<GroupHistory>,
}

impl Filler for Group {
    const FILLER: Group = Group {
        key: GroupKey {
            transport: 0,
            priority: 0,
            rank: 0,
            index: 0,
        },
        history: None,
    };
}

/// An endpoint taken (attempted), in attempt order: the family and group it was attempted
/// in (its address and transport are its attempt's: `Attempts` keeps them).
#[derive(Clone, Copy, Debug)]
struct Attempted {
    family: Family,
    /// Its group when it was taken (used while it is not in the current list).
    group: GroupKey,
}

impl Filler for Attempted {
    const FILLER: Attempted = Attempted {
        family: Family::V6,
        group: Group::FILLER.key,
    };
}

/// The endpoints not yet attempted, sorted, and the interleaving state.
///
/// The pending endpoints are kept in sorted order ([`Entry`]); each family has a cursor at
/// its next endpoint, so a pick looks at two heads and a take moves one cursor forward (over
/// the other family's endpoints: O(n) over a whole race). A DNS answer costs one
/// O(n log n) sort. Everything is inline for the common small race (a few endpoints, one
/// group, two attempts): it allocates nothing then.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan {
    /// The pending endpoints, in sorted order; those before a family's cursor are taken (or
    /// of the other family).
    entries: SmallVec<Entry, 1>,
    /// Per family: the position in `entries` of its next endpoint (at or after it).
    next: PerFamily<u32>,
    /// Per family: how many are pending, and how many of those history marks broken.
    pending: PerFamily<u32>,
    broken: PerFamily<u32>,
    /// The groups of the pending and attempted endpoints, sorted, with their histories.
    groups: SmallVec<Group, 1>,
    /// Every endpoint taken (attempted) so far, in attempt order: never offered again.
    attempted: SmallVec<Attempted, 2>,
    /// Test builds: element moves and comparisons done so far (the cost-growth test).
    #[cfg(test)]
    work: u64,
}

/// A stable sort that never panics, whatever the comparator does (the standard library's
/// sorts may panic on a comparator that is not a total order, and RFC 6724's pairwise rules
/// with partial source information need not be one). A bottom-up merge sort: O(n log n)
/// comparisons and moves, through `buffer` (as long as `v`); meant for small `Copy` elements
/// (indices). With an inconsistent comparator the result is still a permutation.
pub(crate) fn stable_sort_by<T: Copy>(
    v: &mut [T],
    buffer: &mut [T],
    mut cmp: impl FnMut(&T, &T) -> Ordering,
) {
    let n = v.len().min(buffer.len());
    let (v, buffer) = (&mut v[..n], &mut buffer[..n]);
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = n.min(start + width);
            let end = n.min(start + 2 * width);
            let (mut i, mut j) = (start, mid);
            for slot in &mut buffer[start..end] {
                // The left run wins ties: stable.
                let take_right = j < end && (i >= mid || cmp(&v[j], &v[i]) == Ordering::Less);
                if take_right {
                    *slot = v[j];
                    j += 1;
                } else {
                    *slot = v[i];
                    i += 1;
                }
            }
            start = end;
        }
        v.copy_from_slice(buffer);
        #[cfg(test)]
        WORK.with(|w| w.set(w.get() + 2 * n as u64));
        width *= 2;
    }
}

#[cfg(test)]
extern crate std;
#[cfg(test)]
std::thread_local! {
    static WORK: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// The address of attempt `index`.
fn addr_of(attempts: &[AttemptRecord], index: u32) -> Option<SocketAddr> {
    attempts.get(index as usize).map(|a| a.addr)
}

/// One more attempt (number `index` of `attempts`) of `family` to `addr` in a group: its
/// interleaving state moves on (an address tried over a second transport counts once).
fn record(
    history: &mut Option<GroupHistory>,
    family: Family,
    addr: SocketAddr,
    index: u32,
    attempts: &[AttemptRecord],
) {
    match history {
        None => {
            *history = Some(GroupHistory {
                units: 1,
                first_family: family,
                first_run: 1,
                last_family: family,
                last: index,
            });
        }
        Some(h) if addr_of(attempts, h.last) == Some(addr) => {}
        Some(h) => {
            if h.first_run == h.units && family == h.first_family {
                h.first_run = h.first_run.saturating_add(1);
            }
            h.units = h.units.saturating_add(1);
            h.last_family = family;
            h.last = index;
        }
    }
}

fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Filler for u32 {
    const FILLER: u32 = 0;
}

type Key = (SocketAddr, Protocol);

impl Filler for (Key, u32) {
    const FILLER: (Key, u32) = ((NO_ADDR, Protocol::Tcp), 0);
}

impl Filler for GroupKey {
    const FILLER: GroupKey = Group::FILLER.key;
}

impl Filler for Key {
    const FILLER: Key = (NO_ADDR, Protocol::Tcp);
}

impl Filler for bool {
    const FILLER: bool = false;
}

impl Filler for Endpoint {
    const FILLER: Endpoint = Endpoint {
        addr: NO_ADDR,
        key: SortKey {
            ip: NO_ADDR.ip(),
            policy: Policy {
                precedence: 0,
                label: 0,
            },
            scope: Scope::Global,
            path: PathInfo {
                source: Source::Unknown,
                rtt: None,
                used_before: false,
                broken: false,
            },
        },
        protocol: Protocol::Tcp,
        group: Group::FILLER.key,
        delay: Duration::ZERO,
    };
}

/// The endpoints built from what a race knows, inline for a small race.
pub(crate) type Endpoints = SmallVec<Endpoint, 4>;

/// The endpoint of a race to one address over one transport, inline: an [`Endpoints`]
/// would fill (and the race copy) three unused slots of it (issue 14).
pub(crate) type OneEndpoint = SmallVec<Endpoint, 1>;

impl Plan {
    /// Nothing pending, nothing attempted.
    pub(crate) const EMPTY: Plan = Plan {
        entries: SmallVec::new(),
        next: PerFamily::new(0, 0),
        pending: PerFamily::new(0, 0),
        broken: PerFamily::new(0, 0),
        groups: SmallVec::new(),
        attempted: SmallVec::new(),
        #[cfg(test)]
        work: 0,
    };

    /// Replaces the pending endpoints with `endpoints` (every endpoint currently known),
    /// sorted, without duplicates and without the ones already attempted (`attempts`, the
    /// race's attempts: one per endpoint taken, in the same order).
    pub(crate) fn set(
        &mut self,
        endpoints: &[Endpoint],
        sort: SortMode,
        attempts: &[AttemptRecord],
    ) {
        let n = endpoints.len();
        // Scratch, inline for a small race: the sorted order and the merge sort's buffer.
        let mut order: SmallVec<u32, 4> = SmallVec::with_capacity(n);
        let mut buffer: SmallVec<u32, 4> = SmallVec::with_capacity(n);
        for i in 0..n {
            order.push(index_u32(i));
            buffer.push(0);
        }
        stable_sort_by(order.as_mut_slice(), buffer.as_mut_slice(), |&a, &b| {
            let (a, b) = (&endpoints[a as usize], &endpoints[b as usize]);
            a.group.cmp(&b.group).then_with(|| match sort {
                SortMode::Rfc6724 => compare(&a.key, &b.key),
                SortMode::Given => Ordering::Equal,
            })
        });
        drop(buffer);
        // Identical endpoints are attempted once: the first (best placed) copy stays. The
        // keys, sorted, with their sorted positions (a total order on plain keys:
        // `sort_unstable` cannot misbehave here).
        let mut keys: SmallVec<(Key, u32), 4> = SmallVec::with_capacity(n);
        for (pos, &i) in order.iter().enumerate() {
            let e = &endpoints[i as usize];
            keys.push(((e.addr, e.protocol), index_u32(pos)));
        }
        keys.as_mut_slice().sort_unstable();
        // The attempted keys, sorted, to drop them.
        let mut taken: SmallVec<Key, 4> = SmallVec::with_capacity(attempts.len());
        for a in attempts {
            taken.push((a.addr, a.protocol));
        }
        taken.as_mut_slice().sort_unstable();
        let mut dropped: SmallVec<bool, 4> = SmallVec::with_capacity(n);
        for _ in 0..n {
            dropped.push(false);
        }
        let mut t = 0;
        for w in 0..keys.len() {
            let (key, pos) = keys.as_slice()[w];
            let duplicate = w > 0 && keys.as_slice()[w - 1].0 == key;
            while taken.get(t).is_some_and(|k| *k < key) {
                t += 1;
            }
            if duplicate || taken.get(t) == Some(&key) {
                if let Some(d) = dropped.get_mut(pos as usize) {
                    *d = true;
                }
            }
        }
        // The groups: of the endpoints (in sorted order, so sorted already) and of the
        // attempted ones.
        let mut groups: SmallVec<GroupKey, 2> = SmallVec::new();
        for &i in order.iter() {
            let g = endpoints[i as usize].group;
            if groups.last() != Some(&g) {
                groups.push(g);
            }
        }
        let mut extra: SmallVec<GroupKey, 2> = SmallVec::new();
        for a in self.attempted.iter() {
            if groups.as_slice().binary_search(&a.group).is_err() {
                extra.push(a.group);
            }
        }
        self.groups.clear();
        if extra.is_empty() {
            for &key in groups.iter() {
                self.groups.push(Group { key, history: None });
            }
        } else {
            for &g in extra.iter() {
                groups.push(g);
            }
            groups.as_mut_slice().sort_unstable();
            for &key in groups.iter() {
                if self.groups.last().map(|g| g.key) != Some(key) {
                    self.groups.push(Group { key, history: None });
                }
            }
        }
        // The interleaving state follows the attempted endpoints into the groups they belong
        // to now (HEv3 §5.2: all endpoints of one service are one group; §7: the complete list,
        // endpoints already attempted included, is sorted again). An HTTPS answer that puts
        // the owner's addresses into its service's group after the first attempt therefore
        // continues the interleaving instead of restarting it (issue 10, item 8).
        for (index, (a, record_of)) in self.attempted.iter().zip(attempts).enumerate() {
            let key = (record_of.addr, record_of.protocol);
            let keys = keys.as_slice();
            let first = keys.partition_point(|(k, _)| *k < key);
            let group = match keys.get(first) {
                Some(&(k, pos)) if k == key => order
                    .get(pos as usize)
                    .and_then(|&i| endpoints.get(i as usize))
                    .map_or(a.group, |e| e.group),
                _ => a.group,
            };
            let gi = self.group_index(group);
            if let Some(g) = self.groups.get_mut(gi) {
                record(&mut g.history, a.family, key.0, index_u32(index), attempts);
            }
        }
        // The pending list, in sorted order.
        let kept = dropped.iter().filter(|&&d| !d).count();
        if kept > self.entries.capacity() {
            self.entries = SmallVec::with_capacity(kept);
        }
        self.entries.clear();
        self.pending = PerFamily::default();
        self.broken = PerFamily::default();
        let mut next = PerFamily::new(None, None);
        for (pos, &i) in order.iter().enumerate() {
            if dropped.get(pos).copied().unwrap_or(true) {
                continue;
            }
            let e = &endpoints[i as usize];
            let family = e.family();
            let at = index_u32(self.entries.len());
            next[family].get_or_insert(at);
            self.pending[family] += 1;
            self.broken[family] += u32::from(e.key.path.broken);
            self.entries.push(Entry {
                addr: e.addr,
                delay_nanos: u32::try_from(e.delay.as_nanos()).unwrap_or(u32::MAX),
                group: index_u32(self.group_index(e.group)),
                protocol: e.protocol,
                family,
                broken: e.key.path.broken,
            });
        }
        let end = index_u32(self.entries.len());
        self.next = PerFamily::new(
            next[Family::V6].unwrap_or(end),
            next[Family::V4].unwrap_or(end),
        );
    }

    /// The index of `key` in `groups` (every group of a pending or attempted endpoint is
    /// there).
    fn group_index(&self, key: GroupKey) -> usize {
        self.groups
            .as_slice()
            .binary_search_by(|g| g.key.cmp(&key))
            .unwrap_or_else(|i| i)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.iter().map(|&n| n as usize).sum()
    }

    /// Whether `family` has pending endpoints and history marks every one of them broken.
    pub(crate) fn all_broken(&self, family: Family) -> bool {
        self.pending[family] > 0 && self.broken[family] == self.pending[family]
    }

    fn head(&self, family: Family) -> Option<&Entry> {
        if self.pending[family] == 0 {
            return None;
        }
        self.entries.get(self.next[family] as usize)
    }

    fn history(&self, group: u32) -> Option<&GroupHistory> {
        self.groups
            .get(group as usize)
            .and_then(|g| g.history.as_ref())
    }

    /// The family whose next endpoint to attempt next, if any (`attempts`: the race's).
    pub(crate) fn pick(
        &self,
        interleave: bool,
        family_count: u8,
        attempts: &[AttemptRecord],
    ) -> Option<Family> {
        let heads = PerFamily::new(self.head(Family::V6), self.head(Family::V4));
        // The first group with anything pending; the family whose head is in it and comes
        // first in sorted order wins ties.
        let (first_family, first) = match (heads[Family::V6], heads[Family::V4]) {
            (Some(a), Some(b)) if b.group < a.group => (Family::V4, b),
            (Some(a), _) => (Family::V6, a),
            (None, Some(b)) => (Family::V4, b),
            (None, None) => return None,
        };
        let group = first.group;
        let in_group = |f: Family| heads[f].is_some_and(|e| e.group == group);
        let history = self.history(group);
        // An address with another transport still to try goes next (QUIC then TCP to the same
        // address, checklist E4), before interleaving moves to the next address.
        if let Some(h) = history {
            for f in [h.last_family, h.last_family.other()] {
                let last = addr_of(attempts, h.last);
                if in_group(f) && heads[f].is_some_and(|e| Some(e.addr) == last) {
                    return Some(f);
                }
            }
        }
        let want = if !interleave {
            // No interleaving: the sorted order across both families.
            return Some(self.sorted_first(group, first_family));
        } else {
            match history {
                None => self.sorted_first(group, first_family),
                Some(h) if h.first_run == h.units && h.units < u32::from(family_count) => {
                    h.first_family
                }
                Some(h) => h.last_family.other(),
            }
        };
        Some(if in_group(want) { want } else { want.other() })
    }

    /// Of the two family heads in `group`, the family of the one that sorts first (the one
    /// built first when they are equal: the sort is stable).
    fn sorted_first(&self, group: u32, fallback: Family) -> Family {
        let pos = |f: Family| {
            self.head(f)
                .filter(|e| e.group == group)
                .map(|_| self.next[f])
        };
        match (pos(Family::V6), pos(Family::V4)) {
            (Some(a), Some(b)) => {
                if a <= b {
                    Family::V6
                } else {
                    Family::V4
                }
            }
            (Some(_), None) => Family::V6,
            (None, Some(_)) => Family::V4,
            (None, None) => fallback,
        }
    }

    /// Removes the next endpoint of `family` (from [`Plan::pick`]) and records it as
    /// attempted: its attempt must follow, after `attempts` (the race's; [`set`](Plan::set)
    /// pairs them up).
    pub(crate) fn take(&mut self, family: Family, attempts: &[AttemptRecord]) -> Option<Taken> {
        let e = *self.head(family)?;
        // The family's cursor moves to its next endpoint: over the other family's, each once
        // per race.
        let entries = self.entries.as_slice();
        let mut at = self.next[family] as usize + 1;
        while entries.get(at).is_some_and(|x| x.family != family) {
            at += 1;
            #[cfg(test)]
            {
                self.work += 1;
            }
        }
        self.next[family] = index_u32(at);
        self.pending[family] = self.pending[family].saturating_sub(1);
        self.broken[family] = self.broken[family].saturating_sub(u32::from(e.broken));
        let group = self
            .groups
            .get(e.group as usize)
            .map_or(GroupKey::unassociated(0), |g| g.key);
        let index = index_u32(self.attempted.len());
        self.attempted.push(Attempted { family, group });
        if let Some(g) = self.groups.get_mut(e.group as usize) {
            record(&mut g.history, family, e.addr, index, attempts);
        }
        Some(Taken {
            addr: e.addr,
            protocol: e.protocol,
            group,
            delay: Duration::from_nanos(u64::from(e.delay_nanos)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::net::IpAddr;

    /// The pending endpoints' addresses in sorted (not interleaved) order.
    fn sorted_ips(plan: &Plan) -> Vec<IpAddr> {
        plan.entries.iter().map(|e| e.addr.ip()).collect()
    }

    /// The attempt a race would make for `taken`, after `attempts`.
    fn attempt(attempts: &mut Vec<AttemptRecord>, taken: &Taken) {
        attempts.push(AttemptRecord {
            id: crate::action::AttemptId(attempts.len() as u32),
            addr: taken.addr,
            protocol: taken.protocol,
            ..AttemptRecord::FILLER
        });
    }

    /// Picks and takes until nothing is left, as a race would: the addresses in order.
    fn drain(plan: &mut Plan, interleave: bool, count: u8) -> Vec<IpAddr> {
        let mut attempts = Vec::new();
        let mut out = vec![];
        while let Some(f) = plan.pick(interleave, count, &attempts) {
            let taken = plan.take(f, &attempts).unwrap();
            attempt(&mut attempts, &taken);
            out.push(taken.addr.ip());
        }
        out
    }

    fn ep(s: &str, group: GroupKey) -> Endpoint {
        let ip: IpAddr = s.parse().unwrap();
        Endpoint {
            addr: SocketAddr::new(ip, 443),
            key: SortKey::new(ip, false, PathInfo::default()),
            protocol: Protocol::Tcp,
            group,
            delay: Duration::from_millis(250),
        }
    }

    fn order(input: &[&str], count: u8) -> Vec<IpAddr> {
        let mut plan = Plan::default();
        let g = GroupKey::unassociated(0);
        let endpoints: Vec<Endpoint> = input.iter().map(|s| ep(s, g)).collect();
        plan.set(&endpoints, SortMode::Rfc6724, &[]);
        drain(&mut plan, true, count)
    }

    fn ips(v: &[&str]) -> Vec<IpAddr> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    const A6: &str = "2001:db8::a";
    const B6: &str = "2001:db8::b";
    const C6: &str = "2001:db8::c";
    const A4: &str = "192.0.2.1";
    const B4: &str = "192.0.2.2";

    /// Checklist B12, count 1.
    #[test]
    fn b12_interleave_count_1() {
        assert_eq!(order(&[A6, B6, C6, A4, B4], 1), ips(&[A6, A4, B6, B4, C6]));
    }

    /// Checklist B12, count 2, "first N, then alternate" reading.
    #[test]
    fn b12_interleave_count_2_first_n() {
        assert_eq!(order(&[A6, B6, C6, A4, B4], 2), ips(&[A6, B6, A4, C6, B4]));
    }

    /// Checklist B12: the list starts with the family of the first sorted entry.
    #[test]
    fn b12_first_family_may_be_ipv4() {
        let teredo = "2001:0:4136:e378::1";
        assert_eq!(order(&[A4, B4, teredo], 1), ips(&[A4, teredo, B4]));
    }

    /// Checklist B6 and B14: sorting keeps groups intact and is stable.
    #[test]
    fn b14_sorting_never_crosses_groups() {
        let g1 = GroupKey {
            transport: 0,
            priority: 1,
            rank: 0,
            index: 0,
        };
        let g2 = GroupKey { priority: 2, ..g1 };
        let mut plan = Plan::default();
        plan.set(
            &[ep(A4, g1), ep(A6, g2), ep("fd00::1", g1), ep(B6, g1)],
            SortMode::Rfc6724,
            &[],
        );
        assert_eq!(sorted_ips(&plan), ips(&[B6, A4, "fd00::1", A6]));
    }

    #[test]
    fn duplicates_and_attempted_are_dropped() {
        let g = GroupKey::unassociated(0);
        let mut plan = Plan::default();
        plan.set(&[ep(A4, g)], SortMode::Rfc6724, &[]);
        let taken = plan.take(Family::V4, &[]).unwrap();
        assert_eq!(taken.addr.ip(), A4.parse::<IpAddr>().unwrap());
        let mut attempts = Vec::new();
        attempt(&mut attempts, &taken);
        plan.set(
            &[ep(A6, g), ep(A6, g), ep(A4, g), ep(B4, g)],
            SortMode::Rfc6724,
            &attempts,
        );
        assert_eq!(sorted_ips(&plan), ips(&[A6, B4]));
    }

    /// The work (element moves and comparisons) of planning and taking `n` endpoints.
    fn work(n: usize) -> u64 {
        let g = GroupKey::unassociated(0);
        let mut comparisons = 0u64;
        let endpoints: Vec<Endpoint> = (0..n)
            .map(|i| {
                let n = u32::try_from(i).unwrap();
                let ip = if i % 2 == 0 {
                    IpAddr::V6(core::net::Ipv6Addr::from(
                        0x2001_0db8_u128 << 96 | u128::from(n),
                    ))
                } else {
                    IpAddr::V4(core::net::Ipv4Addr::from(0xc000_0000 + n))
                };
                let mut e = ep("192.0.2.1", g);
                e.addr = SocketAddr::new(ip, 443);
                e.key = SortKey::new(ip, false, PathInfo::default());
                e
            })
            .collect();
        WORK.with(|w| w.set(0));
        let mut plan = Plan::default();
        plan.set(&endpoints, SortMode::Rfc6724, &[]);
        let mut attempts = Vec::new();
        while let Some(f) = plan.pick(true, 1, &attempts) {
            let taken = plan.take(f, &attempts).unwrap();
            attempt(&mut attempts, &taken);
            comparisons += 1;
        }
        plan.work + WORK.with(|w| w.get()) + comparisons
    }

    /// Issue 10, item 10: planning and taking n endpoints costs O(n log n) element moves,
    /// not O(n^2) (the pending list was a sorted `Vec` with an insert per attempt, and the
    /// sort a binary insertion sort that rotates). Counted, not timed: 8 times the endpoints
    /// may cost at most 16 times the work (n log n gives about 10, n^2 gives 64).
    #[test]
    fn i10_planning_cost_grows_n_log_n() {
        let small = work(2_000);
        let large = work(16_000);
        std::eprintln!("planning work: 2,000 endpoints {small}, 16,000 endpoints {large}");
        assert!(
            large < small * 16,
            "8x the endpoints cost {}x the work ({small} -> {large})",
            large / small.max(1)
        );
    }

    #[test]
    fn stable_sort_survives_an_inconsistent_comparator() {
        let mut v: Vec<u32> = (0..200).collect();
        let mut flip = false;
        stable_sort_by(&mut v, &mut Vec::new(), |_, _| {
            flip = !flip;
            if flip {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        });
        v.sort_unstable();
        assert_eq!(v, (0..200).collect::<Vec<_>>());
    }
}

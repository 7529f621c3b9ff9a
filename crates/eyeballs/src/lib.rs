//! # eyeballs: Happy Eyeballs as a sans-IO state machine
//!
//! When a host has IPv6 and IPv4 addresses and one path is broken (a blackholed IPv6 route is
//! the classic case), a naive client waits for the OS connect timeout: minutes. Happy Eyeballs
//! (RFC 8305, and its successor draft HEv3) races the addresses with a short stagger and keeps
//! the first connection.
//!
//! This crate is the engine only: `no_std` + `alloc`, no `unsafe`, no clock, no I/O, no
//! dependencies, deterministic, and it never panics. A [`Race`] takes DNS answers, attempt
//! results and the current time, and emits [`Action`]s: resolve a name, start an attempt,
//! cancel an attempt, cancel a query, finished. Drivers for async runtimes live in other
//! crates; you can also drive it from your own event loop. [`trace::Event`] is the
//! vocabulary in which drivers, the simulator and the tools record what happened in a race,
//! each event with its time since the race started ([`trace::TimedEvent`]).
//!
//! ## Driving a race by hand
//!
//! ```
//! use core::time::Duration;
//! use eyeballs::{Action, Config, DnsAnswer, Instant, Race, RaceResult, RecordType, Target};
//!
//! let t0 = Instant::ZERO;
//! let ms = |n| t0 + Duration::from_millis(n);
//! let mut race = Race::new(Config::default(), Target::host("example.com", 443), t0).unwrap();
//!
//! // The engine asks for AAAA and A at once (RFC 8305 §3).
//! let mut queries = Vec::new();
//! while let Some(action) = race.poll_action() {
//!     if let Action::Resolve { id, record, .. } = action {
//!         queries.push((id, record));
//!     }
//! }
//! assert_eq!(queries.iter().map(|q| q.1).collect::<Vec<_>>(), [RecordType::Aaaa, RecordType::A]);
//!
//! // A answers first: the engine waits up to the Resolution Delay (50 ms) for AAAA.
//! race.handle_dns(ms(10), queries[1].0, DnsAnswer::Addresses(vec!["192.0.2.1".parse().unwrap()])).unwrap();
//! assert_eq!(race.poll_action(), None);
//! assert_eq!(race.poll_timeout(), Some(ms(60)));
//!
//! // AAAA arrives inside the delay: IPv6 starts at once.
//! race.handle_dns(ms(12), queries[0].0, DnsAnswer::Addresses(vec!["2001:db8::1".parse().unwrap()])).unwrap();
//! let Some(Action::Attempt(v6)) = race.poll_action() else { panic!() };
//! assert!(v6.addr.is_ipv6());
//!
//! // It hangs; 250 ms later (the Connection Attempt Delay) IPv4 starts, and connects.
//! race.handle_timeout(ms(262)).unwrap();
//! let Some(Action::Attempt(v4)) = race.poll_action() else { panic!() };
//! race.handle_connected(ms(282), v4.id).unwrap();
//! assert!(matches!(race.poll_action(), Some(Action::Cancel { id, .. }) if id == v6.id));
//! assert_eq!(race.poll_action(), Some(Action::Finished(RaceResult::Connected(v4.id))));
//! ```
//!
//! ## State diagram
//!
//! A race is in one state at a time; [`Race::phase`] says which (a [`Phase`]: the engine's
//! state without the data only it needs, such as the Next Connection Attempt Timer of
//! `Connecting` or the outcome of `Finished`). Every arrow is labelled with what causes it:
//! an answer (any DNS input), a timer, an attempt result or the caller. Kept in sync with
//! `race.rs` (`leave_resolution`, `fire_timers`, `finish`).
//!
//! ```text
//!  Race::new(host)                                            Race::new(addresses)
//!         |                                                             |
//!         v                                                             |
//!  +-------------+  answer: the first address,                          |
//!  |  Resolving  |  S1 does not hold                                    |
//!  +-------------+ ---------------------+                               |
//!         |                             v                               |
//!         |                  +----------------------+                   |
//!         |                  |   ResolutionDelay    |                   |
//!         |                  |  { until: now + RD } |                   |
//!         |                  +----------------------+                   |
//!         |                     |               |                       |
//!         | answer: the first   | answer: S1    | timer `until`,        |
//!         | address, S1 holds   | holds; or     | SVCB-reliant,         |
//!         |                     | timer `until` | service info          |
//!         |                     | (S2), not     | missing (§6.3)        |
//!         |                     | SVCB-reliant  v                       |
//!         |                     | or service  +---------------------+   |
//!         |                     | info        | AwaitingServiceInfo |   |
//!         |                     | settled     +---------------------+   |
//!         |                     |               | answer: service       |
//!         |                     |               | info settled          |
//!         v                     v               v                       |
//!  +-----------------------------------------------------+              |
//!  |                     Connecting                      | <------------+
//!  +-----------------------------------------------------+
//!         |  an attempt connects; or (after a failure, an attempt timeout or
//!         |  an answer) nothing is in flight, nothing is left to try and no
//!         v  answer is awaited
//!  +-------------+  also from every other state: the total timeout, `cancel`,
//!  |  Finished   |  every answer negative (nothing to try), the HTTPS resolution
//!  +-------------+  failed while SVCB-reliant (HEv3 §6.3)
//! ```
//!
//! S1 is the first condition set of HEv3 §4.2: an address is known, the preferred family
//! has answered (or has an address from elsewhere), the service information is settled
//! (received, negative, or not asked for), and history does not mark every known address of
//! the preferred family broken while the other family is still awaited. S2, the second set:
//! an address is known and the Resolution Delay has passed (it starts with the first
//! address, so the timer firing is S2).
//!
//! DNS answers keep arriving in `Connecting`; new endpoints join the not-yet-attempted list.
//! Within `Connecting`, the pacing below decides when each attempt starts; the Next
//! Connection Attempt Timer is `Connecting`'s own data.
//!
//! ## Pacing (RFC 8305 §5, HEv3 §6)
//!
//! 1. The first attempt starts as soon as an address may be used.
//! 2. The next attempt starts when the most recent attempt has run for the Connection Attempt
//!    Delay, or at once when the most recent attempt fails, whichever is first. The failure of
//!    an older attempt does not bring the next one forward. An address that arrives late
//!    starts at once if the most recent attempt has already failed or run for the delay, and
//!    otherwise when it has.
//! 3. Attempts are never abandoned because a newer one started.
//! 4. The first attempt to connect wins; every other attempt in flight is cancelled at that
//!    moment, in start order; nothing starts afterwards.
//! 5. When every address has been attempted and every attempt has failed (and no DNS answer
//!    is awaited), the race fails at the moment of the last failure.
//! 6. [`Config::max_concurrent_attempts`] delays a start until an attempt ends.
//!
//! ## Readings of the open questions
//!
//! The checklist the engine is tested against lists questions the RFCs leave open; each
//! reading below is pinned by a test whose name carries `ambiguityN`. `docs/checklist.md` in
//! the repository maps every checklist item to its test.
//!
//! 1. **How the HEv3 Resolution Delay starts**: when the first positive answer arrives while
//!    the first condition set of HEv3 §4.2 does not hold (the §4.2.2 examples).
//! 2. **First Address Family Count above 1**: the first N addresses of the first family, then
//!    one of each family in turn (CPython's reading).
//! 3. **Starting the next attempt on failure**: at once, when the failed attempt is the most
//!    recent one (common practice; not in RFC 8305 or HEv3). The 10 ms floor applies to the
//!    Connection Attempt Delay, not to a start caused by a failure: an attempt that has
//!    already failed cannot add to congestion, and the simulator specification's
//!    `all-refused` example pins this.
//! 4. **QUIC and TCP racing**: one flattened race in which each address is tried over the
//!    preferred transport, then the other, the same delay apart, before the interleaving moves
//!    to the next address (the policy the checklist recommends for E4). With
//!    [`Config::group_by_protocol`] every endpoint of the preferred transport comes first.
//! 5. **NAT64**: the -04 text is followed for literal and A-answer synthesis (HEv3 §8.1,
//!    §8.2); sorting and interleaving treat a synthesised address as the IPv4 address it
//!    carries (the editor's copy, §8.3), which keeps interleaving working on IPv6-only
//!    networks. The Last Resort Local Synthesis Delay (§8.4, removed in the editor's copy) is
//!    not implemented: with a prefix, A is queried up front. A DNS64 AAAA answer inside the
//!    prefix is attempted and sorted as the IPv6 address it is, but the
//!    [`DestinationFilter`] judges it, as it judges a synthesised A answer, by the IPv4
//!    address it carries ([`judged_address`]), so the two paths to one host are filtered
//!    alike.
//! 6. **CNAME**: the resolver follows chains; an answer is positive if it has addresses.
//! 7. **RFC 6555's wording**: its 150-250 ms pacing is what the default interleaving with a
//!    200 ms delay gives (the first address of the other family goes second).
//! 8. **Late answers**: RFC 8305's reading: new addresses are sorted into the not-yet-attempted
//!    list and interleaving continues from the family of the last attempt. That holds for a
//!    late HTTPS answer too: when it puts endpoints already attempted into a service group
//!    (HEv3 §5.2), the attempts made so far count in that group, so the next attempt is still
//!    the other family (HEv3 §7: the complete list, endpoints already received included, is
//!    sorted again).
//!
//! ## Addresses
//!
//! Every address is taken in its [`canonical`] form: an IPv4-mapped IPv6 address is the IPv4
//! address it maps, for families, sorting, interleaving, connectivity, duplicates, the
//! destination filter and everything the race reports. A literal keeps its IPv6 zone
//! (`scope_id`) and flow label; the same address in two zones is two endpoints.
//!
//! ## Memory
//!
//! A [`Race`] is under 1 KiB, its [`Config`] included, and keeps a small race inline: its
//! queued actions (a few bytes each, built into [`Action`]s when polled), the host name's
//! queries, its first two attempts, one pending endpoint and one endpoint group. A race over
//! a host name with an address or two of each family allocates nothing of its own but the
//! outcome's list of failed attempts ([`Outcome::attempt_errors`]); the host name is shared
//! (`Arc<str>`) by the caller's [`Target`], the race and its [`Action::Resolve`]s, and the
//! answers' address lists are kept as given. Larger races move to the heap, growing
//! linearly with the addresses; a DNS answer costs one O(n log n) sort.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod action;
mod addr;
mod attempts;
mod config;
mod dns;
mod endpoints;
mod error;
mod global;
pub mod history;
pub mod nat64;
mod plan;
mod race;
mod resolve;
pub mod rfc6724;
mod small;
pub mod svcb;
mod time;
pub mod trace;

pub use action::{
    Action, Attempt, AttemptError, AttemptFailure, AttemptId, AttemptRecord, AttemptState,
    CancelReason, FailReason, Outcome, RaceResult, SkipReason, Skipped,
};
pub use addr::{Family, Protocol, Unconnectable, canonical, check_connectable};
pub use config::{
    CONNECTION_ATTEMPT_DELAY, CONNECTION_ATTEMPT_DELAY_FLOOR, Config, ConfigError, Connectivity,
    DestinationFilter, FIRST_ADDRESS_FAMILY_COUNT, MAX_CONNECTION_ATTEMPT_DELAY,
    MAX_RESOLUTION_DELAY, MIN_CONNECTION_ATTEMPT_DELAY, PathInfoProvider, Protocols,
    RESOLUTION_DELAY, SortMode,
};
pub use dns::{DnsAnswer, DnsError, DnsFailure, HostNameError, QueryId, RecordType};
pub use error::{InputError, StartError};
pub use global::{GlobalOnly, check_global, judged_address};
pub use nat64::{Nat64Prefix, Nat64PrefixError};
pub use race::{Phase, Race, Target};
pub use resolve::MAX_ALIAS_CHAIN;
pub use rfc6724::{PathInfo, RttEstimate, Source, SourceAddr};
pub use svcb::ServiceRecord;
pub use time::Instant;

/// `n` as a `u32`, saturating (ids and indices never get that far).
fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(all(test, target_pointer_width = "64"))]
mod footprint {
    /// Issue 14: a race, its configuration (200 bytes) included, fits in 872 bytes (864 in a
    /// release build: test builds count the plan's work), so that a 2-address race stays
    /// within 1 KiB with its answers, host name and failed attempts on the heap
    /// (`cargo bench --bench engine_allocs`).
    #[test]
    fn a_race_fits_its_budget() {
        let size = core::mem::size_of::<crate::Race>();
        assert!(size <= 872, "size_of::<Race>() is {size}");
    }
}

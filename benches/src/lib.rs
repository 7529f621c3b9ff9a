//! Shared pieces of the eyeballs benchmarks:
//!
//! - [`race`] / [`race_with`]: a scripted race driven straight through the engine (no
//!   simulator, so that only the engine's own cost is measured);
//! - [`CountingAlloc`]: a global allocator that counts allocations, bytes, live bytes and the
//!   live-bytes high-water mark, and [`engine_footprint`], the engine's memory per race;
//! - [`stats`]: median and spread of repeated timings;
//! - [`chart`]: the hand-written SVG chart of the broken-IPv6 comparison;
//! - [`estimates`]: reading what criterion wrote (`target/criterion/**/new/*.json`).
//!
//! The binaries (`peers`, `scale`, `summary`) and `benches/run` use them; see
//! `benches/RESULTS.md` for what they measure.

pub mod chart;
pub mod estimates;
pub mod stats;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use eyeballs::{
    Action, AttemptFailure, Config, DnsAnswer, Instant, QueryId, Race, RaceResult, RecordType,
    Target,
};

/// The DNS answers for a race over `n` addresses: half IPv6, half IPv4.
pub fn answers(n: usize) -> (Vec<IpAddr>, Vec<IpAddr>) {
    let v6 = (0..n.div_ceil(2))
        .map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, i as u16)))
        .collect();
    let v4 = (0..n / 2)
        .map(|i| IpAddr::V4(Ipv4Addr::new(198, 18, (i / 250) as u8, (i % 250) as u8 + 1)))
        .collect();
    (v6, v4)
}

/// One full race through the engine: a host name, AAAA then A answered at 1 ms, then every
/// attempt fails 1 ms after it starts, except (when `win_last`) the last one, which connects.
/// `aaaa` and `a` are moved into the engine (the address list is the caller's allocation).
/// Returns how the race ended and how many inputs it took.
///
/// ```
/// let (v6, v4) = eyeballs_benches::answers(8);
/// let (result, inputs) = eyeballs_benches::race(v6, v4, true);
/// assert!(matches!(result, eyeballs::RaceResult::Connected(_)));
/// assert_eq!(inputs, 2 + 8); // two DNS answers, then one result per address
/// ```
pub fn race(aaaa: Vec<IpAddr>, a: Vec<IpAddr>, win_last: bool) -> (RaceResult, u32) {
    race_with(aaaa, a, win_last, |_| {})
}

/// [`race`], calling `after_input` with the engine after its creation and after every input
/// (to sample memory, for instance). A no-op closure costs nothing.
pub fn race_with(
    aaaa: Vec<IpAddr>,
    a: Vec<IpAddr>,
    win_last: bool,
    mut after_input: impl FnMut(&Race),
) -> (RaceResult, u32) {
    let total = aaaa.len() + a.len();
    let mut now = Instant::ZERO;
    let tick = core::time::Duration::from_millis(1);
    let mut race =
        Race::new(Config::default(), Target::host("bench.example", 443), now).expect("valid race");
    after_input(&race);
    let mut queries: [Option<QueryId>; 2] = [None, None];
    let mut inputs = 0u32;
    let mut started = 0usize;
    let mut pending: Option<eyeballs::AttemptId> = None;
    let mut aaaa = Some(aaaa);
    let mut a = Some(a);
    loop {
        while let Some(action) = race.poll_action() {
            match action {
                Action::Resolve { id, record, .. } => {
                    let slot = usize::from(record != RecordType::Aaaa);
                    queries[slot] = Some(id);
                }
                Action::Attempt(att) => {
                    started += 1;
                    pending = Some(att.id);
                }
                Action::Finished(result) => return (result, inputs),
                _ => {}
            }
        }
        now = now + tick;
        inputs += 1;
        if let Some(list) = aaaa.take() {
            let id = queries[0].expect("AAAA asked");
            race.handle_dns(now, id, DnsAnswer::Addresses(list))
                .expect("answer");
        } else if let Some(list) = a.take() {
            let id = queries[1].expect("A asked");
            race.handle_dns(now, id, DnsAnswer::Addresses(list))
                .expect("answer");
        } else if let Some(id) = pending.take() {
            if win_last && started == total {
                race.handle_connected(now, id).expect("result");
            } else {
                race.handle_failed(now, id, AttemptFailure::Refused)
                    .expect("result");
            }
        } else {
            let t = race.poll_timeout().unwrap_or(now);
            now = now.max(t);
            race.handle_timeout(now).expect("timeout");
        }
        after_input(&race);
    }
}

/// A global allocator that counts allocations, bytes allocated, bytes live and the live
/// high-water mark, for allocation and memory benchmarks. Install it with
/// `#[global_allocator]`; [`counting_installed`] checks that it is.
///
/// Counting costs a few atomic operations per allocation, shared by every thread; a timed
/// multi-threaded run can switch it off with [`set_counting`] (one relaxed load per
/// allocation remains). Live bytes are tracked only while counting: compare them only
/// across a stretch where counting stayed on.
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(true);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

/// Switches [`CountingAlloc`]'s counting on or off (on at start).
pub fn set_counting(on: bool) {
    COUNTING.store(on, Ordering::Relaxed);
}

fn counting() -> bool {
    COUNTING.load(Ordering::Relaxed)
}

fn grow(by: usize) {
    let live = LIVE.fetch_add(by as u64, Ordering::Relaxed) + by as u64;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrink(by: usize) {
    // Saturating: a block allocated while counting was off may be freed while it is on.
    let _ = LIVE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
        Some(live.saturating_sub(by as u64))
    });
}

// SAFETY: every method forwards to the system allocator unchanged; the counters are atomics.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        let ptr = unsafe { System.alloc(layout) };
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
            if !ptr.is_null() {
                grow(layout.size());
            }
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counting() {
            shrink(layout.size());
        }
        // SAFETY: `ptr` was allocated by `System` through `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !counting() {
            return new;
        }
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        if !new.is_null() {
            // On failure the old block stays allocated: nothing changes.
            grow(new_size);
            shrink(layout.size());
        }
        new
    }
}

/// (allocations, bytes) counted so far by [`CountingAlloc`].
pub fn allocation_counts() -> (u64, u64) {
    (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}

/// Heap bytes live now (allocated and not yet freed), as counted by [`CountingAlloc`].
pub fn live_bytes() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// The highest [`live_bytes`] seen since the last [`reset_peak`] (or the start).
pub fn peak_bytes() -> u64 {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new high-water mark at the current live bytes.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Whether [`CountingAlloc`] is this program's global allocator and counting (an
/// allocation is counted).
pub fn counting_installed() -> bool {
    let before = ALLOCS.load(Ordering::Relaxed);
    let probe = std::hint::black_box(Box::new(0u64));
    drop(probe);
    ALLOCS.load(Ordering::Relaxed) > before
}

/// The engine's memory for one race, measured with [`CountingAlloc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// `size_of::<Race>()`: the engine value itself (wherever the driver keeps it).
    pub race_size: usize,
    /// The most heap the race held at any moment of its life, the addresses it was given
    /// included (the engine keeps them).
    pub peak_heap: u64,
    /// Heap allocations over the whole race.
    pub allocations: u64,
}

impl Footprint {
    /// Bytes per race: the engine value plus its peak heap.
    pub fn bytes_per_race(&self) -> u64 {
        self.race_size as u64 + self.peak_heap
    }
}

/// The most heap `f` held at any moment (bytes above what was live when it started) and
/// the allocations it made. `None` unless [`CountingAlloc`] is the global allocator.
/// Single-threaded use only: other threads' allocations would be counted too.
pub fn measure_heap(f: impl FnOnce()) -> Option<(u64, u64)> {
    if !counting_installed() {
        return None;
    }
    let base_live = live_bytes();
    let (base_allocs, _) = allocation_counts();
    reset_peak();
    f();
    Some((
        peak_bytes().saturating_sub(base_live),
        allocation_counts().0 - base_allocs,
    ))
}

/// The engine's memory for one [`race`] over `n` addresses (see [`Footprint`] and
/// [`measure_heap`]). The answer lists are built inside the measurement, so they count.
pub fn engine_footprint(n: usize, win_last: bool) -> Option<Footprint> {
    let (peak_heap, allocations) = measure_heap(|| {
        let (v6, v4) = answers(n);
        let _ = race(v6, v4, win_last);
    })?;
    Some(Footprint {
        race_size: std::mem::size_of::<Race>(),
        peak_heap,
        allocations,
    })
}

/// A race to pre-resolved `addrs` whose first attempt connects after 1 ms: what a driver
/// given a list of addresses on a working network asks of the engine. Returns how it ended
/// (`None` if it did not).
///
/// ```
/// let addrs = vec!["[::1]:80".parse().unwrap(), "127.0.0.1:80".parse().unwrap()];
/// let result = eyeballs_benches::race_addresses(addrs);
/// assert!(matches!(result, Some(eyeballs::RaceResult::Connected(_))));
/// ```
pub fn race_addresses(addrs: Vec<std::net::SocketAddr>) -> Option<RaceResult> {
    let mut race =
        Race::new(Config::default(), Target::Addresses(addrs), Instant::ZERO).expect("valid race");
    let mut first = None;
    while let Some(action) = race.poll_action() {
        if let Action::Attempt(att) = action {
            first.get_or_insert(att.id);
        }
    }
    let now = Instant::ZERO + core::time::Duration::from_millis(1);
    race.handle_connected(now, first?).ok()?;
    std::iter::from_fn(|| race.poll_action()).find_map(|action| match action {
        Action::Finished(result) => Some(result),
        _ => None,
    })
}

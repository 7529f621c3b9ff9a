//! Shared pieces of the eyeballs benchmarks:
//!
//! - [`race`] / [`race_with`]: a scripted race driven straight through the engine (no
//!   simulator, so that only the engine's own cost is measured);
//! - [`CountingAlloc`]: a global allocator that counts allocations, bytes, live bytes and the
//!   live-bytes high-water mark, and [`engine_footprint`], the engine's memory per race;
//!   [`allocation_sites`] says where in the engine each allocation of a race is made;
//! - [`stats`]: median and spread of repeated timings;
//! - [`chart`]: the hand-written SVG chart of the broken-IPv6 comparison;
//! - [`estimates`]: reading what criterion wrote (`target/criterion/**/new/*.json`);
//! - [`tls`]: a TLS server for timing client handshakes, and the client configuration the
//!   timed secure connects share.
//!
//! The binaries (`peers`, `scale`, `summary`) and `benches/run` use them; see
//! `benches/RESULTS.md` for what they measure.

pub mod chart;
pub mod estimates;
pub mod stats;
pub mod tls;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use eyeballs::{
    Action, AttemptFailure, Config, DnsAnswer, Instant, QueryId, Race, RaceResult, RecordType,
    Target,
};

/// The DNS answers for a race over `n` addresses: half IPv6, half IPv4, all distinct (up to
/// 2^32 of each family: IPv4 counts up from 198.18.0.1, beyond the benchmarking range
/// 198.18.0.0/15 for more than 131,071, which the engine does not mind).
///
/// ```
/// let (v6, v4) = eyeballs_benches::answers(100_001);
/// assert_eq!((v6.len(), v4.len()), (50_001, 50_000));
/// let distinct: std::collections::BTreeSet<_> = v6.iter().chain(&v4).collect();
/// assert_eq!(distinct.len(), 100_001);
/// ```
pub fn answers(n: usize) -> (Vec<IpAddr>, Vec<IpAddr>) {
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    let v6 = (0..n.div_ceil(2))
        .map(|i| {
            let low = u128::from(index(i)) + (1 << 16);
            IpAddr::V6(Ipv6Addr::from((0x2001_0db8_u128 << 96) | low))
        })
        .collect();
    let v4 = (0..n / 2)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xc612_0001_u32.wrapping_add(index(i)))))
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
    race_with(aaaa, a, win_last, |_, _| {})
}

/// What [`race_with`] has just done with the engine: the step after which it calls its
/// observer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `Target::host` and `Race::new`.
    New,
    /// `poll_action` until it returned `None` (or the race's `Finished`).
    Poll,
    /// `handle_dns` with the AAAA answer.
    AnswerAaaa,
    /// `handle_dns` with the A answer.
    AnswerA,
    /// `handle_failed` (refused).
    Failed,
    /// `handle_connected`.
    Connected,
    /// `handle_timeout`.
    Timeout,
}

impl Step {
    /// The engine call the step is, as RESULTS.md names it.
    pub fn name(self) -> &'static str {
        match self {
            Step::New => "Race::new",
            Step::Poll => "poll_action",
            Step::AnswerAaaa => "handle_dns (AAAA)",
            Step::AnswerA => "handle_dns (A)",
            Step::Failed => "handle_failed",
            Step::Connected => "handle_connected",
            Step::Timeout => "handle_timeout",
        }
    }
}

/// [`race`], calling `observe` with the engine after each [`Step`]: its creation, every
/// drain of its actions and every input (to sample memory, or to tell which step made an
/// allocation). A no-op closure costs nothing.
pub fn race_with(
    aaaa: Vec<IpAddr>,
    a: Vec<IpAddr>,
    win_last: bool,
    mut observe: impl FnMut(&Race, Step),
) -> (RaceResult, u32) {
    let total = aaaa.len() + a.len();
    let mut now = Instant::ZERO;
    let tick = core::time::Duration::from_millis(1);
    let mut race =
        Race::new(Config::default(), Target::host("bench.example", 443), now).expect("valid race");
    observe(&race, Step::New);
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
                Action::Finished(result) => {
                    observe(&race, Step::Poll);
                    return (result, inputs);
                }
                _ => {}
            }
        }
        observe(&race, Step::Poll);
        now = now + tick;
        inputs += 1;
        let step = if let Some(list) = aaaa.take() {
            let id = queries[0].expect("AAAA asked");
            race.handle_dns(now, id, DnsAnswer::Addresses(list))
                .expect("answer");
            Step::AnswerAaaa
        } else if let Some(list) = a.take() {
            let id = queries[1].expect("A asked");
            race.handle_dns(now, id, DnsAnswer::Addresses(list))
                .expect("answer");
            Step::AnswerA
        } else if let Some(id) = pending.take() {
            if win_last && started == total {
                race.handle_connected(now, id).expect("result");
                Step::Connected
            } else {
                race.handle_failed(now, id, AttemptFailure::Refused)
                    .expect("result");
                Step::Failed
            }
        } else {
            let t = race.poll_timeout().unwrap_or(now);
            now = now.max(t);
            race.handle_timeout(now).expect("timeout");
            Step::Timeout
        };
        observe(&race, step);
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
/// Some thread records where its allocations are made ([`allocation_sites`]).
static RECORDING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// This thread's recorded allocations, while it records.
    static SITES: RefCell<Option<Vec<RawSite>>> = const { RefCell::new(None) };
    /// Inside the recorder: its own allocations (the backtrace, the list) are not recorded.
    static IN_RECORDER: Cell<bool> = const { Cell::new(false) };
}

/// One recorded allocation: its size and the backtrace it was made from.
struct RawSite {
    bytes: usize,
    backtrace: std::backtrace::Backtrace,
}

/// Records an allocation of `bytes` on this thread if it records one.
fn record_site(bytes: usize) {
    if !RECORDING.load(Ordering::Relaxed) || IN_RECORDER.with(Cell::get) {
        return;
    }
    IN_RECORDER.with(|r| r.set(true));
    SITES.with(|sites| {
        if let Some(list) = sites.borrow_mut().as_mut() {
            let backtrace = std::backtrace::Backtrace::force_capture();
            list.push(RawSite { bytes, backtrace });
        }
    });
    IN_RECORDER.with(|r| r.set(false));
}

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
            record_site(layout.size());
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
        record_site(new_size);
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

/// One heap allocation of a race, and where the engine made it ([`allocation_sites`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocSite {
    /// The engine call during which it was made.
    pub step: Step,
    /// The bytes asked for (a reallocation counts its new size).
    pub bytes: usize,
    /// The innermost engine function on the stack, with its file and line
    /// (`Plan::set (plan.rs:217)`); `?` when the binary has no line tables for the engine.
    pub site: String,
    /// The library call that allocated, as the frame below the engine's names it, with the
    /// type it allocates for (`Vec<Endpoint>::push`, `String::clone`, ...).
    pub what: String,
}

/// The frames of a backtrace: (function, file:line) pairs, innermost first.
fn frames(backtrace: &std::backtrace::Backtrace) -> Vec<(String, String)> {
    let text = backtrace.to_string();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(at) = line.strip_prefix("at ") {
            if let Some(last) = out.last_mut() {
                last.1 = at.to_string();
            }
        } else if let Some((_, name)) = line.split_once(": ") {
            out.push((name.to_string(), String::new()));
        }
    }
    out
}

/// `eyeballs::plan::Plan::set` as `Plan::set`; generic arguments shortened the same way
/// (`push<eyeballs::plan::Endpoint, alloc::alloc::Global>` as `push<Endpoint>`).
fn short_name(name: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        // Keep the last two path segments of a type or function path (`Plan::set`), the
        // last one of a type argument's (`Endpoint`).
        let parts: Vec<&str> = word.split("::").collect();
        let keep = if out.ends_with('<') || out.ends_with(", ") {
            1
        } else {
            2
        };
        out.push_str(&parts[parts.len().saturating_sub(keep)..].join("::"));
        word.clear();
    };
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' || c == '#' || c == '{' || c == '}' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out.replace(", Global>", ">")
        .replace("<Global>", "")
        .replace(", Global", "")
}

/// Where `raw` was made: the innermost frame in the engine's sources, and the library frame
/// just inside it.
fn site_of(step: Step, raw: &RawSite) -> AllocSite {
    let frames = frames(&raw.backtrace);
    // The engine's small-vector module is the container, not the place: its caller is.
    let engine = frames.iter().position(|(_, at)| {
        at.contains("crates/eyeballs/src/") && !at.contains("crates/eyeballs/src/small.rs")
    });
    let (site, what) = match engine {
        Some(i) => {
            let (name, at) = &frames[i];
            let file = at.rsplit(['/', '\\']).next().unwrap_or(at);
            let file = file.rsplit_once(':').map_or(file, |(f, _)| f);
            let what = i
                .checked_sub(1)
                .and_then(|j| frames.get(j))
                .map_or_else(|| "?".to_string(), |(n, _)| short_name(n));
            (format!("{} ({file})", short_name(name)), what)
        }
        None => ("?".to_string(), "?".to_string()),
    };
    AllocSite {
        step,
        bytes: raw.bytes,
        site,
        what,
    }
}

/// Every heap allocation one [`race`] over `n` addresses makes after its answers are built
/// (so the caller's answer lists are not among them; the target's host name is), in order,
/// each with the step it belongs to and where the engine made it. `None` unless
/// [`CountingAlloc`] is the global allocator. Records a backtrace per allocation: slow, for
/// small races. Single-threaded use only.
pub fn allocation_sites(n: usize, win_last: bool) -> Option<Vec<AllocSite>> {
    if !counting_installed() {
        return None;
    }
    let (v6, v4) = answers(n);
    let mut steps: Vec<(usize, Step)> = Vec::new();
    SITES.with(|s| *s.borrow_mut() = Some(Vec::new()));
    RECORDING.store(true, Ordering::Relaxed);
    let recorded = || SITES.with(|s| s.borrow().as_ref().map_or(0, Vec::len));
    race_with(v6, v4, win_last, |_, step| {
        IN_RECORDER.with(|r| r.set(true));
        steps.push((recorded(), step));
        IN_RECORDER.with(|r| r.set(false));
    });
    RECORDING.store(false, Ordering::Relaxed);
    let raw = SITES.with(|s| s.borrow_mut().take()).unwrap_or_default();
    // Each allocation belongs to the first step observed after it was made.
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let step = steps
            .iter()
            .find(|(count, _)| *count > i)
            .map_or(Step::Poll, |&(_, step)| step);
        out.push(site_of(step, r));
    }
    Some(out)
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

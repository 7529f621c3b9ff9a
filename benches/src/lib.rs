//! Shared pieces of the eyeballs benchmarks: a scripted race driven straight through the engine
//! (no simulator, so that only the engine's own cost is measured) and a counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};

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
pub fn race(aaaa: Vec<IpAddr>, a: Vec<IpAddr>, win_last: bool) -> (RaceResult, u32) {
    let total = aaaa.len() + a.len();
    let mut now = Instant::ZERO;
    let tick = core::time::Duration::from_millis(1);
    let mut race =
        Race::new(Config::default(), Target::host("bench.example", 443), now).expect("valid race");
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
                Action::Start(att) => {
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
    }
}

/// A global allocator that counts allocations and bytes, for allocation benchmarks.
pub struct CountingAlloc;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to the system allocator unchanged; the counters are atomics.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// (allocations, bytes) counted so far by [`CountingAlloc`].
pub fn allocation_counts() -> (u64, u64) {
    (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}

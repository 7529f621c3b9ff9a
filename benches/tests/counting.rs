//! The counting allocator and the engine footprint built on it (one test, so that no other
//! test thread allocates while it measures).

use eyeballs_benches::{
    CountingAlloc, Step, allocation_counts, allocation_sites, answers, counting_installed,
    engine_footprint, measure_heap, race, race_addresses, set_counting,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn counts_allocations_live_bytes_and_peaks() {
    assert!(counting_installed());

    // A 4 KiB block held, then freed: the peak sees it, the allocation count has it.
    let (before, _) = allocation_counts();
    let (peak, allocs) = measure_heap(|| {
        let block = std::hint::black_box(vec![0u8; 4096]);
        drop(block);
    })
    .unwrap();
    assert_eq!(allocs, 1);
    assert_eq!(peak, 4096);
    assert!(allocation_counts().0 > before);

    // Growing a vector: the peak is the largest size held, not the sum of the sizes.
    let (peak, _) = measure_heap(|| {
        let mut v: Vec<u64> = Vec::with_capacity(1);
        for i in 0..1000 {
            v.push(std::hint::black_box(i));
        }
    })
    .unwrap();
    assert!((8000..=2 * 8192).contains(&peak), "{peak}");

    // The engine's footprint is deterministic and grows with the addresses. The counters
    // are process-wide and another thread (the test harness) may allocate during one
    // measurement, so the footprint is the smallest of a few measurements.
    let footprint = |n| {
        (0..5)
            .filter_map(|_| engine_footprint(n, true))
            .min_by_key(|f| (f.peak_heap, f.allocations))
            .unwrap()
    };
    let two = footprint(2);
    assert_eq!(footprint(2), two);
    let many = footprint(64);
    assert!(many.peak_heap > two.peak_heap);
    assert_eq!(two.bytes_per_race(), two.race_size as u64 + two.peak_heap);
    let addrs = vec!["[::1]:1".parse().unwrap(), "127.0.0.1:1".parse().unwrap()];
    let (pre, _) = measure_heap(|| {
        let _ = race_addresses(addrs);
    })
    .unwrap();
    assert!(pre > 0);

    // Where the allocations are made: one site per allocation the counter sees (the fewest
    // of a few runs, for the harness thread), each in an engine file, the host name's among
    // them (made by `Target::host`, before `Race::new`'s first step ends).
    let sites = allocation_sites(8, true).unwrap();
    let counted = (0..5)
        .map(|_| {
            let (v6, v4) = answers(8);
            let (before, _) = allocation_counts();
            let _ = race(v6, v4, true);
            allocation_counts().0 - before
        })
        .min()
        .unwrap();
    assert_eq!(sites.len() as u64, counted, "{sites:#?}");
    assert!(sites.iter().all(|s| s.site.contains(".rs:")), "{sites:#?}");
    assert!(
        sites
            .iter()
            .any(|s| s.step == Step::New && s.site.contains("race.rs")),
        "{sites:#?}"
    );

    // Issue 14: a 2-address race won on the last makes at most two allocations beyond its
    // answers (the host name's, by `Target::host`, and the outcome's list of failed attempts)
    // and holds at most 1 KiB, `size_of::<Race>()` and the answers included.
    let sites = allocation_sites(2, true).unwrap();
    assert!(sites.len() <= 2, "{sites:#?}");
    assert!(two.bytes_per_race() <= 1024, "{two:?}");

    // Switched off, nothing is counted and the footprint says it cannot measure.
    set_counting(false);
    assert!(!counting_installed());
    assert_eq!(engine_footprint(2, true), None);
    set_counting(true);
    assert!(counting_installed());
}

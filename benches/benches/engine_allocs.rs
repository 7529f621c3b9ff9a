//! Heap allocations and memory per race, counted by a global allocator (prints a table; no
//! timing).

use eyeballs_benches::{CountingAlloc, allocation_counts, answers, engine_footprint, race};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    println!(
        "| addresses | outcome | allocations per race | bytes allocated per race | peak heap held | bytes per race (`size_of::<Race>()` + peak heap) |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    let mut two_address_allocs = None;
    for (label, win) in [("won on the last", true), ("all failed", false)] {
        for n in [2usize, 8, 32, 256] {
            let (v6, v4) = answers(n);
            // Warm up once (lazy statics), then measure 100 races.
            let _ = race(v6.clone(), v4.clone(), win);
            let runs = 100u64;
            let mut allocs = 0;
            let mut bytes = 0;
            for _ in 0..runs {
                let (aaaa, a) = (v6.clone(), v4.clone());
                let before = allocation_counts();
                let _ = race(aaaa, a, win);
                let after = allocation_counts();
                allocs += after.0 - before.0;
                bytes += after.1 - before.1;
            }
            // The footprint builds the answers inside its measurement: they count there.
            let (peak, total) = match engine_footprint(n, win) {
                Some(f) => (f.peak_heap.to_string(), f.bytes_per_race().to_string()),
                None => ("?".into(), "?".into()),
            };
            println!(
                "| {n} | {label} | {} | {} | {peak} | {total} |",
                allocs / runs,
                bytes / runs
            );
            if n == 2 && win {
                two_address_allocs = Some(allocs / runs);
            }
        }
    }
    // The answers are the caller's allocations: the target allows the engine none of its own.
    if let Some(a) = two_address_allocs {
        let verdict = if a == 0 { "met" } else { "**missed**" };
        println!(
            "\nTarget \"a 2-address race with no allocation beyond the address list\": {a} \
             allocations by the engine ({verdict})."
        );
    }
}

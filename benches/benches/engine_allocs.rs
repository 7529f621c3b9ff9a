//! Heap allocations and memory per race, counted by a global allocator, and where the engine
//! makes each allocation of a small race (prints Markdown; no timing).

use eyeballs_benches::{
    AllocSite, CountingAlloc, allocation_counts, allocation_sites, answers, engine_footprint, race,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Why the engine makes an allocation at `s`, as far as this table knows the engine's
/// sites (empty for one it does not know: the "where" and "what" columns still say).
fn why(s: &AllocSite) -> &'static str {
    let at = |f: &str| s.site.starts_with(f);
    if at("host (race.rs") {
        "the host name: the caller's (`Target::host`), shared as an `Arc<str>` by the race and its `Resolve` actions"
    } else if at("errors (attempts.rs") {
        "the outcome's failed attempts (`Outcome::attempt_errors`, a public `Vec`), exactly as many as failed"
    } else if at("rebuild (race.rs") {
        "the endpoints built from the answers, more than the four kept inline (freed once sorted)"
    } else if at("set (plan.rs") && s.what.contains("Entry") {
        "the plan's pending endpoints, more than the one kept inline"
    } else if at("set (plan.rs") {
        "the sort's scratch (order, merge buffer, keys, dropped marks) for more than four endpoints (freed once sorted)"
    } else if at("take (plan.rs") {
        "the plan's attempted endpoints (family, group), more than the two kept inline"
    } else if at("start (attempts.rs") {
        "the attempt records (`Race::attempts`), more than the two kept inline"
    } else {
        ""
    }
}

fn main() {
    println!(
        "| addresses | outcome | allocations per race | bytes allocated per race | peak heap held | bytes per race (`size_of::<Race>()` + peak heap) |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    let mut two_address = None;
    for (label, win) in [("won on the last", true), ("all failed", false)] {
        for n in [2usize, 8, 32, 256, 100_000] {
            let (v6, v4) = answers(n);
            // Warm up once (lazy statics), then measure 100 races (one for the largest).
            let _ = race(v6.clone(), v4.clone(), win);
            let runs = if n > 10_000 { 1 } else { 100u64 };
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
            let footprint = engine_footprint(n, win);
            let (peak, total) = match footprint {
                Some(f) => (f.peak_heap.to_string(), f.bytes_per_race().to_string()),
                None => ("?".into(), "?".into()),
            };
            println!(
                "| {n} | {label} | {} | {} | {peak} | {total} |",
                allocs / runs,
                bytes / runs
            );
            if n == 2 && win {
                two_address = Some((allocs / runs, footprint));
            }
        }
    }
    let Some((allocs, footprint)) = two_address else {
        return;
    };
    // The answers are the caller's allocations: the target allows the engine two of its own
    // (the goal: none).
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    println!(
        "\nTarget \"a 2-address race won on the last makes at most 2 allocations (goal: none) \
         beyond the answers\": {allocs} ({}).",
        verdict(allocs <= 2)
    );
    if let Some(f) = footprint {
        println!(
            "\nTarget \"at most 1,024 bytes per 2-address race\": {} bytes: `size_of::<Race>()` \
             {} + peak heap {} (the two one-address answers included) ({}).",
            f.bytes_per_race(),
            f.race_size,
            f.peak_heap,
            verdict(f.bytes_per_race() <= 1024)
        );
    }
    for (n, label) in [(2usize, "2-address"), (8, "8-address")] {
        let Some(sites) = allocation_sites(n, true) else {
            return;
        };
        println!(
            "\nWhere the allocations of a {label} race won on the last are made \
             (`eyeballs_benches::allocation_sites`: a backtrace per allocation; the innermost \
             engine frame, and the library call inside it):\n"
        );
        if sites.is_empty() {
            println!("None.");
            continue;
        }
        println!("| # | during | bytes | where | what | why |\n|---:|---|---:|---|---|---|");
        for (i, s) in sites.iter().enumerate() {
            println!(
                "| {} | `{}` | {} | `{}` | `{}` | {} |",
                i + 1,
                s.step.name(),
                s.bytes,
                s.site,
                s.what,
                why(s)
            );
        }
        let total: usize = sites.iter().map(|s| s.bytes).sum();
        println!("| | | **{total}** | | | |");
    }
}

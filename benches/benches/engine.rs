//! Engine speed: one full race (DNS phase included) for 2, 8, 32, 256 and 100,000 addresses,
//! won on the last address or failing on all, and the cost per input event. The 100,000-address
//! races take tens of milliseconds each: they run with criterion's smallest sample count.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use eyeballs_benches::{answers, race};

fn full_race(c: &mut Criterion) {
    for (label, win) in [("win_last", true), ("all_fail", false)] {
        let mut group = c.benchmark_group(format!("race/{label}"));
        for n in [2usize, 8, 32, 256, 100_000] {
            let (v6, v4) = answers(n);
            let large = n > 10_000;
            group.sample_size(if large { 10 } else { 100 });
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter_batched(
                    || (v6.clone(), v4.clone()),
                    |(aaaa, a)| race(aaaa, a, win),
                    if large {
                        criterion::BatchSize::LargeInput
                    } else {
                        criterion::BatchSize::SmallInput
                    },
                )
            });
        }
        group.finish();
    }
}

fn per_event(c: &mut Criterion) {
    // The same races, counted per input event (DNS answers, results, timeouts).
    let mut group = c.benchmark_group("race/per_input");
    for n in [2usize, 256] {
        let (v6, v4) = answers(n);
        let (_, inputs) = race(v6.clone(), v4.clone(), true);
        group.throughput(Throughput::Elements(u64::from(inputs)));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_batched(
                || (v6.clone(), v4.clone()),
                |(aaaa, a)| race(aaaa, a, true),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, full_race, per_event);
criterion_main!(benches);

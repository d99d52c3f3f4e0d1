//! The drop-oldest queue against a `VecDeque` model, and under concurrent load.

use gbwatch::pipeline::DropOldestQueue;
use proptest::prelude::*;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

#[derive(Debug, Clone)]
enum Op {
    Push,
    Pop,
    PopNewest,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![4 => Just(Op::Push), 2 => Just(Op::Pop), 1 => Just(Op::PopNewest)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matches_the_model(capacity in 1usize..16, ops in proptest::collection::vec(op(), 0..300)) {
        let q = DropOldestQueue::new(capacity);
        let mut model: VecDeque<u64> = VecDeque::new();
        let (mut next, mut delivered, mut dropped) = (0u64, 0u64, 0u64);
        let mut seen = HashSet::new();
        for op in ops {
            match op {
                Op::Push => {
                    let evicted = q.push(next);
                    model.push_back(next);
                    let expect = if model.len() > capacity { dropped += 1; model.pop_front() } else { None };
                    prop_assert_eq!(evicted, expect);
                    next += 1;
                }
                Op::Pop => {
                    let got = q.pop();
                    prop_assert_eq!(got, model.pop_front());
                    if let Some(v) = got { delivered += 1; prop_assert!(seen.insert(v)); }
                }
                Op::PopNewest => {
                    let got = q.pop_newest();
                    let newest = model.pop_back();
                    prop_assert_eq!(got, newest);
                    if let Some(v) = got {
                        delivered += 1;
                        dropped += model.len() as u64;
                        model.clear();
                        prop_assert!(seen.insert(v));
                        // The newest item pushed so far is what a latest-wins consumer gets.
                        prop_assert_eq!(v, next - 1);
                    }
                }
            }
            let c = q.counts();
            prop_assert!(c.queued as usize <= capacity);
            prop_assert_eq!(c.queued as usize, model.len());
            prop_assert_eq!(c.pushed, next);
            prop_assert_eq!(c.delivered, delivered);
            prop_assert_eq!(c.dropped, dropped);
            prop_assert_eq!(c.pushed, c.delivered + c.dropped + c.queued);
        }
        // The newest pushed item is never dropped: it is still queued or was delivered.
        if next > 0 {
            prop_assert!(model.back() == Some(&(next - 1)) || seen.contains(&(next - 1)));
        }
    }
}

#[test]
fn concurrent_producers_and_consumers_count_every_item_once() {
    let q = Arc::new(DropOldestQueue::new(10));
    let per_producer = 200_000u64;
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..per_producer {
                    q.push(p * per_producer + i);
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|c| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let item = if c == 0 { q.pop() } else { q.pop_newest() };
                    match item {
                        Some(v) => got.push(v),
                        None if q.is_closed() => {
                            // Drain what is left after the producers finished.
                            while let Some(v) = q.pop() {
                                got.push(v);
                            }
                            return got;
                        }
                        None => std::thread::yield_now(),
                    }
                    let c = q.counts();
                    assert_eq!(c.pushed, c.delivered + c.dropped + c.queued);
                    assert!(c.queued <= 10);
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.close();
    let mut all = HashSet::new();
    for c in consumers {
        for v in c.join().unwrap() {
            assert!(all.insert(v), "item {v} delivered twice");
        }
    }
    let c = q.counts();
    assert_eq!(c.pushed, 2 * per_producer);
    assert_eq!(c.queued, 0);
    assert_eq!(c.delivered, all.len() as u64);
    assert_eq!(c.pushed, c.delivered + c.dropped);
    // Each producer's last item is the newest it pushed: a drop-oldest queue keeps the newest.
    assert!(all.contains(&(per_producer - 1)) || all.contains(&(2 * per_producer - 1)));
}

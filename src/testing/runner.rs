//! Running many independent jobs (suite files, cases) on a few threads with
//! their results handed back **in input order**, each as soon as it and every
//! job before it are done: a long suite prints as it goes, and the output of
//! `-j 8` is the output of `-j 1`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// The default number of worker threads: the machine's parallelism.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Runs `work` on each item with `jobs` threads and calls `emit(index,
/// result)` in index order on the calling thread. `emit` returning
/// `Break` stops the run (no new items are started; results already being
/// computed are dropped).
pub fn ordered<T, R, W, E>(items: &[T], jobs: usize, work: W, mut emit: E)
where
    T: Sync,
    R: Send,
    W: Fn(usize, &T) -> R + Sync,
    E: FnMut(usize, R) -> ControlFlow<()>,
{
    let jobs = jobs.max(1).min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, R)>();
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, stop, work) = (&next, &stop, &work);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if tx.send((i, work(i, item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0usize;
        for (i, r) in rx {
            pending.insert(i, r);
            while let Some(r) = pending.remove(&want) {
                if emit(want, r).is_break() {
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
                want += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_input_order() {
        let items: Vec<u64> = (0..200).collect();
        let mut seen = Vec::new();
        ordered(
            &items,
            4,
            |_, &x| {
                // Uneven work so results finish out of order.
                std::thread::sleep(std::time::Duration::from_micros((200 - x) * 3));
                x * 2
            },
            |i, r| {
                seen.push((i, r));
                ControlFlow::Continue(())
            },
        );
        assert_eq!(seen, items.iter().map(|&x| (x as usize, x * 2)).collect::<Vec<_>>());
        let mut n = 0;
        ordered(
            &items,
            2,
            |_, &x| x,
            |_, _| {
                n += 1;
                if n == 5 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(n, 5);
    }
}

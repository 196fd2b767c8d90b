//! What this port promises beyond `queues_test.py`: a getter or putter that goes away (a
//! dropped future, a timeout) never loses, duplicates or inserts an item; and a randomized
//! test of interleavings of put, get, timeouts and drops.

mod support;

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use support::{gen_test, ms, now, spawn};
use tornado_gen::{moment, sleep};
use tornado_ioloop::Task;
use tornado_queues::{Get, LifoQueue, PriorityQueue, Put, Queue, QueueEmpty, QueueFull};

/// What this port promises beyond Tornado's tests: nothing is lost to a future that goes
/// away, and nothing is put by one that gave up.
mod cancellation {
    use super::*;

    #[test]
    fn dropped_getter_passes_its_item_to_the_next_getter() {
        let q = Queue::new();
        let first: Get<i32> = q.get();
        let mut second = q.get();
        q.put_nowait(1).unwrap();
        drop(first);
        assert_eq!(now(&mut second), Some(1));
    }

    #[test]
    fn dropped_getter_puts_its_item_back_at_the_head() {
        let q = Queue::new();
        let get = q.get();
        q.put_nowait(1).unwrap(); // to the getter
        q.put_nowait(2).unwrap();
        drop(get);
        assert_eq!(q.get_nowait(), Ok(1));
        assert_eq!(q.get_nowait(), Ok(2));
        assert_eq!(q.unfinished_tasks(), 2);
    }

    #[test]
    fn get_dropped_unpolled_gives_the_item_back() {
        let q = Queue::new();
        q.put_nowait(1).unwrap();
        drop(q.get());
        assert_eq!(q.get_nowait(), Ok(1));
    }

    #[test]
    fn returned_item_may_exceed_maxsize_briefly() {
        let q = Queue::with_maxsize(1);
        let get = q.get();
        q.put_nowait('a').unwrap(); // to the getter
        q.put_nowait('b').unwrap(); // the free slot
        drop(get);
        assert_eq!(q.qsize(), 2);
        assert!(q.full());
        assert_eq!(q.put_nowait('c'), Err(QueueFull('c')));
        assert_eq!(q.get_nowait(), Ok('a'));
        assert_eq!(q.get_nowait(), Ok('b'));
    }

    #[test]
    fn dropped_putter_withdraws_its_item() {
        let q = Queue::with_maxsize(1);
        q.put_nowait(0).unwrap();
        let put = q.put(1);
        assert_eq!(q.putters(), 1);
        drop(put);
        assert_eq!(q.putters(), 0);
        assert_eq!(q.get_nowait(), Ok(0));
        assert_eq!(q.get_nowait(), Err(QueueEmpty));
    }

    #[test]
    fn zero_timeout_put_on_a_full_queue_fails_at_once() {
        let q = Queue::with_maxsize(1);
        q.put_nowait(0).unwrap();
        let mut put = q.put_timeout(1, Duration::ZERO);
        assert!(matches!(now(&mut put), Some(Err(_))));
        assert_eq!(q.putters(), 0);
        assert_eq!(q.qsize(), 1);
    }

    #[test]
    fn stream_dropped_while_waiting_loses_nothing() {
        gen_test(|| async {
            let q = Queue::new();
            let mut items = q.stream();
            // Poll once so that the stream waits in line, then serve it and drop it.
            assert!(
                std::future::poll_fn(|cx| Poll::Ready(items.poll_next(cx)))
                    .await
                    .is_pending()
            );
            q.put_nowait(7).unwrap();
            drop(items);
            assert_eq!(q.get_nowait(), Ok(7));
        });
    }
}

/// A small deterministic generator (xorshift64*), so that the randomized test needs no
/// dependency and replays exactly.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

#[derive(Default)]
struct Ledger {
    /// Items whose put reported success.
    put: HashSet<u64>,
    /// Items whose put reported a timeout.
    timed_out: HashSet<u64>,
    /// Items some getter received, in order, duplicates kept so that they are caught.
    received: Vec<u64>,
}

/// Random interleavings of put, put_nowait, get, get_nowait, timeouts (zero, short, none),
/// dropped getter and putter tasks, dropped unpolled futures and loop iterations, over the
/// three kinds of queue, bounded and not: every item whose put succeeded is received exactly
/// once (or is still in the queue at the end), no item is received twice, and no item whose
/// put timed out is ever received.
#[test]
fn random_interleavings_never_lose_or_duplicate_an_item() {
    for seed in 1..=40u64 {
        gen_test(move || async move {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let maxsize = [0, 1, 2, 5][rng.below(4) as usize];
            let q: Queue<u64> = match seed % 3 {
                0 => Queue::with_maxsize(maxsize),
                1 => PriorityQueue::with_maxsize(maxsize).into(),
                _ => LifoQueue::with_maxsize(maxsize).into(),
            };
            let ledger = Rc::new(RefCell::new(Ledger::default()));
            let mut tasks: Vec<Task<()>> = Vec::new();
            let mut held_gets: Vec<Get<u64>> = Vec::new();
            let mut held_puts: Vec<(u64, Put<u64>)> = Vec::new();
            let mut next_item = 0u64;
            // A timeout: none, zero, or a few milliseconds.
            let pick_timeout = |rng: &mut Rng| match rng.below(4) {
                0 => None,
                1 => Some(Duration::ZERO),
                n => Some(ms(n - 1)),
            };
            for _ in 0..300 {
                match rng.below(10) {
                    0 | 1 => {
                        let (q, ledger) = (q.clone(), ledger.clone());
                        let get = match pick_timeout(&mut rng) {
                            None => Ok(q.get()),
                            Some(t) => Err(q.get_timeout(t)),
                        };
                        tasks.push(spawn(async move {
                            let item = match get {
                                Ok(get) => Some(get.await),
                                Err(get) => get.await.ok(),
                            };
                            ledger.borrow_mut().received.extend(item);
                        }));
                    }
                    2 | 3 => {
                        let item = next_item;
                        next_item += 1;
                        let (q, ledger) = (q.clone(), ledger.clone());
                        let put = match pick_timeout(&mut rng) {
                            None => Ok(q.put(item)),
                            Some(t) => Err(q.put_timeout(item, t)),
                        };
                        tasks.push(spawn(async move {
                            let done = match put {
                                Ok(put) => {
                                    put.await;
                                    true
                                }
                                Err(put) => put.await.is_ok(),
                            };
                            let mut l = ledger.borrow_mut();
                            let set = if done { &mut l.put } else { &mut l.timed_out };
                            set.insert(item);
                        }));
                    }
                    4 => {
                        let item = next_item;
                        next_item += 1;
                        match q.put_nowait(item) {
                            Ok(()) => ledger.borrow_mut().put.insert(item),
                            Err(QueueFull(back)) => {
                                assert_eq!(back, item);
                                ledger.borrow_mut().timed_out.insert(item)
                            }
                        };
                    }
                    5 => {
                        if let Ok(item) = q.get_nowait() {
                            ledger.borrow_mut().received.push(item);
                        }
                    }
                    6 => {
                        // Cancel a task: waiting, served but not run yet, or finished.
                        if !tasks.is_empty() {
                            let i = rng.below(tasks.len() as u64) as usize;
                            tasks.swap_remove(i).cancel();
                        }
                    }
                    7 => {
                        // Futures held without a task: drop one, poll one, or make one.
                        match rng.below(4) {
                            0 if !held_gets.is_empty() => {
                                let i = rng.below(held_gets.len() as u64) as usize;
                                drop(held_gets.swap_remove(i));
                            }
                            1 if !held_gets.is_empty() => {
                                let i = rng.below(held_gets.len() as u64) as usize;
                                if let Some(item) = now(&mut held_gets[i]) {
                                    drop(held_gets.swap_remove(i));
                                    ledger.borrow_mut().received.push(item);
                                }
                            }
                            2 if !held_puts.is_empty() => {
                                let i = rng.below(held_puts.len() as u64) as usize;
                                if now(&mut held_puts[i].1).is_some() {
                                    let (item, _) = held_puts.swap_remove(i);
                                    ledger.borrow_mut().put.insert(item);
                                } else if rng.below(2) == 0 {
                                    drop(held_puts.swap_remove(i));
                                }
                            }
                            0 | 1 => held_gets.push(q.get()),
                            _ => {
                                held_puts.push((next_item, q.put(next_item)));
                                next_item += 1;
                            }
                        }
                    }
                    8 => sleep(ms(rng.below(3))).await,
                    _ => moment().await,
                }
            }
            // Everything that waits goes away; what it held must come back.
            for t in tasks.drain(..) {
                t.cancel();
            }
            held_gets.clear();
            held_puts.clear();
            assert_eq!((q.getters(), q.putters()), (0, 0), "seed {seed}");
            let ledger = ledger.borrow();
            let mut delivered = ledger.received.clone();
            delivered.extend(std::iter::from_fn(|| q.get_nowait().ok()));
            let unique: HashSet<u64> = delivered.iter().copied().collect();
            assert_eq!(
                unique.len(),
                delivered.len(),
                "seed {seed}: an item came out twice"
            );
            assert!(
                ledger.put.is_subset(&unique),
                "seed {seed}: an item that was put got lost"
            );
            assert!(
                ledger.timed_out.is_disjoint(&unique),
                "seed {seed}: an item whose put timed out got in"
            );
            // Items admitted (put and never marked done) are exactly those that came out.
            assert_eq!(delivered.len(), q.unfinished_tasks(), "seed {seed}");
        });
    }
}

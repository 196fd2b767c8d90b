//! Port of `tornado/test/queues_test.py` (`QueueBasicTest`, `QueueGetTest`, `QueuePutTest`,
//! `QueueJoinTest` with its `PriorityQueue` and `LifoQueue` variants,
//! `ProducerConsumerTest`), one module per Tornado class, tests by Tornado's names; then
//! tests of this port's own promises (nothing lost to a future that goes away) and a
//! randomized test of random interleavings of put, get, timeouts and drops.
//!
//! Not ported: `test_float_maxsize` (`maxsize` is a `usize`) and the `TypeError` /
//! `ValueError` halves of `test_maxsize` (a `usize` is neither `None` nor negative).
//!
//! Tornado checks `future.done()` right after a call; here [`now`] polls a future once with
//! a no-op waker, the same question since gets and puts act when called. Where Tornado
//! discards `q.get()` to take an item, this port calls `get_nowait()`: a dropped `Get`
//! gives its item back. Timing: deadlines that must not expire before the next statement
//! are 100 ms or more away, so a slow machine cannot fail a test.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tornado_gen::{moment, sleep};
use tornado_ioloop::{IoLoop, Task};
use tornado_queues::{
    Get, GetTimeout, LifoQueue, PriorityQueue, Put, PutTimeout, Queue, QueueEmpty, QueueFull,
};

/// `@gen_test`: runs on a fresh loop, failing after 10 seconds.
fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(10)))
        .expect("test finished in time");
    io_loop.close().unwrap();
}

/// Polls once: `Some(output)` if the future is done (Tornado's `future.done()`).
fn now<F: Future + Unpin>(f: &mut F) -> Option<F::Output> {
    match Pin::new(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn spawn<F: Future + 'static>(f: F) -> Task<F::Output> {
    IoLoop::current().spawn(f)
}

mod queue_basic_test {
    use super::*;

    #[test]
    fn test_repr_and_str() {
        let q: Queue<()> = Queue::with_maxsize(1);
        let _get = q.get();
        let repr = format!("{q:?}");
        assert!(repr.starts_with("Queue"));
        assert!(repr.contains("maxsize: 1"));
        assert!(repr.contains("getters: 1"));
        assert!(repr.contains("putters: 0"));
        assert!(repr.contains("tasks: 0"));

        let _put0 = q.put(()); // to the getter
        let _put1 = q.put(()); // into the queue
        // Now the queue is full, this putter blocks.
        let _put2 = q.put(());
        let repr = format!("{q:?}");
        assert!(repr.contains("getters: 0"));
        assert!(repr.contains("putters: 1"));
        assert!(repr.contains("tasks: 2"));
    }

    #[test]
    fn test_order() {
        let q = Queue::new();
        for i in [1, 3, 2] {
            q.put_nowait(i).unwrap();
        }
        let items: Vec<i32> = (0..3).map(|_| q.get_nowait().unwrap()).collect();
        assert_eq!(items, [1, 3, 2]);
    }

    #[test]
    fn test_maxsize() {
        gen_test(|| async {
            let q = Queue::with_maxsize(2);
            assert!(q.empty());
            assert!(!q.full());
            assert_eq!(q.maxsize(), 2);
            assert!(now(&mut q.put(0)).is_some());
            assert!(now(&mut q.put(1)).is_some());
            assert!(!q.empty());
            assert!(q.full());
            let mut put2 = q.put(2);
            assert!(now(&mut put2).is_none());
            assert_eq!(q.get().await, 0); // Make room.
            assert!(now(&mut put2).is_some());
            assert!(!q.empty());
            assert!(q.full());
        });
    }
}

mod queue_get_test {
    use super::*;

    #[test]
    fn test_blocking_get() {
        gen_test(|| async {
            let q = Queue::new();
            q.put_nowait(0).unwrap();
            assert_eq!(q.get().await, 0);
        });
    }

    #[test]
    fn test_nonblocking_get() {
        let q = Queue::new();
        q.put_nowait(0).unwrap();
        assert_eq!(q.get_nowait(), Ok(0));
    }

    #[test]
    fn test_nonblocking_get_exception() {
        let q: Queue<i32> = Queue::new();
        assert_eq!(q.get_nowait(), Err(QueueEmpty));
    }

    #[test]
    fn test_get_with_putters() {
        gen_test(|| async {
            let q = Queue::with_maxsize(1);
            q.put_nowait(0).unwrap();
            let put = q.put(1);
            assert_eq!(q.get().await, 0);
            put.await;
            assert_eq!(q.get_nowait(), Ok(1));
        });
    }

    #[test]
    fn test_blocking_get_wait() {
        gen_test(|| async {
            let q = Queue::new();
            q.put(0).await;
            let (q1, q2) = (q.clone(), q.clone());
            IoLoop::current().call_later(ms(10), move || q1.put_nowait(1).unwrap());
            IoLoop::current().call_later(ms(20), move || q2.put_nowait(2).unwrap());
            assert_eq!(q.get_timeout(Duration::from_secs(5)).await, Ok(0));
            assert_eq!(q.get_timeout(Duration::from_secs(5)).await, Ok(1));
        });
    }

    #[test]
    fn test_get_timeout() {
        gen_test(|| async {
            let q = Queue::new();
            let get_timeout = q.get_timeout(ms(10));
            let get = q.get();
            assert!(get_timeout.await.is_err());
            q.put_nowait(0).unwrap();
            assert_eq!(get.await, 0);
        });
    }

    #[test]
    fn test_get_zero_timeout() {
        gen_test(|| async {
            let q: Queue<i32> = Queue::new();
            // Answered at once: the first poll fails, without a trip through the loop.
            let mut zero = q.get_timeout(Duration::ZERO);
            assert!(matches!(now(&mut zero), Some(Err(_))));
            assert!(q.get_timeout(IoLoop::current().time()).await.is_err());
            assert_eq!(q.getters(), 0);
        });
    }

    #[test]
    fn test_get_timeout_preempted() {
        gen_test(|| async {
            let q = Queue::new();
            let get = q.get_timeout(ms(100));
            q.put(0).await;
            sleep(ms(200)).await;
            // Served before its deadline, delivered after it: still the item.
            assert_eq!(get.await, Ok(0));
        });
    }

    #[test]
    fn test_get_clears_timed_out_putters() {
        gen_test(|| async {
            let q = Queue::with_maxsize(1);
            // The first putter succeeds, the others block.
            let mut putters: Vec<PutTimeout<i32>> =
                (0..10).map(|i| q.put_timeout(i, ms(100))).collect();
            let mut put = q.put(10);
            assert_eq!(q.putters(), 10);
            sleep(ms(200)).await;
            // Their tasks never ran (nobody polls them): still in line, as in Tornado.
            assert_eq!(q.putters(), 10);
            assert!(now(&mut put).is_none()); // The final putter is still active.
            let _put11 = q.put(11);
            assert_eq!(q.get().await, 0); // get() skips and clears the timed-out putters.
            assert_eq!(q.putters(), 1);
            assert!(now(&mut put).is_some());
            assert_eq!(now(&mut putters[0]), Some(Ok(())));
            for putter in &mut putters[1..] {
                assert!(matches!(now(putter), Some(Err(_))));
            }
            assert_eq!(q.get_nowait(), Ok(10), "no timed-out item got in");
        });
    }

    #[test]
    fn test_get_clears_timed_out_getters() {
        gen_test(|| async {
            let q: Queue<i32> = Queue::new();
            let mut getters: Vec<GetTimeout<i32>> =
                (0..10).map(|_| q.get_timeout(ms(100))).collect();
            let mut get = q.get();
            assert_eq!(q.getters(), 11);
            sleep(ms(200)).await;
            assert_eq!(q.getters(), 11);
            assert!(now(&mut get).is_none()); // The final waiter is still active.
            let _get2 = q.get(); // get() clears the timed-out getters.
            assert_eq!(q.getters(), 2);
            for getter in &mut getters {
                assert!(matches!(now(getter), Some(Err(_))));
            }
        });
    }

    #[test]
    fn test_async_for() {
        gen_test(|| async {
            let q = Queue::new();
            for i in 0..5 {
                q.put(i).await;
            }
            let mut results = Vec::new();
            let mut items = q.stream();
            while let Some(i) = items.next().await {
                results.push(i);
                if i == 4 {
                    break;
                }
            }
            assert_eq!(results, [0, 1, 2, 3, 4]);
        });
    }
}

mod queue_put_test {
    use super::*;

    #[test]
    fn test_blocking_put() {
        gen_test(|| async {
            let q = Queue::new();
            q.put(0).await;
            assert_eq!(q.get_nowait(), Ok(0));
        });
    }

    #[test]
    fn test_nonblocking_put_exception() {
        let q = Queue::with_maxsize(1);
        q.put_nowait(0).unwrap();
        assert_eq!(q.put_nowait(1), Err(QueueFull(1)), "the item comes back");
    }

    #[test]
    fn test_put_with_getters() {
        gen_test(|| async {
            let q = Queue::new();
            let get0 = q.get();
            let get1 = q.get();
            q.put(0).await;
            assert_eq!(get0.await, 0);
            q.put(1).await;
            assert_eq!(get1.await, 1);
        });
    }

    #[test]
    fn test_nonblocking_put_with_getters() {
        gen_test(|| async {
            let q = Queue::new();
            let get0 = q.get();
            let get1 = q.get();
            q.put_nowait(0).unwrap();
            moment().await;
            assert_eq!(get0.await, 0);
            q.put_nowait(1).unwrap();
            moment().await;
            assert_eq!(get1.await, 1);
        });
    }

    #[test]
    fn test_blocking_put_wait() {
        gen_test(|| async {
            let q = Queue::with_maxsize(1);
            q.put_nowait(0).unwrap();
            for delay in [10, 20] {
                let q = q.clone();
                IoLoop::current().call_later(ms(delay), move || {
                    q.get_nowait().unwrap();
                });
            }
            let mut futures: Vec<Put<i32>> = vec![q.put(0), q.put(1)];
            assert!(futures.iter_mut().all(|f| now(f).is_none()));
            for f in futures {
                f.await;
            }
        });
    }

    #[test]
    fn test_put_timeout() {
        gen_test(|| async {
            let q = Queue::with_maxsize(1);
            q.put_nowait(0).unwrap(); // Now it's full.
            let put_timeout = q.put_timeout(1, ms(10));
            let put = q.put(2);
            assert!(put_timeout.await.is_err());
            assert_eq!(q.get_nowait(), Ok(0));
            // 1 was never put in the queue.
            assert_eq!(q.get().await, 2);
            // The final get() unblocked this putter.
            put.await;
        });
    }

    #[test]
    fn test_put_timeout_preempted() {
        gen_test(|| async {
            let q = Queue::with_maxsize(1);
            q.put_nowait(0).unwrap();
            let put = q.put_timeout(1, ms(100));
            q.get_nowait().unwrap();
            sleep(ms(200)).await;
            assert_eq!(put.await, Ok(())); // No timeout.
        });
    }

    #[test]
    fn test_put_clears_timed_out_putters() {
        gen_test(|| async {
            let q = Queue::with_maxsize(1);
            // The first putter succeeds, the others block.
            let mut putters: Vec<PutTimeout<i32>> =
                (0..10).map(|i| q.put_timeout(i, ms(100))).collect();
            let mut put = q.put(10);
            assert_eq!(q.putters(), 10);
            sleep(ms(200)).await;
            assert_eq!(q.putters(), 10);
            assert!(now(&mut put).is_none()); // The final waiter is still active.
            let _put11 = q.put(11); // put() clears the timed-out putters.
            assert_eq!(q.putters(), 2);
            for putter in &mut putters[1..] {
                assert!(matches!(now(putter), Some(Err(_))));
            }
        });
    }

    #[test]
    fn test_put_clears_timed_out_getters() {
        gen_test(|| async {
            let q = Queue::new();
            let mut getters: Vec<GetTimeout<i32>> =
                (0..10).map(|_| q.get_timeout(ms(100))).collect();
            let get = q.get();
            let _get2 = q.get();
            assert_eq!(q.getters(), 12);
            sleep(ms(200)).await;
            assert_eq!(q.getters(), 12);
            q.put(0).await; // put() skips and clears the timed-out getters.
            assert_eq!(q.getters(), 1);
            assert_eq!(get.await, 0);
            for getter in &mut getters {
                assert!(matches!(now(getter), Some(Err(_))));
            }
        });
    }
}

/// `QueueJoinTest`, run for each kind of queue as Tornado's subclasses do.
macro_rules! queue_join_test {
    ($module:ident, $make:expr; $($extra:item)*) => {
        mod $module {
            use super::*;

            $($extra)*

            fn make() -> Queue<i32> {
                $make
            }

            #[test]
            fn test_task_done_underflow() {
                let q = make();
                assert!(q.task_done().is_err());
            }

            #[test]
            fn test_task_done() {
                gen_test(|| async {
                    let q = make();
                    for i in 0..100 {
                        q.put_nowait(i).unwrap();
                    }
                    let accumulator = Rc::new(RefCell::new(0));
                    // Two workers share the work.
                    for worker in 0..2 {
                        let (q, acc) = (q.clone(), accumulator.clone());
                        IoLoop::current().spawn_callback(async move {
                            for n in 0u64.. {
                                let item = q.get().await;
                                *acc.borrow_mut() += item;
                                q.task_done().unwrap();
                                // Tornado sleeps a random 0-10 ms; a fixed spread will do.
                                sleep(Duration::from_micros((n * 7 + worker) % 5 * 100)).await;
                            }
                        });
                    }
                    q.join().await;
                    assert_eq!(*accumulator.borrow(), (0..100).sum::<i32>());
                });
            }

            #[test]
            fn test_task_done_delay() {
                // It is task_done(), not get(), that unblocks join().
                gen_test(|| async {
                    let q = make();
                    q.put_nowait(0).unwrap();
                    let mut join = q.join();
                    assert!(now(&mut join).is_none());
                    q.get().await;
                    assert!(now(&mut join).is_none());
                    moment().await;
                    assert!(now(&mut join).is_none());
                    q.task_done().unwrap();
                    assert!(now(&mut join).is_some());
                });
            }

            #[test]
            fn test_join_empty_queue() {
                gen_test(|| async {
                    let q = make();
                    q.join().await;
                    q.join().await;
                });
            }

            #[test]
            fn test_join_timeout() {
                gen_test(|| async {
                    let q = make();
                    q.put(0).await;
                    assert!(q.join_timeout(ms(10)).await.is_err());
                });
            }
        }
    };
}

queue_join_test!(queue_join_test, Queue::new(););

queue_join_test!(priority_queue_join_test, PriorityQueue::new().into();
    #[test]
    fn test_order() {
        gen_test(|| async {
            let q = PriorityQueue::with_maxsize(2);
            q.put_nowait((1, "a")).unwrap();
            q.put_nowait((0, "b")).unwrap();
            assert!(q.full());
            let _c = q.put((3, "c"));
            let _d = q.put((2, "d"));
            assert_eq!(q.get_nowait(), Ok((0, "b")));
            assert_eq!(q.get().await, (1, "a"));
            assert_eq!(q.get_nowait(), Ok((2, "d")));
            assert_eq!(q.get().await, (3, "c"));
            assert!(q.empty());
        });
    }
);

queue_join_test!(lifo_queue_join_test, LifoQueue::new().into();
    #[test]
    fn test_order() {
        gen_test(|| async {
            let q = LifoQueue::with_maxsize(2);
            q.put_nowait(1).unwrap();
            q.put_nowait(0).unwrap();
            assert!(q.full());
            let _three = q.put(3);
            let _two = q.put(2);
            assert_eq!(q.get_nowait(), Ok(3));
            assert_eq!(q.get().await, 2);
            assert_eq!(q.get_nowait(), Ok(0));
            assert_eq!(q.get().await, 1);
            assert!(q.empty());
        });
    }
);

mod producer_consumer_test {
    use super::*;

    #[test]
    fn test_producer_consumer() {
        gen_test(|| async {
            let q = Queue::with_maxsize(3);
            let history = Rc::new(RefCell::new(Vec::new()));
            let (consumer_q, h) = (q.clone(), history.clone());
            IoLoop::current().spawn_callback(async move {
                loop {
                    let item = consumer_q.get().await;
                    h.borrow_mut().push(item);
                    consumer_q.task_done().unwrap();
                }
            });
            let producer_q = q.clone();
            spawn(async move {
                for item in 0..10 {
                    producer_q.put(item).await;
                }
            })
            .await
            .unwrap();
            q.join().await;
            assert_eq!(*history.borrow(), (0..10).collect::<Vec<_>>());
        });
    }
}

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

//! Port of `tornado/test/queues_test.py` (`QueueBasicTest`, `QueueGetTest`, `QueuePutTest`,
//! `QueueJoinTest` with its `PriorityQueue` and `LifoQueue` variants,
//! `ProducerConsumerTest`), one module per Tornado class, tests by Tornado's names. The tests
//! of this port's own promises (nothing lost to a future that goes away) and the randomized
//! test of interleavings of put, get, timeouts and drops are in `cancellation.rs`.
//!
//! Not ported: `test_float_maxsize` (`maxsize` is a `usize`) and the `TypeError` /
//! `ValueError` halves of `test_maxsize` (a `usize` is neither `None` nor negative).
//!
//! Tornado checks `future.done()` right after a call; here [`now`] polls a future once with
//! a no-op waker, the same question since gets and puts act when called. Where Tornado
//! discards `q.get()` to take an item, this port calls `get_nowait()`: a dropped `Get`
//! gives its item back. Timing: deadlines that must not expire before the next statement
//! are 100 ms or more away, so a slow machine cannot fail a test.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tornado_gen::{moment, sleep};
use tornado_ioloop::IoLoop;
use tornado_queues::{
    GetTimeout, LifoQueue, PriorityQueue, Put, PutTimeout, Queue, QueueEmpty, QueueFull,
};

use support::{gen_test, ms, now, spawn};

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

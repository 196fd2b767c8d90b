//! Port of `tornado/test/locks_test.py` (`ConditionTest`, `EventTest`, `SemaphoreTest`,
//! `SemaphoreContextManagerTest`, `BoundedSemaphoreTest`, `LockTests`), one module per
//! Tornado class, tests by Tornado's names; then tests of this port's own promises
//! (cancellation safety, zero timeouts) and a randomized test of semaphore permits.
//!
//! Not ported: `test_negative_value` (a `usize` cannot be negative), `test_yield_sem` /
//! `test_yield_lock` (`gen.BadYieldError` of the generator API) and
//! `test_context_manager_misuse` (plain `with` has no Rust counterpart).
//!
//! Tornado checks `future.done()` right after a call; here [`now`] polls a future once
//! with a no-op waker, which is the same question since waits take their place in line
//! (and permits) when called. Timing: every deadline that must *not* expire is seconds
//! away, so a slow machine cannot fail a test.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tornado_gen::{moment, sleep};
use tornado_ioloop::{IoLoop, Task};

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

type History = Rc<RefCell<Vec<String>>>;

fn history() -> History {
    Rc::new(RefCell::new(Vec::new()))
}

fn entries(h: &History) -> Vec<String> {
    h.borrow().clone()
}

/// Runs the callbacks and tasks queued now (Tornado's `loop_briefly`).
async fn loop_briefly() {
    moment().await;
}

mod condition_test {
    use super::*;
    use tornado_locks::{Condition, Wait};

    /// Records `key` when the wait is notified, `"timeout"` when it times out.
    fn record_done(history: &History, wait: Wait, key: impl ToString) {
        let (history, key) = (history.clone(), key.to_string());
        IoLoop::current().spawn_callback(async move {
            let entry = if wait.await { key } else { "timeout".into() };
            history.borrow_mut().push(entry);
        });
    }

    fn strs(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn test_repr() {
        let c = Condition::new();
        assert!(format!("{c:?}").contains("Condition"));
        assert!(format!("{c:?}").contains("waiters: 0"));
        let _w = c.wait();
        assert!(format!("{c:?}").contains("waiters: 1"));
    }

    #[test]
    fn test_notify() {
        gen_test(|| async {
            let c = Condition::new();
            let notifier = c.clone();
            IoLoop::current().call_later(ms(10), move || notifier.notify(1));
            assert!(c.wait().await);
        });
    }

    #[test]
    fn test_notify_1() {
        gen_test(|| async {
            let (c, h) = (Condition::new(), history());
            record_done(&h, c.wait(), "wait1");
            record_done(&h, c.wait(), "wait2");
            c.notify(1);
            loop_briefly().await;
            h.borrow_mut().push("notify1".into());
            c.notify(1);
            loop_briefly().await;
            h.borrow_mut().push("notify2".into());
            assert_eq!(entries(&h), strs(&["wait1", "notify1", "wait2", "notify2"]));
        });
    }

    #[test]
    fn test_notify_n() {
        gen_test(|| async {
            let (c, h) = (Condition::new(), history());
            for i in 0..6 {
                record_done(&h, c.wait(), i);
            }
            c.notify(3);
            loop_briefly().await;
            // Waiters are woken in the order they waited.
            assert_eq!(entries(&h), strs(&["0", "1", "2"]));
            c.notify(1);
            loop_briefly().await;
            assert_eq!(entries(&h), strs(&["0", "1", "2", "3"]));
            c.notify(2);
            loop_briefly().await;
            assert_eq!(entries(&h), strs(&["0", "1", "2", "3", "4", "5"]));
        });
    }

    #[test]
    fn test_notify_all() {
        gen_test(|| async {
            let (c, h) = (Condition::new(), history());
            for i in 0..4 {
                record_done(&h, c.wait(), i);
            }
            c.notify_all();
            loop_briefly().await;
            h.borrow_mut().push("notify_all".into());
            assert_eq!(entries(&h), strs(&["0", "1", "2", "3", "notify_all"]));
        });
    }

    #[test]
    fn test_wait_timeout() {
        gen_test(|| async {
            let c = Condition::new();
            let wait = c.wait_timeout(ms(10));
            let notifier = c.clone();
            IoLoop::current().call_later(ms(20), move || notifier.notify(1)); // Too late.
            sleep(ms(30)).await;
            assert!(!wait.await);
        });
    }

    #[test]
    fn test_wait_timeout_preempted() {
        gen_test(|| async {
            let c = Condition::new();
            // This fires before the wait times out (Tornado: 10 ms against 20 ms; the
            // deadline here is seconds away so that a stalled machine cannot reorder them).
            let notifier = c.clone();
            IoLoop::current().call_later(ms(10), move || notifier.notify(1));
            let wait = c.wait_timeout(Duration::from_secs(5));
            sleep(ms(30)).await;
            assert!(wait.await); // No timeout.
        });
    }

    #[test]
    fn test_notify_n_with_timeout() {
        // Waiters 0, 1, 2 and 3; 1 has a timeout. Once it expired, notify(2) must wake 0
        // and 2: a timed-out waiter does not count against n.
        gen_test(|| async {
            let (c, h) = (Condition::new(), history());
            record_done(&h, c.wait(), 0);
            record_done(&h, c.wait_timeout(ms(10)), 1);
            record_done(&h, c.wait(), 2);
            record_done(&h, c.wait(), 3);
            // Wait for waiter 1 to time out.
            sleep(ms(20)).await;
            assert_eq!(entries(&h), strs(&["timeout"]));
            c.notify(2);
            sleep(ms(10)).await;
            assert_eq!(entries(&h), strs(&["timeout", "0", "2"]));
            c.notify(1);
            loop_briefly().await;
            assert_eq!(entries(&h), strs(&["timeout", "0", "2", "3"]));
        });
    }

    #[test]
    fn test_notify_all_with_timeout() {
        gen_test(|| async {
            let (c, h) = (Condition::new(), history());
            record_done(&h, c.wait(), 0);
            record_done(&h, c.wait_timeout(ms(10)), 1);
            record_done(&h, c.wait(), 2);
            sleep(ms(20)).await;
            assert_eq!(entries(&h), strs(&["timeout"]));
            c.notify_all();
            loop_briefly().await;
            assert_eq!(entries(&h), strs(&["timeout", "0", "2"]));
        });
    }

    #[test]
    fn test_nested_notify() {
        // No notification is lost when a woken waiter calls notify() itself.
        gen_test(|| async {
            let c = Condition::new();
            let waits: Vec<Wait> = (0..3).map(|_| c.wait()).collect();
            let tasks: Vec<Task<bool>> = waits
                .into_iter()
                .enumerate()
                .map(|(i, wait)| {
                    let c = c.clone();
                    spawn(async move {
                        let notified = wait.await;
                        if i == 1 {
                            // The second waiter, once woken, wakes the third.
                            c.notify(1);
                        }
                        notified
                    })
                })
                .collect();
            c.notify(2);
            for task in tasks {
                assert!(task.await.unwrap());
            }
        });
    }

    #[test]
    fn test_garbage_collection() {
        // Timed-out waiters leave the line.
        gen_test(|| async {
            let c = Condition::new();
            // Tornado: 10 ms; 100 ms here, so that a stalled machine cannot expire them before
            // they are counted.
            let timed: Vec<Task<bool>> = (0..101).map(|_| spawn(c.wait_timeout(ms(100)))).collect();
            let mut future = c.wait();
            assert_eq!(c.waiters(), 102);
            // Let the first 101 waiters time out.
            for t in timed {
                assert!(!t.await.unwrap());
            }
            assert_eq!(c.waiters(), 1);
            // The final waiter is still active.
            assert_eq!(now(&mut future), None);
            c.notify(1);
            assert_eq!(now(&mut future), Some(true));
        });
    }
}

mod event_test {
    use super::*;
    use tornado_locks::Event;

    #[test]
    fn test_repr() {
        let event = Event::new();
        assert!(format!("{event:?}").contains("clear"));
        assert!(!format!("{event:?}").contains("set"));
        event.set();
        assert!(!format!("{event:?}").contains("clear"));
        assert!(format!("{event:?}").contains("set"));
    }

    #[test]
    fn test_event() {
        let e = Event::new();
        let mut future_0 = e.wait();
        e.set();
        let mut future_1 = e.wait();
        e.clear();
        let mut future_2 = e.wait();
        assert!(now(&mut future_0).is_some());
        assert!(now(&mut future_1).is_some());
        assert!(now(&mut future_2).is_none());
    }

    #[test]
    fn test_event_timeout() {
        gen_test(|| async {
            let e = Event::new();
            assert!(e.wait_timeout(ms(10)).await.is_err());
            // After a timed-out waiter, normal operation works.
            let setter = e.clone();
            IoLoop::current().add_timeout(ms(10), move || setter.set());
            assert_eq!(e.wait_timeout(Duration::from_secs(5)).await, Ok(()));
        });
    }

    #[test]
    fn test_event_set_multiple() {
        let e = Event::new();
        e.set();
        e.set();
        assert!(e.is_set());
    }

    #[test]
    fn test_event_wait_clear() {
        let e = Event::new();
        let mut f0 = e.wait();
        e.clear();
        let mut f1 = e.wait();
        e.set();
        assert!(now(&mut f0).is_some());
        assert!(now(&mut f1).is_some());
    }
}

mod semaphore_test {
    use super::*;
    use tornado_locks::{AcquireTimeout, Semaphore};

    #[test]
    fn test_repr() {
        let sem = Semaphore::default();
        assert!(format!("{sem:?}").contains("Semaphore"));
        assert!(format!("{sem:?}").contains("value: 1"));
        let _held = sem.acquire();
        assert!(format!("{sem:?}").contains("value: 0"));
        assert!(format!("{sem:?}").contains("waiters: 0"));
        let _waiting = sem.acquire();
        assert!(format!("{sem:?}").contains("waiters: 1"));
    }

    #[test]
    fn test_acquire() {
        let sem = Semaphore::default();
        let mut f0 = sem.acquire();
        let _g0 = now(&mut f0).expect("f0 done");
        // Wait for release().
        let mut f1 = sem.acquire();
        assert!(now(&mut f1).is_none());
        let mut f2 = sem.acquire();
        sem.release();
        let _g1 = now(&mut f1).expect("f1 done");
        assert!(now(&mut f2).is_none());
        sem.release();
        let _g2 = now(&mut f2).expect("f2 done");
        sem.release();
        // Now acquire() is instant.
        assert!(now(&mut sem.acquire()).is_some());
        assert_eq!(sem.waiters(), 0);
        // Each guard releases its permit when dropped (here, at the end of the test).
    }

    #[test]
    fn test_acquire_timeout() {
        gen_test(|| async {
            let sem = Semaphore::new(2);
            let _a = sem.acquire().await;
            let _b = sem.acquire().await;
            let acquire = sem.acquire_timeout(ms(10));
            let releaser = sem.clone();
            IoLoop::current().call_later(ms(20), move || releaser.release()); // Too late.
            sleep(ms(300)).await;
            assert!(acquire.await.is_err());

            let _c = sem.acquire().await; // The permit released late.
            let mut f = sem.acquire();
            assert!(now(&mut f).is_none());
            sem.release();
            assert!(now(&mut f).is_some());
        });
    }

    #[test]
    fn test_acquire_timeout_preempted() {
        gen_test(|| async {
            let sem = Semaphore::new(1);
            sem.acquire().await.forget();
            // This fires before the wait times out.
            let releaser = sem.clone();
            IoLoop::current().call_later(ms(10), move || releaser.release());
            let acquire = sem.acquire_timeout(Duration::from_secs(5));
            sleep(ms(30)).await;
            assert!(acquire.await.is_ok()); // No timeout.
        });
    }

    #[test]
    fn test_release_unacquired() {
        // Unbounded releases are allowed, and increment the semaphore's value.
        let sem = Semaphore::default();
        sem.release();
        sem.release();
        // Now the counter is 3: three acquires before blocking.
        let held: Vec<_> = (0..3).map(|_| now(&mut sem.acquire()).unwrap()).collect();
        assert!(now(&mut sem.acquire()).is_none());
        drop(held);
        assert_eq!(sem.value(), 3);
    }

    #[test]
    fn test_garbage_collection() {
        // Timed-out waiters leave the line.
        gen_test(|| async {
            let sem = Semaphore::new(0);
            let futures: Vec<Task<_>> = (0..101)
                .map(|_| spawn(sem.acquire_timeout(ms(100))))
                .collect();
            let mut future = sem.acquire();
            assert_eq!(sem.waiters(), 102);
            for f in futures {
                assert!(f.await.unwrap().is_err());
            }
            assert_eq!(sem.waiters(), 1);
            // The final waiter is still active.
            assert!(now(&mut future).is_none());
            sem.release();
            assert!(now(&mut future).is_some());
        });
    }

    /// Not in Tornado: a deadline of "now" or zero answers on the first poll.
    #[test]
    fn zero_timeout_answers_at_once() {
        let sem = Semaphore::new(1);
        let mut free = sem.acquire_timeout(Duration::ZERO);
        let _held = now(&mut free).expect("a free permit wins").unwrap();
        let mut zero: AcquireTimeout = sem.acquire_timeout(Duration::ZERO);
        assert!(matches!(now(&mut zero), Some(Err(_))));
        let mut past = sem.acquire_timeout(IoLoop::current().time());
        assert!(matches!(now(&mut past), Some(Err(_))));
        assert_eq!(sem.waiters(), 0);
    }
}

mod semaphore_context_manager_test {
    use super::*;
    use tornado_locks::Semaphore;

    #[test]
    fn test_context_manager() {
        gen_test(|| async {
            let sem = Semaphore::default();
            {
                let _guard = sem.acquire().await;
            }
            // The semaphore was released and can be acquired again.
            assert!(now(&mut sem.acquire()).is_some());
        });
    }

    #[test]
    fn test_context_manager_async_await() {
        // Tornado repeats the test above with `async with`; in Rust both are a guard held
        // by an async block.
        gen_test(|| async {
            let sem = Semaphore::default();
            let inner = sem.clone();
            spawn(async move {
                let _guard = inner.acquire().await;
                moment().await;
            })
            .await
            .unwrap();
            assert!(now(&mut sem.acquire()).is_some());
        });
    }

    #[test]
    fn test_context_manager_exception() {
        // An error returned with `?` while the guard is held releases it.
        async fn divide(sem: &Semaphore, by: u32) -> Result<u32, &'static str> {
            let _guard = sem.acquire().await;
            10u32.checked_div(by).ok_or("division by zero")
        }
        gen_test(|| async {
            let sem = Semaphore::default();
            assert!(divide(&sem, 0).await.is_err());
            assert!(now(&mut sem.acquire()).is_some());
        });
    }

    #[test]
    fn test_context_manager_timeout() {
        gen_test(|| async {
            let sem = Semaphore::default();
            {
                let _guard = sem.acquire_timeout(ms(10)).await.unwrap();
            }
            assert!(now(&mut sem.acquire()).is_some());
        });
    }

    #[test]
    fn test_context_manager_timeout_error() {
        gen_test(|| async {
            let sem = Semaphore::new(0);
            assert!(sem.acquire_timeout(ms(10)).await.is_err());
            // The counter is still 0.
            assert!(now(&mut sem.acquire()).is_none());
        });
    }

    #[test]
    fn test_context_manager_contended() {
        gen_test(|| async {
            let (sem, h) = (Semaphore::default(), history());
            let tasks: Vec<_> = (0..2)
                .map(|i| {
                    let (sem, h) = (sem.clone(), h.clone());
                    spawn(async move {
                        let _guard = sem.acquire().await;
                        h.borrow_mut().push(format!("acquired {i}"));
                        sleep(ms(10)).await;
                        h.borrow_mut().push(format!("release {i}"));
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(
                entries(&h),
                ["acquired 0", "release 0", "acquired 1", "release 1"]
            );
        });
    }
}

mod bounded_semaphore_test {
    use super::*;
    use tornado_locks::BoundedSemaphore;

    #[test]
    fn test_release_unacquired() {
        let sem = BoundedSemaphore::default();
        assert!(sem.release().unwrap_err().is_released_too_many_times());
        // Value is 0.
        now(&mut sem.acquire()).unwrap().forget();
        // Block on acquire().
        let mut future = sem.acquire();
        assert!(now(&mut future).is_none());
        sem.release().unwrap();
        now(&mut future).unwrap().forget();
        // Value is 1.
        sem.release().unwrap();
        assert!(sem.release().unwrap_err().is_released_too_many_times());
    }
}

mod lock_tests {
    use super::*;
    use tornado_locks::Lock;

    #[test]
    fn test_repr() {
        let lock = Lock::new();
        assert!(format!("{lock:?}").contains("Lock"));
        let _guard = now(&mut lock.acquire()).unwrap();
        assert!(format!("{lock:?}").contains("value: 0"));
    }

    #[test]
    fn test_acquire_release() {
        let lock = Lock::new();
        now(&mut lock.acquire()).expect("free").forget();
        let mut future = lock.acquire();
        assert!(now(&mut future).is_none());
        lock.release().unwrap();
        assert!(now(&mut future).is_some());
    }

    fn fifo(release_explicitly: bool) {
        gen_test(move || async move {
            let lock = Lock::new();
            now(&mut lock.acquire()).expect("free").forget();
            let h = history();
            let tasks: Vec<Task<()>> = (0..5)
                .map(|i| {
                    let (lock, h) = (lock.clone(), h.clone());
                    spawn(async move {
                        if release_explicitly {
                            lock.acquire().await.forget();
                            h.borrow_mut().push(i.to_string());
                            lock.release().unwrap();
                        } else {
                            let _guard = lock.acquire().await;
                            h.borrow_mut().push(i.to_string());
                        }
                    })
                })
                .collect();
            loop_briefly().await;
            assert!(tasks.iter().all(|t| !t.done()));
            assert_eq!(lock.waiters(), 5);
            lock.release().unwrap();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(entries(&h), ["0", "1", "2", "3", "4"]);
            assert!(!lock.is_locked());
        });
    }

    #[test]
    fn test_acquire_fifo() {
        // Tornado: `with (yield lock.acquire()):`; here, the guard.
        fifo(false);
    }

    #[test]
    fn test_acquire_fifo_async_with() {
        // Tornado: `async with lock:`, the same thing as a guard in Rust; this variant uses
        // the remaining style, an explicit `release()`.
        fifo(true);
    }

    #[test]
    fn test_acquire_timeout() {
        gen_test(|| async {
            let lock = Lock::new();
            let _held = lock.acquire().await;
            assert!(lock.acquire_timeout(ms(10)).await.is_err());
            // Still locked.
            assert!(now(&mut lock.acquire()).is_none());
        });
    }

    #[test]
    fn test_multi_release() {
        let lock = Lock::new();
        assert!(lock.release().unwrap_err().is_not_locked());
        now(&mut lock.acquire()).unwrap().forget();
        lock.release().unwrap();
        assert!(lock.release().unwrap_err().is_not_locked());
    }
}

/// What this port promises beyond Tornado's tests: nothing is lost to a waiter that goes
/// away.
mod cancellation {
    use super::*;
    use tornado_locks::{BoundedSemaphore, Condition, Event, Lock, Semaphore};
    use tornado_log::{APPLICATION, ExpectLog};

    #[test]
    fn dropped_notified_waiter_passes_the_notification_on() {
        let c = Condition::new();
        let first = c.wait();
        let mut second = c.wait();
        c.notify(1);
        drop(first);
        assert_eq!(now(&mut second), Some(true));
        assert_eq!(c.waiters(), 0);
    }

    #[test]
    fn notify_all_is_not_passed_on_to_later_waiters() {
        let c = Condition::new();
        let first = c.wait();
        c.notify_all();
        let mut later = c.wait();
        drop(first);
        assert_eq!(now(&mut later), None);
    }

    #[test]
    fn dropped_served_acquire_gives_the_permit_back() {
        let sem = Semaphore::new(0);
        let first = sem.acquire();
        let mut second = sem.acquire();
        sem.release();
        drop(first);
        let guard = now(&mut second).expect("the permit went to the next in line");
        drop(guard);
        assert_eq!(sem.value(), 1);
        // An acquire that took a permit at once and is dropped unpolled gives it back too.
        drop(sem.acquire());
        assert_eq!(sem.value(), 1);
    }

    #[test]
    fn dropped_waiter_leaves_the_line() {
        let lock = Lock::new();
        let _held = now(&mut lock.acquire()).unwrap();
        let waiting: Vec<_> = (0..3).map(|_| lock.acquire()).collect();
        assert_eq!(lock.waiters(), 3);
        drop(waiting);
        assert_eq!(lock.waiters(), 0);
        let e = Event::new();
        drop(e.wait());
        assert_eq!(e.waiters(), 0);
    }

    #[test]
    fn expired_waiter_is_skipped_even_before_its_task_runs() {
        gen_test(|| async {
            let sem = Semaphore::new(0);
            let mut expired = sem.acquire_timeout(ms(1));
            sleep(ms(5)).await;
            let mut next = sem.acquire();
            sem.release();
            assert!(
                now(&mut next).is_some(),
                "the permit skipped the expired waiter"
            );
            assert!(matches!(now(&mut expired), Some(Err(_))));
        });
    }

    #[test]
    fn guard_after_explicit_release_is_logged_not_double_released() {
        let sem = BoundedSemaphore::new(1);
        let guard = now(&mut sem.acquire()).unwrap();
        sem.release().unwrap();
        let expected = ExpectLog::new(APPLICATION, "Semaphore released too many times");
        drop(guard);
        assert_eq!(expected.matched(), 1);
        assert_eq!(sem.value(), 1);
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

/// Random interleavings of acquire, acquire with a timeout, drops of pending and served
/// acquires, releases and loop iterations never create or lose a permit, and never let
/// more holders in than there are permits.
#[test]
fn semaphore_permits_are_conserved() {
    use tornado_locks::{Semaphore, SemaphoreGuard};
    for seed in 1..=20u64 {
        gen_test(move || async move {
            const PERMITS: usize = 3;
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let sem = Semaphore::new(PERMITS);
            let holders = Rc::new(RefCell::new(Vec::<SemaphoreGuard>::new()));
            let mut tasks: Vec<Task<()>> = Vec::new();
            for _ in 0..400 {
                match rng.below(6) {
                    0 | 1 => {
                        let timeout = rng.below(3);
                        let (sem, holders) = (sem.clone(), holders.clone());
                        tasks.push(spawn(async move {
                            let guard = if timeout == 0 {
                                Some(sem.acquire().await)
                            } else {
                                sem.acquire_timeout(ms(timeout - 1)).await.ok()
                            };
                            holders.borrow_mut().extend(guard);
                        }));
                    }
                    2 => {
                        // Drop a task: pending, served-but-not-run, or finished.
                        if !tasks.is_empty() {
                            let i = rng.below(tasks.len() as u64) as usize;
                            tasks.swap_remove(i).cancel();
                        }
                    }
                    3 => {
                        let mut h = holders.borrow_mut();
                        if !h.is_empty() {
                            let i = rng.below(h.len() as u64) as usize;
                            drop(h.swap_remove(i));
                        }
                    }
                    _ => moment().await,
                }
                assert!(holders.borrow().len() + sem.value() <= PERMITS);
            }
            for t in tasks.drain(..) {
                t.cancel();
            }
            holders.borrow_mut().clear();
            assert_eq!(sem.value(), PERMITS, "seed {seed}: every permit came back");
            assert_eq!(sem.waiters(), 0);
        });
    }
}

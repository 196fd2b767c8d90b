//! What the port adds to `ioloop_test.py`: callbacks from many threads, timer order at equal
//! deadlines, 100,000 cancelled timers, a task woken from another thread, cancellation of
//! tasks, the iteration order (callbacks added while running wait; I/O is not starved),
//! `close` while running, and `iteration_time`.

mod support;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Poll, Waker};
use std::time::Duration;

use tornado_ioloop::{Events, IoLoop, PeriodicCallback};

use support::{TEST_TIMEOUT, stopper, wait};

#[test]
fn add_callback_from_many_threads() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 2_000;
    let io_loop = IoLoop::new();
    let handle = io_loop.handle();
    let count = Rc::new(Cell::new(0usize));
    let order_ok = Rc::new(Cell::new(true));
    let last: Rc<RefCell<Vec<Option<usize>>>> = Rc::new(RefCell::new(vec![None; THREADS]));
    let total = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let handle = handle.clone();
            let total = total.clone();
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let total = total.clone();
                    handle.add_callback(move || {
                        total.fetch_add(1, Ordering::Relaxed);
                        // Thread-local bookkeeping through the loop's thread.
                        RECORD.with(|r| r.borrow_mut().push((t, i)));
                    });
                }
            })
        })
        .collect();
    thread_local! {
        static RECORD: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
    }
    let (c, l) = (count.clone(), io_loop.clone());
    let total2 = total.clone();
    let poll = PeriodicCallback::new(
        move || {
            c.set(total2.load(Ordering::Relaxed));
            if c.get() == THREADS * PER_THREAD {
                l.stop();
            }
        },
        Duration::from_millis(1),
    );
    let p = poll.clone();
    io_loop.add_callback(move || p.start());
    wait(&io_loop);
    poll.stop();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count.get(), THREADS * PER_THREAD);
    // Callbacks from one thread run in the order that thread added them.
    RECORD.with(|r| {
        for &(t, i) in r.borrow().iter() {
            let mut last = last.borrow_mut();
            if let Some(prev) = last[t]
                && prev + 1 != i
            {
                order_ok.set(false);
            }
            last[t] = Some(i);
        }
    });
    assert!(order_ok.get());
}

#[test]
fn timers_with_equal_deadlines_run_in_insertion_order() {
    let io_loop = IoLoop::new();
    let order = Rc::new(RefCell::new(Vec::new()));
    let when = io_loop.time() + Duration::from_millis(5);
    for i in 0..1000 {
        let o = order.clone();
        io_loop.call_at(when, move || o.borrow_mut().push(i));
    }
    io_loop.call_at(when, stopper(&io_loop));
    wait(&io_loop);
    assert_eq!(*order.borrow(), (0..1000).collect::<Vec<_>>());
}

#[test]
fn cancel_100000_timers() {
    let io_loop = IoLoop::new();
    let fired = Rc::new(Cell::new(0));
    let handles: Vec<_> = (0..100_000u64)
        .map(|i| {
            let f = fired.clone();
            io_loop.call_later(Duration::from_millis(1 + i % 50), move || {
                f.set(f.get() + 1)
            })
        })
        .collect();
    for h in handles {
        io_loop.remove_timeout(h);
    }
    assert_eq!(io_loop.pending_timeouts(), 0);
    io_loop.call_later(Duration::from_millis(60), stopper(&io_loop));
    wait(&io_loop);
    assert_eq!(fired.get(), 0);
}

#[test]
fn task_woken_from_another_thread() {
    // A task that hands its own waker to a thread and is woken from there.
    let io_loop = IoLoop::new();
    let v = io_loop
        .run_sync(
            || async {
                let slot: Arc<parking_lot::Mutex<Option<Waker>>> = Default::default();
                let done = Arc::new(AtomicBool::new(false));
                let mut thread = None;
                let mut polls = 0;
                std::future::poll_fn(|cx| {
                    polls += 1;
                    if done.load(Ordering::SeqCst) {
                        return Poll::Ready(());
                    }
                    *slot.lock() = Some(cx.waker().clone());
                    if thread.is_none() {
                        let (slot, done) = (slot.clone(), done.clone());
                        thread = Some(std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_millis(20));
                            done.store(true, Ordering::SeqCst);
                            slot.lock().take().unwrap().wake();
                        }));
                    }
                    Poll::Pending
                })
                .await;
                thread.unwrap().join().unwrap();
                polls
            },
            Some(TEST_TIMEOUT),
        )
        .unwrap();
    assert_eq!(v, 2, "polled once, then once more after the remote wake");
}

#[test]
fn tasks_can_be_cancelled_and_awaited() {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(
            || async {
                let l = IoLoop::current();
                let t = l.spawn(async {
                    IoLoop::current().sleep(Duration::from_secs(10)).await;
                    1
                });
                l.sleep(Duration::ZERO).await;
                assert!(t.cancel());
                assert!(!t.cancel());
                assert!(t.cancelled());
                assert!(t.await.unwrap_err().is_cancelled());
                let p = l.spawn(async { panic!("inside") });
                let err = p.await.unwrap_err();
                assert!(err.is_panic());
                assert_eq!(l.pending_tasks(), 1, "only this task is left");
            },
            Some(TEST_TIMEOUT),
        )
        .unwrap();
}

#[test]
fn close_while_running_is_refused() {
    let io_loop = IoLoop::new();
    let (l, refused) = (io_loop.clone(), Rc::new(Cell::new(false)));
    let r = refused.clone();
    io_loop.add_callback(move || {
        r.set(l.close().unwrap_err().is_already_running());
        l.stop();
    });
    wait(&io_loop);
    assert!(refused.get());
    io_loop.close().unwrap();
    assert!(io_loop.start().is_err());
    assert!(io_loop.run_sync(|| async {}, None).unwrap_err().is_closed());
}

#[test]
fn callbacks_added_while_running_wait_for_the_next_iteration() {
    // A callback that re-adds itself forever must not starve timers or I/O.
    let io_loop = IoLoop::new();
    fn spin(l: IoLoop, n: Rc<Cell<u64>>) {
        n.set(n.get() + 1);
        let l2 = l.clone();
        l.add_callback(move || spin(l2, n));
    }
    let n = Rc::new(Cell::new(0));
    spin(io_loop.clone(), n.clone());
    io_loop.call_later(Duration::from_millis(20), stopper(&io_loop));
    wait(&io_loop);
    assert!(n.get() > 1);
    io_loop.close().unwrap();
}

#[test]
fn io_is_not_starved_by_busy_callbacks() {
    // A callback that re-adds itself forever keeps work queued at every iteration; the loop
    // must still poll for I/O (after at most 64 runnables) and run the handler.
    let io_loop = IoLoop::new();
    fn spin(l: IoLoop) {
        let l2 = l.clone();
        l.add_callback(move || spin(l2));
    }
    spin(io_loop.clone());
    let (a, b) = UnixStream::pair().unwrap();
    let b = Rc::new(b);
    let l = io_loop.clone();
    io_loop
        .add_handler(b.clone(), move |_, _| l.stop(), Events::READ)
        .unwrap();
    let writer = Rc::new(a);
    let w = writer.clone();
    io_loop.add_callback(move || (&*w).write_all(b"x").unwrap());
    wait(&io_loop);
    io_loop.close().unwrap();
}

#[test]
fn iteration_time_is_known_only_while_a_loop_runs() {
    assert!(tornado_ioloop::iteration_time().is_none());
    let io_loop = IoLoop::new();
    let inside = io_loop
        .run_sync(|| async { tornado_ioloop::iteration_time() }, None)
        .unwrap();
    assert_eq!(inside, Some(io_loop.iteration_time()));
    assert!(
        tornado_ioloop::iteration_time().is_none(),
        "cleared when the loop stops"
    );
    io_loop.close().unwrap();
}

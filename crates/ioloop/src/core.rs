//! The loop's state and one iteration of it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tornado_concurrent::{Executor, panic_message};

use crate::handle::{Remote, Shared};
use crate::io::{IoRegistry, WAKER_TOKEN};
use crate::task::{JoinFail, LocalFuture, TaskRef, Tasks};
use crate::timers::{TimerAction, TimerHeap};

/// Something to run on the loop's thread.
pub(crate) enum Runnable {
    Callback(Box<dyn FnOnce()>),
    Task(TaskRef),
}

/// Where the loop is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoopState {
    Idle,
    Running,
    Closed,
}

/// Events read per `epoll_wait`; more simply wait for the next iteration.
const EVENTS_CAPACITY: usize = 1024;

/// While work is queued, the non-blocking poll of step 2 is skipped until this many callbacks
/// and task polls have run since the last poll. A chain of tasks waking each other then costs
/// no system call per hop (asyncio pays one `epoll_wait` per hop), and a busy loop still
/// looks at I/O after every 64 runnables (asyncio runs every ready callback between polls,
/// however many there are).
const POLL_EVERY_RUNNABLES: usize = 64;

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

/// Everything an `IoLoop` owns. Shared by `Rc`: the loop is single-threaded.
///
/// Invariant: no `RefCell` here is borrowed while user code (a callback, a task poll, a
/// handler, a `Drop` of any of those) runs, since that code may call back into the loop.
pub(crate) struct Core {
    pub(crate) id: u64,
    poll: RefCell<mio::Poll>,
    pub(crate) registry: mio::Registry,
    events: RefCell<mio::Events>,
    /// Callbacks and task wake-ups, oldest first.
    pub(crate) run_queue: RefCell<VecDeque<Runnable>>,
    pub(crate) timers: RefCell<TimerHeap>,
    pub(crate) tasks: RefCell<Tasks>,
    pub(crate) io: RefCell<IoRegistry>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) state: Cell<LoopState>,
    /// `stop()` was called: finish this iteration, then return from `start`.
    pub(crate) stopping: Cell<bool>,
    pub(crate) executor: RefCell<Option<Arc<dyn Executor>>>,
    /// Scratch space for draining the cross-thread queue, kept to reuse its allocation.
    remote_scratch: RefCell<Vec<Remote>>,
    /// Runnables run since the last poll for I/O (see `POLL_EVERY_RUNNABLES`).
    ran_since_poll: Cell<usize>,
    /// The clock as read once per iteration, after the poll: what the timers due are judged
    /// by, and what [`IoLoop::iteration_time`](crate::IoLoop::iteration_time) returns.
    pub(crate) iteration_time: Cell<Instant>,
}

thread_local! {
    /// The loop this thread is running right now, if any: the fast path of task wake-ups.
    static RUNNING: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Runs `f` with the loop this thread is running, if any. `None` when no loop is running
/// (or during thread teardown).
pub(crate) fn with_running<R>(f: impl FnOnce(&Rc<Core>) -> R) -> Option<R> {
    RUNNING
        .try_with(|r| match r.try_borrow() {
            Ok(guard) => guard.as_ref().map(f),
            Err(_) => None,
        })
        .ok()
        .flatten()
}

/// Marks `core` as the running loop of this thread until dropped.
pub(crate) struct RunningGuard {
    prev: Option<Rc<Core>>,
}

thread_local! {
    /// The running loop's iteration time, for [`crate::iteration_time`]: read without
    /// reaching the loop itself.
    static ITERATION: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The iteration time of the loop running on this thread, if one is running.
pub fn iteration_time() -> Option<Instant> {
    ITERATION.with(Cell::get)
}

impl RunningGuard {
    pub(crate) fn enter(core: &Rc<Core>) -> RunningGuard {
        let prev = RUNNING.with(|r| r.borrow_mut().replace(core.clone()));
        // Set again at the start of each iteration; nothing runs before that.
        ITERATION.with(|i| i.set(None));
        RunningGuard { prev }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let time = prev.as_ref().map(|p| p.iteration_time.get());
        let _ = ITERATION.try_with(|i| i.set(time));
        let _ = RUNNING.try_with(|r| *r.borrow_mut() = prev);
    }
}

impl Core {
    pub(crate) fn new() -> io::Result<Rc<Core>> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let id = NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed);
        Ok(Rc::new(Core {
            id,
            poll: RefCell::new(poll),
            registry,
            events: RefCell::new(mio::Events::with_capacity(EVENTS_CAPACITY)),
            run_queue: RefCell::new(VecDeque::new()),
            timers: RefCell::new(TimerHeap::new()),
            tasks: RefCell::new(Tasks::new()),
            io: RefCell::new(IoRegistry::new()),
            shared: Arc::new(Shared::new(id, waker)),
            state: Cell::new(LoopState::Idle),
            stopping: Cell::new(false),
            executor: RefCell::new(None),
            remote_scratch: RefCell::new(Vec::new()),
            ran_since_poll: Cell::new(0),
            iteration_time: Cell::new(Instant::now()),
        }))
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.get() == LoopState::Closed
    }

    pub(crate) fn push(&self, runnable: Runnable) {
        if !self.is_closed() {
            self.run_queue.borrow_mut().push_back(runnable);
        }
    }

    pub(crate) fn spawn_boxed(
        &self,
        future: LocalFuture,
        join: Option<Rc<dyn JoinFail>>,
    ) -> TaskRef {
        let task = self.tasks.borrow_mut().insert(&self.shared, future, join);
        // The first poll happens on the next iteration, like asyncio's `create_task`.
        self.push(Runnable::Task(task));
        task
    }

    /// Runs iterations until `stop()` is called or `done()` returns true (checked after each
    /// iteration).
    pub(crate) fn run(self: &Rc<Self>, done: &dyn Fn() -> bool) -> io::Result<()> {
        let _running = RunningGuard::enter(self);
        let result = loop {
            if let Err(e) = self.run_once() {
                break Err(e);
            }
            if self.stopping.get() || done() {
                break Ok(());
            }
        };
        self.stopping.set(false);
        result
    }

    fn set_iteration_time(&self, now: Instant) {
        self.iteration_time.set(now);
        ITERATION.with(|i| i.set(Some(now)));
    }

    /// One iteration, in Tornado's order:
    ///
    /// 1. take the work other threads queued;
    /// 2. poll for I/O: without blocking if anything is ready to run, else until the nearest
    ///    timer (or indefinitely). When work is ready, the poll is skipped until
    ///    `POLL_EVERY_RUNNABLES` runnables have run since the last one, so that I/O is never
    ///    starved but a chain of task wake-ups costs no system call per hop;
    /// 3. run the timers that are due;
    /// 4. dispatch I/O events (raw handlers run, registered sources wake their tasks);
    /// 5. run everything queued before this step: callbacks and task polls, including those
    ///    that steps 1-4 queued. Whatever step 5 itself queues waits for the next iteration,
    ///    after the timers and (subject to step 2) I/O, so a callback that keeps re-adding
    ///    itself cannot starve them.
    fn run_once(&self) -> io::Result<()> {
        if self.shared.take_stop_request() {
            self.stopping.set(true);
        }
        self.take_remote();

        let busy = !self.run_queue.borrow().is_empty() || self.stopping.get();
        if !busy || self.ran_since_poll.get() >= POLL_EVERY_RUNNABLES {
            let timeout = if busy {
                Some(Duration::ZERO)
            } else {
                let next = self.timers.borrow_mut().next_deadline();
                next.map(|at| at.saturating_duration_since(Instant::now()))
            };
            {
                let mut poll = self.poll.borrow_mut();
                let mut events = self.events.borrow_mut();
                if let Err(e) = poll.poll(&mut events, timeout) {
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                    events.clear();
                }
            }
            self.ran_since_poll.set(0);
            self.set_iteration_time(Instant::now());
            self.run_timers();
            self.dispatch_events();
        } else {
            self.set_iteration_time(Instant::now());
            self.run_timers();
        }

        let n = self.run_queue.borrow().len();
        self.ran_since_poll.set(self.ran_since_poll.get() + n);
        for _ in 0..n {
            let Some(next) = self.run_queue.borrow_mut().pop_front() else {
                break;
            };
            match next {
                Runnable::Callback(cb) => run_guarded(cb),
                Runnable::Task(task) => self.poll_task(task),
            }
        }
        Ok(())
    }

    fn take_remote(&self) {
        let mut scratch = self.remote_scratch.borrow_mut();
        self.shared.drain_into(&mut scratch);
        if scratch.is_empty() {
            return;
        }
        let mut queue = self.run_queue.borrow_mut();
        for item in scratch.drain(..) {
            queue.push_back(match item {
                Remote::Callback(cb) => Runnable::Callback(cb),
                Remote::Wake(task) => Runnable::Task(task),
            });
        }
    }

    fn run_timers(&self) {
        if self.timers.borrow().len() == 0 {
            return;
        }
        let now = self.iteration_time.get();
        loop {
            let Some(action) = self.timers.borrow_mut().pop_due(now) else {
                break;
            };
            match action {
                TimerAction::Callback(cb) => run_guarded(cb),
                TimerAction::Wake(w) => w.wake(),
            }
        }
    }

    fn dispatch_events(&self) {
        let events = self.events.borrow();
        for event in events.iter() {
            if event.token() == WAKER_TOKEN {
                continue;
            }
            self.dispatch_io(event);
        }
    }

    /// Drops everything the loop holds. Called once, by `IoLoop::close`.
    pub(crate) fn close(&self) {
        self.state.set(LoopState::Closed);
        let remote = self.shared.close();
        let queued: Vec<Runnable> = self.run_queue.borrow_mut().drain(..).collect();
        let timers = self.timers.borrow_mut().drain();
        let tasks = self.tasks.borrow_mut().drain();
        let handlers = self.io.borrow_mut().drain(&self.registry);
        let executor = self.executor.borrow_mut().take();
        // Drop outside the borrows: dropping a future or callback may call into the loop.
        drop((remote, queued, timers, handlers));
        for task in tasks {
            task.finish(crate::task::Failure::Cancelled);
        }
        if let Some(executor) = executor {
            executor.shutdown(false);
        }
    }
}

/// Runs a callback; a panic is logged on the `application` target and the loop goes on.
pub(crate) fn run_guarded(cb: Box<dyn FnOnce() + '_>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(cb)) {
        log::error!(
            target: "application",
            "Exception in callback: {}",
            panic_message(payload.as_ref())
        );
    }
}

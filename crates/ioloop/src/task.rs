//! Tasks: `!Send` futures stored in a slab, woken through `std::task::Wake`, and the
//! [`Task`] handle that awaits one.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;
use tornado_concurrent::{Error as FutureError, panic_message};

use crate::core::{Core, Runnable, with_running};
use crate::handle::{Remote, Shared};

/// A task's future, boxed and type-erased.
pub(crate) type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Names one spawn of a task: the slab key plus a generation, so that a stale wake-up of a
/// finished task never polls the task that reused its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskRef {
    pub(crate) key: usize,
    pub(crate) gen_: u32,
}

/// The `Send + Sync` part of a task: what its `Waker` points to.
pub(crate) struct TaskHeader {
    task: TaskRef,
    /// Set while a run of this task is queued, so that many wake-ups before the next poll
    /// queue it once. Cleared just before the task is polled.
    scheduled: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for TaskHeader {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        // From the loop's own thread while it runs: straight onto its run queue, no lock.
        let queued_locally = with_running(|core| {
            if core.id == self.shared.id {
                core.run_queue
                    .borrow_mut()
                    .push_back(Runnable::Task(self.task));
                true
            } else {
                false
            }
        })
        .unwrap_or(false);
        if !queued_locally {
            self.shared.push(Remote::Wake(self.task));
        }
    }
}

/// How a task ended other than by returning.
pub(crate) enum Failure {
    Cancelled,
    Panicked(Box<dyn Any + Send>),
}

/// Told when a task with a [`Task`] handle is cancelled or panics (the handle's state,
/// type-erased).
pub(crate) trait JoinFail {
    fn fail(&self, failure: Failure);
}

struct TaskSlot {
    gen_: u32,
    /// `None` while the task is being polled (the future is moved out so that the slab is
    /// not borrowed during the poll, when the task may spawn others).
    future: Option<LocalFuture>,
    waker: Waker,
    header: Arc<TaskHeader>,
    join: Option<Rc<dyn JoinFail>>,
    /// Cancellation asked for while the task was being polled; applied after the poll.
    cancel_requested: bool,
}

/// Every task of a loop.
pub(crate) struct Tasks {
    slots: Slab<TaskSlot>,
    next_gen: u32,
    /// Headers of finished tasks that no waker referred to any more, reused by `spawn` to save
    /// an allocation per task.
    pool: Vec<Arc<TaskHeader>>,
}

/// The pool is a cache, not a store: past this many idle headers, finished ones are freed.
const MAX_POOLED_HEADERS: usize = 1024;

impl Tasks {
    pub(crate) fn new() -> Self {
        Tasks {
            slots: Slab::new(),
            next_gen: 0,
            pool: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn insert(
        &mut self,
        shared: &Arc<Shared>,
        future: LocalFuture,
        join: Option<Rc<dyn JoinFail>>,
    ) -> TaskRef {
        let entry = self.slots.vacant_entry();
        let task = TaskRef {
            key: entry.key(),
            gen_: self.next_gen,
        };
        self.next_gen = self.next_gen.wrapping_add(1);
        let header = match self.pool.pop() {
            Some(mut h) => match Arc::get_mut(&mut h) {
                Some(m) => {
                    m.task = task;
                    *m.scheduled.get_mut() = true;
                    h
                }
                None => new_header(task, shared),
            },
            None => new_header(task, shared),
        };
        entry.insert(TaskSlot {
            gen_: task.gen_,
            future: Some(future),
            waker: Waker::from(header.clone()),
            header,
            join,
            cancel_requested: false,
        });
        task
    }

    /// Takes a task's future and waker out for a poll.
    fn begin_poll(&mut self, task: TaskRef) -> Option<(LocalFuture, Waker)> {
        let slot = self.slots.get_mut(task.key)?;
        if slot.gen_ != task.gen_ {
            return None;
        }
        let future = slot.future.take()?;
        slot.header.scheduled.store(false, Ordering::Release);
        let waker = std::mem::replace(&mut slot.waker, Waker::noop().clone());
        Some((future, waker))
    }

    /// Puts a pending task back. Returns the future and join state if the task was
    /// cancelled during its poll, to be dropped and failed by the caller.
    fn end_poll_pending(
        &mut self,
        task: TaskRef,
        future: LocalFuture,
        waker: Waker,
    ) -> Option<Removed> {
        let slot = match self.slots.get_mut(task.key) {
            Some(slot) if slot.gen_ == task.gen_ => slot,
            // The loop was closed from inside the task: the caller drops the future.
            _ => {
                return Some(Removed {
                    future: Some(future),
                    join: None,
                });
            }
        };
        if slot.cancel_requested {
            let mut removed = self.remove(task);
            removed.future = Some(future);
            return Some(removed);
        }
        slot.future = Some(future);
        slot.waker = waker;
        None
    }

    /// Removes a task's slot, recycling its header when no waker refers to it any more.
    fn remove(&mut self, task: TaskRef) -> Removed {
        let slot = self.slots.remove(task.key);
        drop(slot.waker);
        let mut header = slot.header;
        if self.pool.len() < MAX_POOLED_HEADERS && Arc::get_mut(&mut header).is_some() {
            self.pool.push(header);
        }
        Removed {
            future: slot.future,
            join: slot.join,
        }
    }

    fn remove_if(&mut self, task: TaskRef) -> Option<Removed> {
        match self.slots.get(task.key) {
            Some(slot) if slot.gen_ == task.gen_ => Some(self.remove(task)),
            _ => None,
        }
    }

    /// Takes every task out (on close).
    pub(crate) fn drain(&mut self) -> Vec<Removed> {
        self.pool.clear();
        self.slots
            .drain()
            .map(|s| Removed {
                future: s.future,
                join: s.join,
            })
            .collect()
    }
}

fn new_header(task: TaskRef, shared: &Arc<Shared>) -> Arc<TaskHeader> {
    Arc::new(TaskHeader {
        task,
        scheduled: AtomicBool::new(true),
        shared: shared.clone(),
    })
}

/// A task taken out of the slab, to be dropped outside any borrow of the loop.
pub(crate) struct Removed {
    pub(crate) future: Option<LocalFuture>,
    pub(crate) join: Option<Rc<dyn JoinFail>>,
}

impl Removed {
    /// Drops the future (which may run arbitrary `Drop` code) and tells the handle how the
    /// task ended.
    pub(crate) fn finish(self, failure: Failure) {
        if let Some(f) = self.future {
            drop_guarded(f);
        }
        match self.join {
            Some(join) => join.fail(failure),
            None => {
                if let Failure::Panicked(payload) = failure {
                    log_task_panic(payload.as_ref());
                }
            }
        }
    }
}

fn drop_guarded<T>(value: T) {
    if let Err(payload) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(value)))
    {
        log_task_panic(payload.as_ref());
    }
}

pub(crate) fn log_task_panic(payload: &(dyn Any + Send)) {
    log::error!(
        target: "application",
        "Exception in task: {}",
        panic_message(payload)
    );
}

impl Core {
    /// Polls one task (a `Runnable::Task` from the run queue).
    pub(crate) fn poll_task(&self, task: TaskRef) {
        let Some((mut future, waker)) = self.tasks.borrow_mut().begin_poll(task) else {
            return;
        };
        let mut cx = Context::from_waker(&waker);
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            future.as_mut().poll(&mut cx)
        }));
        match polled {
            Ok(Poll::Pending) => {
                let removed = self
                    .tasks
                    .borrow_mut()
                    .end_poll_pending(task, future, waker);
                if let Some(removed) = removed {
                    removed.finish(Failure::Cancelled);
                }
            }
            Ok(Poll::Ready(())) => {
                drop(waker);
                let removed = self.tasks.borrow_mut().remove_if(task);
                drop(future);
                drop(removed);
            }
            Err(payload) => {
                drop(waker);
                let removed = self.tasks.borrow_mut().remove_if(task);
                drop_guarded(future);
                match removed {
                    Some(removed) => removed.finish(Failure::Panicked(payload)),
                    None => log_task_panic(payload.as_ref()),
                }
            }
        }
    }

    /// Cancels a task: drops its future now, or right after its poll if it is being polled.
    /// `false` if the task already finished.
    pub(crate) fn cancel_task(&self, task: TaskRef) -> bool {
        let removed = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.slots.get_mut(task.key) {
                Some(slot) if slot.gen_ == task.gen_ => {
                    if slot.future.is_none() {
                        slot.cancel_requested = true;
                        return true;
                    }
                }
                _ => return false,
            }
            tasks.remove(task)
        };
        removed.finish(Failure::Cancelled);
        true
    }
}

/// What a [`Task`] handle and its task share.
struct JoinState<T> {
    inner: RefCell<JoinInner<T>>,
}

struct JoinInner<T> {
    outcome: Outcome<T>,
    waker: Option<Waker>,
    /// The handle was dropped: nobody will look at a panic, so it is logged instead.
    detached: bool,
}

enum Outcome<T> {
    Pending,
    Ready(T),
    Cancelled,
    Panicked(Box<dyn Any + Send>),
    Taken,
}

impl<T> JoinState<T> {
    fn complete(&self, outcome: Outcome<T>) {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            if inner.detached {
                if let Outcome::Panicked(p) = &outcome {
                    log_task_panic(p.as_ref());
                }
                return;
            }
            inner.outcome = outcome;
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> JoinFail for JoinState<T> {
    fn fail(&self, failure: Failure) {
        self.complete(match failure {
            Failure::Cancelled => Outcome::Cancelled,
            Failure::Panicked(p) => Outcome::Panicked(p),
        });
    }
}

/// A spawned task: await it for its output, or drop it to let the task run on detached.
///
/// Returned by [`IoLoop::spawn`](crate::IoLoop::spawn). Awaiting yields `Ok(output)`, or an
/// error for which [`is_cancelled`](tornado_concurrent::Error::is_cancelled) or
/// [`is_panic`](tornado_concurrent::Error::is_panic) is true. Dropping the handle does not
/// cancel the task (as with asyncio tasks); [`cancel`](Task::cancel) does. A panic that no
/// handle will see is logged on the `application` target.
#[must_use = "a dropped Task keeps running; use spawn_callback for fire-and-forget"]
pub struct Task<T> {
    state: Rc<JoinState<T>>,
    core: Weak<Core>,
    task: TaskRef,
}

impl<T: 'static> Task<T> {
    pub(crate) fn spawn<F>(core: &Rc<Core>, future: F) -> Task<T>
    where
        F: Future<Output = T> + 'static,
    {
        let state = Rc::new(JoinState {
            inner: RefCell::new(JoinInner {
                outcome: Outcome::Pending,
                waker: None,
                detached: false,
            }),
        });
        let completer = state.clone();
        let wrapped = async move {
            let value = future.await;
            completer.complete(Outcome::Ready(value));
        };
        let task = core.spawn_boxed(Box::pin(wrapped), Some(state.clone() as Rc<dyn JoinFail>));
        Task {
            state,
            core: Rc::downgrade(core),
            task,
        }
    }
}

impl<T> Task<T> {
    /// Cancels the task: its future is dropped (at its current `.await`), and awaiting this
    /// handle gives a cancelled error. Returns `false` if the task had already finished.
    pub fn cancel(&self) -> bool {
        if self.done() {
            return false;
        }
        match self.core.upgrade() {
            Some(core) => core.cancel_task(self.task),
            None => false,
        }
    }

    /// `true` once the task has returned, panicked or been cancelled.
    pub fn done(&self) -> bool {
        !matches!(self.state.inner.borrow().outcome, Outcome::Pending)
    }

    /// `true` if the task was cancelled.
    pub fn cancelled(&self) -> bool {
        matches!(self.state.inner.borrow().outcome, Outcome::Cancelled)
    }

    pub(crate) fn task_ref(&self) -> TaskRef {
        self.task
    }

    /// The raw outcome, with a panic's original payload (for `run_sync`, which re-raises it).
    pub(crate) fn take_outcome(&self) -> Option<Result<T, Failure>> {
        let mut inner = self.state.inner.borrow_mut();
        match std::mem::replace(&mut inner.outcome, Outcome::Taken) {
            Outcome::Pending => {
                inner.outcome = Outcome::Pending;
                None
            }
            Outcome::Ready(v) => Some(Ok(v)),
            Outcome::Cancelled | Outcome::Taken => Some(Err(Failure::Cancelled)),
            Outcome::Panicked(p) => Some(Err(Failure::Panicked(p))),
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.state.inner.borrow_mut();
        match std::mem::replace(&mut inner.outcome, Outcome::Taken) {
            Outcome::Pending => {
                inner.outcome = Outcome::Pending;
                match &mut inner.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Outcome::Ready(v) => Poll::Ready(Ok(v)),
            Outcome::Cancelled => {
                inner.outcome = Outcome::Cancelled;
                Poll::Ready(Err(FutureError::cancelled()))
            }
            Outcome::Panicked(p) => Poll::Ready(Err(FutureError::from_panic(p))),
            Outcome::Taken => Poll::Ready(Err(FutureError::cancelled())),
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        let mut inner = self.state.inner.borrow_mut();
        inner.detached = true;
        inner.waker = None;
        if let Outcome::Panicked(p) = std::mem::replace(&mut inner.outcome, Outcome::Taken) {
            log_task_panic(p.as_ref());
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state.inner.borrow().outcome {
            Outcome::Pending => "pending",
            Outcome::Ready(_) | Outcome::Taken => "done",
            Outcome::Cancelled => "cancelled",
            Outcome::Panicked(_) => "panicked",
        };
        f.debug_struct("Task").field("state", &state).finish()
    }
}

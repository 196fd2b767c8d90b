//! [`Buffer`]: where a queue keeps its items, in the order its kind hands them out
//! (Tornado's overridable `_init`, `_put` and `_get`).

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt;

/// The items of a queue.
///
/// One type for the three kinds, so that `Queue<T>`, its futures and its stream need no
/// second type parameter: a priority queue carries `T`'s comparison as a function pointer,
/// taken where `T: Ord` is known (`PriorityQueue::new`).
pub(crate) enum Buffer<T> {
    /// First in, first out (`Queue`).
    Fifo(VecDeque<T>),
    /// Last in, first out (`LifoQueue`): the end of the `Vec` is the top.
    Lifo(Vec<T>),
    /// Lowest first (`PriorityQueue`): a binary min-heap, as Python's `heapq`.
    Priority {
        heap: Vec<T>,
        cmp: fn(&T, &T) -> Ordering,
    },
}

impl<T> Buffer<T> {
    pub(crate) fn fifo() -> Self {
        Buffer::Fifo(VecDeque::new())
    }

    pub(crate) fn lifo() -> Self {
        Buffer::Lifo(Vec::new())
    }

    pub(crate) fn priority() -> Self
    where
        T: Ord,
    {
        Buffer::Priority {
            heap: Vec::new(),
            cmp: T::cmp,
        }
    }

    /// The Tornado class this buffer makes a queue of.
    pub(crate) fn class_name(&self) -> &'static str {
        match self {
            Buffer::Fifo(_) => "Queue",
            Buffer::Lifo(_) => "LifoQueue",
            Buffer::Priority { .. } => "PriorityQueue",
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Buffer::Fifo(q) => q.len(),
            Buffer::Lifo(v) => v.len(),
            Buffer::Priority { heap, .. } => heap.len(),
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an item (`_put`).
    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        match self {
            Buffer::Fifo(q) => q.push_back(item),
            Buffer::Lifo(v) => v.push(item),
            Buffer::Priority { heap, cmp } => {
                heap.push(item);
                sift_up(heap, *cmp);
            }
        }
    }

    /// Takes the next item (`_get`).
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        match self {
            Buffer::Fifo(q) => q.pop_front(),
            Buffer::Lifo(v) => v.pop(),
            Buffer::Priority { heap, cmp } => {
                let last = heap.len().checked_sub(1)?;
                heap.swap(0, last);
                let item = heap.pop();
                sift_down(heap, *cmp);
                item
            }
        }
    }

    /// Puts back an item a getter took but never delivered, where the next `pop` takes it
    /// (the head of a FIFO, the top of a LIFO; a priority queue orders it as any other).
    pub(crate) fn push_next(&mut self, item: T) {
        match self {
            Buffer::Fifo(q) => q.push_front(item),
            Buffer::Lifo(_) | Buffer::Priority { .. } => self.push(item),
        }
    }

    /// Writes the items, in storage order.
    pub(crate) fn debug_items(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        T: fmt::Debug,
    {
        match self {
            Buffer::Fifo(q) => f.debug_list().entries(q).finish(),
            Buffer::Lifo(v) => f.debug_list().entries(v).finish(),
            Buffer::Priority { heap, .. } => f.debug_list().entries(heap).finish(),
        }
    }
}

/// Restores the heap property after a push at the end.
fn sift_up<T>(heap: &mut [T], cmp: fn(&T, &T) -> Ordering) {
    let Some(mut i) = heap.len().checked_sub(1) else {
        return;
    };
    while i > 0 {
        let parent = (i - 1) / 2;
        if cmp(&heap[i], &heap[parent]) != Ordering::Less {
            break;
        }
        heap.swap(i, parent);
        i = parent;
    }
}

/// Restores the heap property after the root was replaced.
fn sift_down<T>(heap: &mut [T], cmp: fn(&T, &T) -> Ordering) {
    let mut i = 0;
    loop {
        let left = 2 * i + 1;
        if left >= heap.len() {
            return;
        }
        let right = left + 1;
        let least = if right < heap.len() && cmp(&heap[right], &heap[left]) == Ordering::Less {
            right
        } else {
            left
        };
        if cmp(&heap[least], &heap[i]) != Ordering::Less {
            return;
        }
        heap.swap(i, least);
        i = least;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(buf: &mut Buffer<u32>) -> Vec<u32> {
        std::iter::from_fn(|| buf.pop()).collect()
    }

    #[test]
    fn fifo_lifo_order() {
        let mut fifo = Buffer::fifo();
        let mut lifo = Buffer::lifo();
        for n in [1, 3, 2] {
            fifo.push(n);
            lifo.push(n);
        }
        assert_eq!(drain(&mut fifo), [1, 3, 2]);
        assert_eq!(drain(&mut lifo), [2, 3, 1]);
    }

    #[test]
    fn heap_pops_in_order() {
        // A fixed pseudo-random sequence, duplicates included.
        let mut x = 7u32;
        let items: Vec<u32> = (0..500)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) % 100
            })
            .collect();
        let mut buf = Buffer::priority();
        for (i, &n) in items.iter().enumerate() {
            buf.push(n);
            if i % 7 == 0 {
                // Interleave pops: the smallest so far comes out.
                let popped = buf.pop().unwrap();
                buf.push(popped);
            }
        }
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(drain(&mut buf), sorted);
        assert_eq!(buf.pop(), None);
    }

    #[test]
    fn returned_items_come_out_next() {
        let mut fifo = Buffer::fifo();
        fifo.push(2);
        fifo.push(3);
        fifo.push_next(1);
        assert_eq!(drain(&mut fifo), [1, 2, 3]);
        let mut lifo = Buffer::lifo();
        lifo.push(2);
        lifo.push_next(9);
        assert_eq!(drain(&mut lifo), [9, 2]);
        let mut prio = Buffer::priority();
        prio.push(1);
        prio.push_next(5);
        assert_eq!(drain(&mut prio), [1, 5]);
    }
}

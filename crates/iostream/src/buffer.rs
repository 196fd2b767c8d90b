//! The read and write buffers of a stream.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// Received bytes not yet handed to a reader.
///
/// Data is handed out by splitting the front off (`BytesMut::split_to`): no copy. Bytes are
/// appended from the thread's scratch read buffer (see `stream.rs`), so the buffer holds only
/// what was received and an idle connection keeps only a small allocation.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    buf: BytesMut,
}

/// A buffer left empty but larger than this is freed, so that one large message does not
/// pin its memory for the rest of a long-lived connection.
const KEEP_CAPACITY: usize = 64 * 1024;

/// On some CPUs (AMD Zen among them, the project's benchmark machine too) the `rep movsb`
/// copy that glibc's `memcpy` uses for large sizes runs about 20 times slower when the
/// destination is less than 64 bytes ahead of the source modulo 4 KiB. Reads copy from one
/// scratch buffer per thread into a buffer that is reused at the same address read after
/// read, so one unlucky pair of addresses would make every read of a connection slow
/// (measured: 34 µs instead of 1.7 µs per 64 KiB). `extend` moves the destination out of
/// that window when it can choose it, that is when the buffer is empty.
const ALIAS_WINDOW: usize = 64;

/// Copies shorter than this do not use `rep movsb`: their alignment does not matter.
const ALIAS_MIN_COPY: usize = 4096;

/// `true` if copying from `src` to `dst` hits the slow case described at [`ALIAS_WINDOW`].
fn aliased(dst: usize, src: usize) -> bool {
    dst.wrapping_sub(src) % 4096 < ALIAS_WINDOW
}

impl ReadBuffer {
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn extend(&mut self, data: &[u8]) {
        if data.len() >= ALIAS_MIN_COPY && self.buf.is_empty() {
            self.buf.reserve(data.len());
            let src = data.as_ptr() as usize;
            if aliased(self.end_addr(), src) {
                let mut fresh = BytesMut::with_capacity(data.len() + ALIAS_WINDOW);
                if aliased(fresh.as_ptr() as usize, src) {
                    // Start the data further in: the distance leaves the window.
                    fresh.resize(ALIAS_WINDOW, 0);
                    fresh.advance(ALIAS_WINDOW);
                }
                self.buf = fresh;
            }
        }
        self.buf.extend_from_slice(data);
    }

    /// Where the next appended byte goes.
    fn end_addr(&self) -> usize {
        self.buf.as_ptr() as usize + self.buf.len()
    }

    /// Hands out the first `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        let out = self.buf.split_to(n).freeze();
        self.release_if_empty();
        out
    }

    /// Copies the first `n` bytes into `dst` and drops them.
    pub(crate) fn take_into(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.buf.len());
        dst[..n].copy_from_slice(&self.buf[..n]);
        self.buf.advance(n);
        self.release_if_empty();
        n
    }

    pub(crate) fn take_all(&mut self) -> Bytes {
        self.take(self.buf.len())
    }

    fn release_if_empty(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > KEEP_CAPACITY {
            self.buf = BytesMut::new();
        }
    }

    /// Position just past the first `delimiter` found at or after `from`.
    pub(crate) fn find(&self, delimiter: &[u8], from: usize) -> Option<usize> {
        let from = from.min(self.buf.len());
        memchr::memmem::find(&self.buf[from..], delimiter).map(|i| from + i + delimiter.len())
    }
}

/// Bytes queued for writing, oldest first.
///
/// Small writes are copied into one tail buffer so that many small writes (pipelined
/// responses) go out in one system call; large ones are queued as they are, without a copy.
/// Invariant: the tail's bytes come after every queued chunk.
#[derive(Debug, Default)]
pub(crate) struct WriteBuffer {
    chunks: VecDeque<Bytes>,
    tail: BytesMut,
    len: usize,
}

/// Writes shorter than this are copied into the tail; longer ones are queued by reference.
const COPY_BELOW: usize = 4096;

/// At most this many buffers per `writev` (well under every platform's `IOV_MAX`).
pub(crate) const MAX_IOVECS: usize = 64;

impl WriteBuffer {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        self.len += data.len();
        if data.len() < COPY_BELOW {
            self.tail.extend_from_slice(&data);
        } else {
            if !self.tail.is_empty() {
                self.chunks.push_back(self.tail.split().freeze());
            }
            self.chunks.push_back(data);
        }
    }

    pub(crate) fn push_slice(&mut self, data: &[u8]) {
        self.len += data.len();
        self.tail.extend_from_slice(data);
    }

    /// Lets `f` append to the tail in place; returns what `f` returns and the bytes added.
    pub(crate) fn append_with<R>(&mut self, f: impl FnOnce(&mut BytesMut) -> R) -> (R, usize) {
        let before = self.tail.len();
        let r = f(&mut self.tail);
        let added = self.tail.len() - before;
        self.len += added;
        (r, added)
    }

    /// Fills `out` with the front of the queue; returns how many slices were filled.
    pub(crate) fn io_slices<'a>(&'a self, out: &mut [IoSlice<'a>; MAX_IOVECS]) -> usize {
        let mut n = 0;
        for chunk in self.chunks.iter().take(MAX_IOVECS) {
            out[n] = IoSlice::new(chunk);
            n += 1;
        }
        if n < MAX_IOVECS && !self.tail.is_empty() {
            out[n] = IoSlice::new(&self.tail);
            n += 1;
        }
        n
    }

    /// Everything queued, if it is all in one buffer.
    pub(crate) fn only_buffer(&self) -> Option<&[u8]> {
        if self.chunks.is_empty() {
            Some(&self.tail)
        } else if self.tail.is_empty() && self.chunks.len() == 1 {
            self.chunks.front().map(|c| &c[..])
        } else {
            None
        }
    }

    /// The front of the queue as one slice (for transports that take one buffer).
    pub(crate) fn front(&self) -> &[u8] {
        match self.chunks.front() {
            Some(c) => c,
            None => &self.tail,
        }
    }

    /// Drops the first `n` bytes, which were written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        self.len -= n;
        while n > 0 {
            match self.chunks.front_mut() {
                Some(front) if front.len() <= n => {
                    n -= front.len();
                    self.chunks.pop_front();
                }
                Some(front) => {
                    front.advance(n);
                    return;
                }
                None => {
                    self.tail.advance(n);
                    return;
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.tail = BytesMut::new();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    //! In the spirit of `iostream_test.py::TestStreamBuffer`.
    use super::*;

    fn drain(w: &mut WriteBuffer) -> Vec<u8> {
        let mut out = Vec::new();
        while !w.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let n = w.io_slices(&mut slices);
            // Write at most 7 bytes at a time, across slice boundaries.
            let mut budget = 7;
            let mut written = 0;
            for s in &slices[..n] {
                let k = s.len().min(budget);
                out.extend_from_slice(&s[..k]);
                budget -= k;
                written += k;
                if budget == 0 {
                    break;
                }
            }
            w.advance(written);
        }
        out
    }

    #[test]
    fn test_small() {
        let mut w = WriteBuffer::default();
        w.push(Bytes::from_static(b"abc"));
        w.push_slice(b"de");
        w.push(Bytes::from_static(b"f"));
        assert_eq!(w.len(), 6);
        assert_eq!(drain(&mut w), b"abcdef");
        assert!(w.is_empty());
    }

    #[test]
    fn only_buffer_only_when_everything_is_one_slice() {
        let mut w = WriteBuffer::default();
        w.push_slice(b"tail");
        assert_eq!(w.only_buffer(), Some(&b"tail"[..]));
        w.push(Bytes::from(vec![1u8; 5000]));
        assert_eq!(w.only_buffer(), None, "tail then chunk");
        w.advance(4);
        assert_eq!(w.only_buffer().map(<[u8]>::len), Some(5000));
        w.push_slice(b"x");
        assert_eq!(w.only_buffer(), None, "chunk then tail");
    }

    #[test]
    fn test_large() {
        let big: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut w = WriteBuffer::default();
        w.push_slice(b"head");
        w.push(Bytes::from(big.clone()));
        w.push_slice(b"tail");
        let mut want = b"head".to_vec();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"tail");
        assert_eq!(drain(&mut w), want);
    }

    #[test]
    fn test_interleaved_random() {
        let mut w = WriteBuffer::default();
        let mut want = Vec::new();
        let mut seed = 12345u32;
        for _ in 0..500 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = (seed >> 16) as usize % 9000;
            let data: Vec<u8> = (0..len).map(|i| (i as u32 ^ seed) as u8).collect();
            want.extend_from_slice(&data);
            if seed.is_multiple_of(2) {
                w.push(Bytes::from(data));
            } else {
                w.push_slice(&data);
            }
            if seed.is_multiple_of(5) {
                let mut partial = [IoSlice::new(&[]); MAX_IOVECS];
                let n = w.io_slices(&mut partial);
                let k = partial[..n].iter().map(|s| s.len()).sum::<usize>() / 2;
                let got: Vec<u8> = partial[..n]
                    .iter()
                    .flat_map(|s| s.iter().copied())
                    .take(k)
                    .collect();
                assert_eq!(&got[..], &want[..k]);
                w.advance(k);
                want.drain(..k);
            }
        }
        assert_eq!(drain(&mut w), want);
    }

    #[test]
    fn test_release_large_views() {
        let mut r = ReadBuffer::default();
        r.extend(&vec![7u8; 200_000]);
        let all = r.take_all();
        assert_eq!(all.len(), 200_000);
        assert_eq!(r.buf.capacity(), 0, "a large empty buffer is freed");
    }

    #[test]
    fn large_copies_into_an_empty_buffer_avoid_4k_aliasing() {
        // Sources at every 16-byte offset of a page: whatever the allocator gives, the data
        // lands where the copy is not in the slow window.
        let backing = vec![5u8; 70_000];
        let mut r = ReadBuffer::default();
        for offset in (0..4096).step_by(16) {
            let data = &backing[offset..offset + 65_000];
            r.extend(data);
            let dst = r.buf.as_ptr() as usize;
            assert!(!aliased(dst, data.as_ptr() as usize), "offset {offset}");
            assert_eq!(r.as_slice(), data);
            let taken = r.take_all();
            assert_eq!(taken.len(), 65_000);
        }
    }

    #[test]
    fn read_buffer_find_and_take() {
        let mut r = ReadBuffer::default();
        r.extend(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest");
        let end = r.find(b"\r\n\r\n", 0).unwrap();
        assert_eq!(r.take(end).as_ref(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.as_slice(), b"rest");
        assert_eq!(r.find(b"\r\n", 2), None);
        let mut dst = [0u8; 2];
        assert_eq!(r.take_into(&mut dst), 2);
        assert_eq!(&dst, b"re");
        assert_eq!(r.len(), 2);
    }
}

//! [`StreamSettings`]: a stream's buffer limits.

/// Buffer limits of a stream (the keyword arguments of Tornado's `BaseIOStream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    pub(crate) max_buffer_size: usize,
    pub(crate) read_chunk_size: usize,
    pub(crate) max_write_buffer_size: Option<usize>,
}

/// 100 MiB: Tornado's default `max_buffer_size`.
pub const DEFAULT_MAX_BUFFER_SIZE: usize = 100 * 1024 * 1024;
/// 64 KiB: Tornado's default `read_chunk_size`.
pub const DEFAULT_READ_CHUNK_SIZE: usize = 64 * 1024;

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            max_buffer_size: DEFAULT_MAX_BUFFER_SIZE,
            read_chunk_size: DEFAULT_READ_CHUNK_SIZE,
            max_write_buffer_size: None,
        }
    }
}

impl StreamSettings {
    /// Settings with Tornado's defaults.
    pub fn new() -> Self {
        StreamSettings::default()
    }

    /// The most bytes the read buffer may hold; past it the stream is closed with a
    /// `StreamBufferFullError` (`max_buffer_size`). Default is 100 MiB.
    pub fn max_buffer_size(mut self, bytes: usize) -> Self {
        self.max_buffer_size = bytes.max(1);
        self
    }

    /// The most bytes asked of the OS per read (`read_chunk_size`), capped at half of
    /// `max_buffer_size`. Default is 64 KiB.
    pub fn read_chunk_size(mut self, bytes: usize) -> Self {
        self.read_chunk_size = bytes.max(1);
        self
    }

    /// The most bytes that may wait in the write buffer; a write past it fails with a
    /// `StreamBufferFullError` (`max_write_buffer_size`). Default is `None`: unbounded.
    pub fn max_write_buffer_size(mut self, bytes: Option<usize>) -> Self {
        self.max_write_buffer_size = bytes;
        self
    }

    /// `max_buffer_size`.
    pub fn get_max_buffer_size(&self) -> usize {
        self.max_buffer_size
    }

    /// The effective read chunk size: `read_chunk_size`, at most half of `max_buffer_size`
    /// (as Tornado caps it), at least one byte.
    pub fn get_read_chunk_size(&self) -> usize {
        self.read_chunk_size.min(self.max_buffer_size / 2).max(1)
    }

    /// `max_write_buffer_size`.
    pub fn get_max_write_buffer_size(&self) -> Option<usize> {
        self.max_write_buffer_size
    }
}

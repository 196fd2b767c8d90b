//! Waiting for and reading a request head, within the connection's idle timeout.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tornado_ioloop::{IoLoop, Sleep};
use tornado_iostream::IoStream;

use super::head::HeadScanner;
use super::in_place::{HeaderSpan, RequestLayout, parse_in_place};

/// The idle timeout: one timer per connection, re-armed only when it fires early (the
/// connection was active meanwhile), instead of once per request.
pub(super) struct IdleTimer {
    pub(super) timeout: Duration,
    pub(super) sleep: Option<Sleep>,
    pub(super) last_activity: Instant,
}

impl IdleTimer {
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let due = self.last_activity + self.timeout;
        let sleep = self
            .sleep
            .get_or_insert_with(|| IoLoop::current().sleep(due));
        loop {
            if Pin::new(&mut *sleep).poll(cx).is_pending() {
                return false;
            }
            let due = self.last_activity + self.timeout;
            if Instant::now() >= due {
                return true;
            }
            sleep.reset(due);
        }
    }
}

/// Why no head came.
pub(super) enum HeadError {
    TimedOut,
    /// Closed, reset, or too large (Tornado closes without a response for all three).
    Gone,
}

/// A head read off the stream: parsed in place already (the usual case), or only delimited.
pub(super) enum ReadHead {
    InPlace(Bytes, RequestLayout),
    Delimited(Bytes),
}

/// Reads the next head (at most `max_header_size` bytes). When it has to wait for the
/// client, it first sends the answers held back for batching.
pub(super) async fn read_head(
    stream: &IoStream,
    max_header_size: usize,
    idle: &mut Option<IdleTimer>,
    spans: &mut Vec<HeaderSpan>,
) -> Result<ReadHead, HeadError> {
    // The first look tries a whole parse; from then on (a head that came in pieces, or that
    // the in-place parse declined) the scanner delimits it, each byte examined once.
    let mut scanner: Option<HeadScanner> = None;
    let read = stream.read_with(Some(max_header_size), |buf| {
        if scanner.is_none() {
            if let Some((n, layout)) = parse_in_place(buf, spans) {
                return Ok(Some((n, Some(layout))));
            }
            scanner = Some(HeadScanner::default());
        }
        Ok(scanner
            .as_mut()
            .and_then(|s| s.scan(buf))
            .map(|n| (n, None)))
    });
    let mut read = pin!(read);
    let mut flushed = false;
    poll_fn(|cx| {
        if let Poll::Ready(r) = read.as_mut().poll(cx) {
            return Poll::Ready(match r {
                Ok((head, Some(layout))) => Ok(ReadHead::InPlace(head, layout)),
                Ok((head, None)) => Ok(ReadHead::Delimited(head)),
                Err(_) => Err(HeadError::Gone),
            });
        }
        if !flushed {
            // Waiting for the client: answers held back for batching go out now.
            flushed = true;
            if stream.writing() {
                drop(stream.flush()); // sending starts now; failures surface on the read
            }
        }
        if let Some(idle) = idle.as_mut()
            && idle.poll_expired(cx)
        {
            return Poll::Ready(Err(HeadError::TimedOut));
        }
        Poll::Pending
    })
    .await
}

//! The response side of one exchange: the request body sent at once or on `100 Continue`,
//! and [`Collector`], the message delegate that keeps or streams the body and hands the head
//! to `header_callback` (Tornado's `_HTTPConnection` as an `HTTPMessageDelegate`).

use std::io;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use http::header::{HeaderMap, LOCATION};
use tornado_httpserver::http1::HttpClientConnection;
use tornado_httpserver::httputil::{HttpInputError, ResponseStartLine};
use tornado_httpserver::{HttpMessageDelegate, StartLine};

use crate::request::{BodyProducer, BodyWriter, HeaderCallback, HttpRequest, Streaming};
use crate::util::canonical_name;

/// The request body, sent at once or on `100 Continue`.
pub(crate) struct PendingBody {
    pub(crate) conn: Rc<HttpClientConnection>,
    pub(crate) body: Option<Bytes>,
    pub(crate) producer: Option<BodyProducer>,
}

impl PendingBody {
    pub(crate) async fn send(self) -> io::Result<()> {
        if let Some(body) = &self.body {
            if !body.is_empty() {
                drop(self.conn.write(body));
            }
        } else if let Some(producer) = &self.producer {
            producer(BodyWriter {
                conn: self.conn.clone(),
            })
            .await?;
        }
        drop(self.conn.finish()?);
        Ok(())
    }
}

/// Receives the response (Tornado's `_HTTPConnection` as a message delegate).
pub(crate) struct Collector {
    follow_redirects: bool,
    max_redirects: u32,
    streaming: Option<Streaming>,
    header_callback: Option<HeaderCallback>,
    pub(crate) pending: Option<PendingBody>,
    pub(crate) body_sent: bool,
    pub(crate) code: Option<StatusCode>,
    pub(crate) reason: std::borrow::Cow<'static, str>,
    pub(crate) headers: Option<HeaderMap>,
    pub(crate) redirect: bool,
    pub(crate) body: Body,
    pub(crate) callback_error: Option<io::Error>,
}

/// A kept body: one piece as it came (no copy), or several gathered.
pub(crate) enum Body {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Body {
    fn push(&mut self, chunk: Bytes) {
        *self = match std::mem::replace(self, Body::Empty) {
            Body::Empty => Body::One(chunk),
            Body::One(first) => {
                let mut all = BytesMut::with_capacity(first.len() + chunk.len());
                all.extend_from_slice(&first);
                all.extend_from_slice(&chunk);
                Body::Many(all)
            }
            Body::Many(mut all) => {
                all.extend_from_slice(&chunk);
                Body::Many(all)
            }
        };
    }

    pub(crate) fn take(&mut self) -> Bytes {
        match std::mem::replace(self, Body::Empty) {
            Body::Empty => Bytes::new(),
            Body::One(b) => b,
            Body::Many(b) => b.freeze(),
        }
    }
}

impl Collector {
    pub(crate) fn new(req: &HttpRequest) -> Self {
        Collector {
            follow_redirects: req.follow_redirects.unwrap_or(true),
            max_redirects: req
                .max_redirects
                .unwrap_or(crate::request::DEFAULT_MAX_REDIRECTS),
            streaming: req.streaming_callback.clone(),
            header_callback: req.header_callback.clone(),
            pending: None,
            body_sent: false,
            code: None,
            reason: std::borrow::Cow::Borrowed(""),
            headers: None,
            redirect: false,
            body: Body::Empty,
            callback_error: None,
        }
    }

    fn give_head(&self, line: &ResponseStartLine, headers: &HeaderMap) {
        let Some(cb) = &self.header_callback else {
            return;
        };
        let mut cb = cb.borrow_mut();
        cb(&format!(
            "{:?} {} {}\r\n",
            line.version,
            line.code.as_u16(),
            line.reason
        ));
        for (name, value) in headers {
            cb(&format!(
                "{}: {}\r\n",
                canonical_name(name),
                latin1_text(value.as_bytes())
            ));
        }
        cb("\r\n");
    }
}

/// Header bytes as text, reading them as Latin-1 as Tornado does.
fn latin1_text(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

impl HttpMessageDelegate for Collector {
    async fn informational_received(
        &mut self,
        start_line: &ResponseStartLine,
        headers: &HeaderMap,
    ) -> Result<(), HttpInputError> {
        if start_line.code == StatusCode::CONTINUE
            && let Some(pending) = self.pending.take()
        {
            if let Err(e) = pending.send().await {
                return Err(HttpInputError::new(format!("writing the body failed: {e}")));
            }
            self.body_sent = true;
            return Ok(());
        }
        self.give_head(start_line, headers);
        Ok(())
    }

    async fn headers_received(
        &mut self,
        start_line: StartLine,
        headers: HeaderMap,
    ) -> Result<(), HttpInputError> {
        let StartLine::Response(line) = start_line else {
            return Err(HttpInputError::new(
                "a request where a response was expected",
            ));
        };
        self.code = Some(line.code);
        self.reason = line.reason.clone();
        self.redirect = self.follow_redirects
            && [301, 302, 303, 307, 308].contains(&line.code.as_u16())
            && self.max_redirects > 0
            && headers.contains_key(LOCATION);
        if !self.redirect {
            self.give_head(&line, &headers);
        }
        self.headers = Some(headers);
        Ok(())
    }

    async fn data_received(&mut self, chunk: Bytes) -> Result<(), HttpInputError> {
        if self.redirect {
            return Ok(());
        }
        match &self.streaming {
            None => {
                self.body.push(chunk);
                Ok(())
            }
            Some(Streaming::Sync(cb)) => {
                (cb.borrow_mut())(chunk);
                Ok(())
            }
            Some(Streaming::Async(cb)) => {
                let fut = (cb.borrow_mut())(chunk);
                fut.await.map_err(|e| {
                    let err = HttpInputError::new(format!("streaming_callback failed: {e}"));
                    self.callback_error = Some(e);
                    err
                })
            }
        }
    }

    async fn finish(&mut self) {}
}

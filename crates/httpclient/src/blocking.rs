//! [`HttpClient`]: the blocking client (`tornado.httpclient.HTTPClient`).

use std::fmt;

use tornado_ioloop::IoLoop;

use crate::client::AsyncHttpClient;
use crate::error::HttpClientError;
use crate::request::HttpRequest;
use crate::response::HttpResponse;
use crate::settings::ClientSettings;

/// A blocking HTTP client: an [`AsyncHttpClient`] on a loop of its own, which each
/// [`fetch`](Self::fetch) runs until the response is in (`tornado.httpclient.HTTPClient`).
///
/// For scripts and tests; inside a running loop, use [`AsyncHttpClient`] (as in Tornado, a
/// fetch from within a running loop fails).
///
/// # Examples
///
/// ```no_run
/// use tornado_httpclient::HttpClient;
///
/// let client = HttpClient::new();
/// match client.fetch("http://www.google.com/") {
///     Ok(response) => println!("{}", response.text()),
///     Err(e) => println!("Error: {e}"),
/// }
/// client.close();
/// ```
pub struct HttpClient {
    io_loop: IoLoop,
    client: AsyncHttpClient,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// A client with Tornado's defaults (`HTTPClient()`).
    pub fn new() -> Self {
        HttpClient::with_settings(ClientSettings::default())
    }

    /// A client with `settings` (`HTTPClient(**kwargs)`).
    pub fn with_settings(settings: ClientSettings) -> Self {
        let io_loop = IoLoop::new();
        let client = io_loop
            .run_sync(
                move || std::future::ready(AsyncHttpClient::with_settings(settings)),
                None,
            )
            .expect("a new loop runs");
        HttpClient { io_loop, client }
    }

    /// Fetches `request` and blocks until the response is in (`fetch`). A status outside
    /// 2xx is an error (with the response attached), as with `raise_error=True`.
    pub fn fetch(&self, request: impl Into<HttpRequest>) -> Result<HttpResponse, HttpClientError> {
        self.fetch_with(request, true)
    }

    /// [`fetch`](Self::fetch), with `raise_error` as in [`AsyncHttpClient::fetch`].
    pub fn fetch_with(
        &self,
        request: impl Into<HttpRequest>,
        raise_error: bool,
    ) -> Result<HttpResponse, HttpClientError> {
        let request = request.into();
        let client = self.client.clone();
        match self
            .io_loop
            .run_sync(move || client.fetch(request, raise_error), None)
        {
            Ok(result) => result,
            Err(e) => Err(HttpClientError::closed(format!(
                "cannot run the client's loop: {e}"
            ))),
        }
    }

    /// The asynchronous client underneath.
    pub fn async_client(&self) -> &AsyncHttpClient {
        &self.client
    }

    /// Closes the client and its loop (`close`); dropping it does the same.
    pub fn close(&self) {
        self.client.close();
        let _ = self.io_loop.close();
    }
}

impl Drop for HttpClient {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

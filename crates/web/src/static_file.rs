//! [`StaticFileHandler`] (`tornado.web.StaticFileHandler`): files under a directory, with
//! `Last-Modified` and `ETag` validation, a single `Range`, long caching of versioned URLs
//! (`?v=<hash>`), and refusal of paths that leave the directory, symbolic links included.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, EXPIRES, IF_MODIFIED_SINCE, IF_NONE_MATCH, RANGE};
use sha2::Digest;
use tornado_httpserver::httputil::{get_content_range, parse_http_date, parse_request_range};

use crate::error::{HttpError, Result};
use crate::handler::Handler;
use crate::request_handler::RequestHandler;

/// Versioned URLs are cached this long (`CACHE_MAX_AGE`, ten years).
pub const CACHE_MAX_AGE: u64 = 86_400 * 365 * 10;
/// Files larger than this get no version hash (`MAX_VERSION_CONTENT_SIZE`).
pub const MAX_VERSION_CONTENT_SIZE: u64 = 64 * 1024 * 1024;
/// Version hashes kept per application (`MAX_CACHED_VERSIONS`).
pub const MAX_CACHED_VERSIONS: usize = 10_000;
/// Files are sent in pieces of this size.
const CHUNK: usize = 64 * 1024;

/// Serves the files under a directory (`StaticFileHandler(path, default_filename,
/// allowed_symlink_directory)`); the route's single group is the file's path.
///
/// ```
/// use tornado_web::{Application, StaticFileHandler};
///
/// let app = Application::builder()
///     .route("/files/(.*)", || StaticFileHandler::new("/var/www").default_filename("index.html"))
///     .build()
///     .unwrap();
/// # let _ = app;
/// ```
#[derive(Debug, Clone)]
pub struct StaticFileHandler {
    root: PathBuf,
    default_filename: Option<String>,
    allowed_symlink_directories: Vec<PathBuf>,
}

impl StaticFileHandler {
    /// Serves files under `root` (`initialize(path)`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StaticFileHandler {
            root: root.into(),
            default_filename: None,
            allowed_symlink_directories: Vec::new(),
        }
    }

    /// A directory's request serves this file of it (`default_filename`); a directory
    /// requested without its final `/` is redirected to it.
    pub fn default_filename(mut self, name: impl Into<String>) -> Self {
        self.default_filename = Some(name.into());
        self
    }

    /// Directories that symbolic links may lead into, instead of only the root
    /// (`allowed_symlink_directory`).
    pub fn allowed_symlink_directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.allowed_symlink_directories.push(dir.into());
        self
    }

    async fn serve(&mut self, h: &mut Handler, include_body: bool) -> Result {
        let path = h.path_args().first().cloned().unwrap_or_default();
        let absolute = absolute_path(&self.root, &path)?;
        let Some(file) = self.validate(h, &absolute, &path)? else {
            return Ok(());
        };
        let meta = std::fs::metadata(&file).map_err(|_| HttpError::new(404))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map(|d| UNIX_EPOCH + Duration::from_secs(d.as_secs()));
        // set_headers
        h.set_header("Accept-Ranges", "bytes")?;
        // `compute_etag` is the version hash (none for an unreadable or huge file).
        if let Some(version) = h.static_version(&file) {
            h.set_header(http::header::ETAG, format!("\"{version}\""))?;
        }
        if let Some(m) = modified {
            h.set_header("Last-Modified", m)?;
        }
        h.set_header(CONTENT_TYPE, content_type(&file))?;
        if h.request().query_arguments().contains_key("v") {
            h.set_header(
                EXPIRES,
                SystemTime::now() + Duration::from_secs(CACHE_MAX_AGE),
            )?;
            h.set_header(CACHE_CONTROL, format!("max-age={CACHE_MAX_AGE}"))?;
        }
        if should_return_304(h, modified) {
            h.set_status(304);
            return Ok(());
        }
        let size = meta.len();
        let range = h
            .request()
            .headers()
            .get(RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_request_range);
        let (mut start, mut end) = (None, None);
        if let Some((s, e)) = range {
            let size_i = i64::try_from(size).unwrap_or(i64::MAX);
            let s = s.map(|s| if s < 0 { (s + size_i).max(0) } else { s });
            let unsatisfiable =
                s.is_some_and(|s| s >= size_i || e.is_some_and(|e| s >= e)) || e == Some(0);
            if unsatisfiable {
                h.set_status(416);
                h.set_header(CONTENT_TYPE, "text/plain")?;
                h.set_header("Content-Range", format!("bytes */{size}"))?;
                return Ok(());
            }
            let e = e.map(|e| e.min(size_i));
            start = s.map(|s| s as u64);
            end = e.map(|e| e as u64);
            if size != end.unwrap_or(size) - start.unwrap_or(0) {
                h.set_status(206);
                h.set_header("Content-Range", get_content_range(start, end, size))?;
            }
        }
        let length = match (start, end) {
            (Some(s), Some(e)) => e - s,
            (None, Some(e)) => e,
            (Some(s), None) => size - s,
            (None, None) => size,
        };
        h.set_header("Content-Length", length)?;
        if !include_body {
            return Ok(());
        }
        let mut f = std::fs::File::open(&file).map_err(|_| HttpError::new(404))?;
        if let Some(s) = start {
            f.seek(SeekFrom::Start(s))?;
        }
        let mut remaining = length;
        let mut buf = vec![0u8; CHUNK];
        while remaining > 0 {
            let want = usize::try_from(remaining).unwrap_or(CHUNK).min(CHUNK);
            let n = f.read(&mut buf[..want])?;
            if n == 0 {
                break;
            }
            remaining -= n as u64;
            h.write(&buf[..n]);
            if h.flush().await.is_err() {
                // The client went away.
                return Ok(());
            }
        }
        Ok(())
    }

    /// `validate_absolute_path`: the file to serve, `None` after a redirect, or an error
    /// (403 outside the root or not a file, 404 missing).
    fn validate(&self, h: &mut Handler, absolute: &Path, path: &str) -> Result<Option<PathBuf>> {
        let allowed: Vec<&Path> = if self.allowed_symlink_directories.is_empty() {
            vec![self.root.as_path()]
        } else {
            self.allowed_symlink_directories
                .iter()
                .map(PathBuf::as_path)
                .collect()
        };
        let mut resolved = resolve_within(absolute, &allowed, path)?;
        if resolved.is_dir() {
            if let Some(default) = &self.default_filename {
                let request_path = h.request().path().to_owned();
                if !request_path.ends_with('/') {
                    if crate::url_checks::is_protocol_relative(&request_path) {
                        return Err(HttpError::new(403)
                            .with_log_message("cannot redirect path with two initial slashes")
                            .into());
                    }
                    h.redirect(&format!("{request_path}/"), true)?;
                    return Ok(None);
                }
                resolved = resolve_within(&resolved.join(default), &allowed, path)?;
            }
        }
        match std::fs::metadata(&resolved) {
            Err(_) => Err(HttpError::new(404).into()),
            Ok(m) if !m.is_file() => Err(HttpError::new(403)
                .with_log_message(format!("{path} is not a file"))
                .into()),
            Ok(_) => Ok(Some(resolved)),
        }
    }
}

impl RequestHandler for StaticFileHandler {
    /// The ETag is the file's version hash, set with the other headers.
    fn compute_etag(_h: &Handler) -> Option<crate::ETag> {
        None
    }

    async fn get(&mut self, h: &mut Handler) -> Result {
        self.serve(h, true).await
    }

    async fn head(&mut self, h: &mut Handler) -> Result {
        self.serve(h, false).await
    }
}

/// `get_absolute_path` + `_check_in_root`: `root/path` with `.` and `..` resolved, refused
/// with 403 if it leaves `root`.
pub(crate) fn absolute_path(root: &Path, path: &str) -> Result<PathBuf> {
    let root = normalize(&std::path::absolute(root)?);
    let joined = normalize(&root.join(path));
    if !joined.starts_with(&root) {
        return Err(HttpError::new(403)
            .with_log_message(format!("{path} is not in root static directory"))
            .into());
    }
    Ok(joined)
}

/// `os.path.abspath`'s lexical clean-up: `.` dropped, `..` removes the previous part.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `_resolve_symlink_target`: the real path of `path`, which must lie in one of `allowed`.
fn resolve_within(path: &Path, allowed: &[&Path], message: &str) -> Result<PathBuf> {
    let Ok(real) = std::fs::canonicalize(path) else {
        // A missing file: not found (its parent was checked to be in the root).
        return Err(HttpError::new(404).into());
    };
    for dir in allowed {
        if let Ok(dir) = std::fs::canonicalize(dir) {
            if real.starts_with(&dir) {
                return Ok(real);
            }
        }
    }
    Err(HttpError::new(403)
        .with_log_message(format!("{message} is not in root static directory"))
        .into())
}

/// `get_content_type`: from the extension; compressed files as Python's `mimetypes` says.
fn content_type(path: &Path) -> String {
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => return "application/gzip".to_owned(),
        Some("bz2" | "xz" | "br" | "Z") => return "application/octet-stream".to_owned(),
        _ => {}
    }
    mime_guess::from_path(path)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_owned()
}

/// `should_return_304`: `If-None-Match` if sent, else `If-Modified-Since`.
fn should_return_304(h: &Handler, modified: Option<SystemTime>) -> bool {
    let headers = h.request().headers();
    if headers.contains_key(IF_NONE_MATCH) {
        return h
            .get_header(http::header::ETAG)
            .is_some_and(|etag| h.check_etag(etag));
    }
    let Some(since) = headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
    else {
        return false;
    };
    modified.is_some_and(|m| since >= m)
}

/// `get_content_version`: SHA-512 of the file, hex; `None` if it cannot be read or is
/// larger than [`MAX_VERSION_CONTENT_SIZE`].
pub fn content_version(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut hasher = sha2::Sha512::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > MAX_VERSION_CONTENT_SIZE {
            log::error!(target: "general", "Could not open static file {path:?}: content is larger than MAX_VERSION_CONTENT_SIZE ({MAX_VERSION_CONTENT_SIZE} bytes)");
            return None;
        }
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The application's cache of version hashes by absolute path (`_static_hashes`), oldest
/// dropped first past [`MAX_CACHED_VERSIONS`].
#[derive(Debug, Default)]
pub(crate) struct VersionCache {
    inner: Mutex<Versions>,
}

/// The hashes by path, and the paths in the order they were added.
#[derive(Debug, Default)]
struct Versions {
    hashes: HashMap<PathBuf, Option<String>>,
    order: VecDeque<PathBuf>,
}

impl VersionCache {
    pub(crate) fn get(&self, path: &Path, cache: bool) -> Option<String> {
        if !cache {
            return content_version(path);
        }
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = guard.hashes.get(path) {
            return v.clone();
        }
        let v = content_version(path);
        while guard.hashes.len() >= MAX_CACHED_VERSIONS {
            match guard.order.pop_front() {
                Some(old) => {
                    guard.hashes.remove(&old);
                }
                None => break,
            }
        }
        guard.hashes.insert(path.to_owned(), v.clone());
        guard.order.push_back(path.to_owned());
        v
    }
}

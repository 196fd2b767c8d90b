//! Cookies, signed cookies and XSRF tokens of a [`Handler`].

use std::time::{Duration, SystemTime};

use http::HeaderValue;
use http::header::SET_COOKIE;

use super::Handler;
use crate::cookies::{CookieOptions, InvalidCookie, set_cookie_line};
use crate::error::{Error, HttpError, Result};

impl Handler {
    /// The value of cookie `name` the client sent (`get_cookie`).
    pub fn get_cookie(&self, name: &str) -> Option<&str> {
        self.s.request.cookies().get(name).map(String::as_str)
    }

    /// Sets cookie `name` to `value` with path `/` (`set_cookie(name, value)`); it is sent
    /// with the response headers, and a later cookie of the same name replaces it.
    pub fn set_cookie(&mut self, name: &str, value: &str) -> Result<(), InvalidCookie> {
        self.set_cookie_with(name, value, &CookieOptions::default())
    }

    /// [`set_cookie`](Handler::set_cookie) with attributes.
    pub fn set_cookie_with(
        &mut self,
        name: &str,
        value: &str,
        options: &CookieOptions,
    ) -> Result<(), InvalidCookie> {
        let line = set_cookie_line(name, value, options)?;
        let value = HeaderValue::try_from(line).map_err(|_| InvalidCookie::new(name, value))?;
        self.s.new_cookies.retain(|(n, _)| n != name);
        self.s.new_cookies.push((name.to_owned(), value));
        Ok(())
    }

    /// Deletes cookie `name` (`clear_cookie`): sets it empty, expired a year ago. `options`
    /// must name the domain and path it was set with; its `expires` and `max_age` are
    /// ignored.
    pub fn clear_cookie(
        &mut self,
        name: &str,
        options: &CookieOptions,
    ) -> Result<(), InvalidCookie> {
        let options = CookieOptions {
            expires: Some(SystemTime::now() - Duration::from_secs(365 * 86_400)),
            expires_days: None,
            max_age: None,
            ..options.clone()
        };
        self.set_cookie_with(name, "", &options)
    }

    /// Deletes every cookie the request carried (`clear_all_cookies`).
    pub fn clear_all_cookies(&mut self, options: &CookieOptions) -> Result<(), InvalidCookie> {
        let names: Vec<String> = self.s.request.cookies().keys().cloned().collect();
        for name in names {
            self.clear_cookie(&name, options)?;
        }
        Ok(())
    }

    /// Signs `value` under `name` with the `cookie_secret` setting (`create_signed_value`).
    pub fn create_signed_value(&self, name: &str, value: &[u8]) -> Result<String> {
        self.create_signed_value_version(
            name,
            value,
            crate::signed_value::DEFAULT_SIGNED_VALUE_VERSION,
        )
    }

    fn create_signed_value_version(
        &self,
        name: &str,
        value: &[u8],
        version: u32,
    ) -> Result<String> {
        let secret = self.cookie_secret()?;
        Ok(crate::signed_value::create_signed_value(
            secret,
            name,
            value,
            version,
            crate::signed_value::now(),
        )?)
    }

    fn cookie_secret(&self) -> Result<&crate::signed_value::CookieSecret> {
        self.s
            .app
            .settings
            .cookie_secret
            .as_ref()
            .ok_or_else(|| Error::msg("the cookie_secret setting is needed for signed cookies"))
    }

    /// Sets a signed cookie that expires in 30 days (`set_signed_cookie`), readable with
    /// [`get_signed_cookie`](Handler::get_signed_cookie).
    pub fn set_signed_cookie(&mut self, name: &str, value: &[u8]) -> Result {
        let options = CookieOptions {
            expires_days: Some(30.0),
            ..CookieOptions::default()
        };
        self.set_signed_cookie_with(name, value, &options, None)
    }

    /// [`set_signed_cookie`](Handler::set_signed_cookie) with attributes and a signed-value
    /// version (`set_signed_cookie(name, value, expires_days, version, **kwargs)`).
    pub fn set_signed_cookie_with(
        &mut self,
        name: &str,
        value: &[u8],
        options: &CookieOptions,
        version: Option<u32>,
    ) -> Result {
        let version = version.unwrap_or(crate::signed_value::DEFAULT_SIGNED_VALUE_VERSION);
        let signed = self.create_signed_value_version(name, value, version)?;
        Ok(self.set_cookie_with(name, &signed, options)?)
    }

    /// The value of signed cookie `name` if its signature is good and it is at most 31
    /// days old (`get_signed_cookie`).
    pub fn get_signed_cookie(&self, name: &str) -> Option<Vec<u8>> {
        self.get_signed_cookie_with(
            name,
            31.0,
            crate::signed_value::DEFAULT_SIGNED_VALUE_MIN_VERSION,
        )
    }

    /// [`get_signed_cookie`](Handler::get_signed_cookie) with a maximum age and a minimum
    /// signed-value version.
    pub fn get_signed_cookie_with(
        &self,
        name: &str,
        max_age_days: f64,
        min_version: u32,
    ) -> Option<Vec<u8>> {
        let secret = self.s.app.settings.cookie_secret.as_ref()?;
        let value = self.get_cookie(name)?;
        crate::signed_value::decode_signed_value(
            secret,
            name,
            value,
            max_age_days,
            crate::signed_value::now(),
            min_version,
        )
    }

    /// The key version signed cookie `name` was signed with (`get_signed_cookie_key_version`).
    pub fn get_signed_cookie_key_version(&self, name: &str) -> Option<u32> {
        crate::signed_value::get_signature_key_version(self.get_cookie(name)?)
    }

    /// The XSRF token of this request (`xsrf_token`): the `_xsrf` cookie's, or a new one, in
    /// which case the cookie is set. Each call for a page masks it anew (version 2).
    pub fn xsrf_token(&mut self) -> Result<String> {
        if let Some(t) = &self.s.xsrf_token {
            return Ok(t.clone());
        }
        let raw = self.raw_xsrf_token().clone();
        let settings = &self.s.app.settings;
        let version = settings.xsrf_cookie_version;
        if version != 1 && version != 2 {
            return Err(Error::msg(format!("unknown xsrf cookie version {version}")));
        }
        let token = crate::xsrf::encode(&raw, version);
        if raw.version.is_none() {
            let mut options = settings.xsrf_cookie_options.clone();
            if self.current_user().is_some()
                && options.expires_days.is_none()
                && options.expires.is_none()
            {
                options.expires_days = Some(30.0);
            }
            let name = settings.xsrf_cookie_name.clone();
            self.set_cookie_with(&name, &token, &options)?;
        }
        self.s.xsrf_token = Some(token.clone());
        Ok(token)
    }

    /// The token from the cookie, or a new one (`_get_raw_xsrf_token`).
    fn raw_xsrf_token(&mut self) -> &crate::xsrf::RawToken {
        if self.s.raw_xsrf.is_none() {
            let name = &self.s.app.settings.xsrf_cookie_name;
            let from_cookie = self
                .get_cookie(name)
                .and_then(crate::xsrf::decode)
                .filter(|t| !t.token.is_empty());
            self.s.raw_xsrf = Some(from_cookie.unwrap_or_else(crate::xsrf::new_token));
        }
        self.s.raw_xsrf.as_ref().expect("set above")
    }

    /// A hidden form field with the XSRF token (`xsrf_form_html`).
    pub fn xsrf_form_html(&mut self) -> Result<String> {
        let token = self.xsrf_token()?;
        Ok(format!(
            "<input type=\"hidden\" name=\"_xsrf\" value=\"{}\"/>",
            crate::escape::xhtml_escape(&token)
        ))
    }

    /// Checks the request's XSRF token against the cookie's (`check_xsrf_cookie`): the
    /// `_xsrf` argument, or the `X-XSRFToken` or `X-CSRFToken` header; 403 when missing or
    /// different.
    pub fn check_xsrf_cookie(&mut self) -> Result {
        let submitted = match self.get_arguments("_xsrf")?.pop().filter(|t| !t.is_empty()) {
            Some(t) => Some(t),
            None => ["x-xsrftoken", "x-csrftoken"].iter().find_map(|h| {
                self.s
                    .request
                    .headers()
                    .get(*h)
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            }),
        };
        let Some(submitted) = submitted else {
            return Err(HttpError::new(403)
                .with_log_message("'_xsrf' argument missing from POST")
                .into());
        };
        let token = crate::xsrf::decode(&submitted)
            .map(|t| t.token)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(HttpError::new(403)
                .with_log_message("'_xsrf' argument has invalid format")
                .into());
        }
        let expected = self.raw_xsrf_token().token.clone();
        if !crate::signed_value::constant_time_eq(&token, &expected) {
            return Err(HttpError::new(403)
                .with_log_message("XSRF cookie does not match POST argument")
                .into());
        }
        Ok(())
    }

    /// Moves the cookies set so far into the headers (as `flush` does in Tornado).
    pub(super) fn add_cookie_headers(&mut self) {
        let s = &mut *self.s;
        if s.new_cookies.is_empty() {
            return;
        }
        for (_, value) in s.new_cookies.drain(..) {
            s.headers.append(SET_COOKIE, value);
        }
    }
}

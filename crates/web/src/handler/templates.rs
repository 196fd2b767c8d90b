//! Templates (`render_string`) and static URLs (`static_url`) of a [`Handler`].

use super::Handler;
use crate::error::{Error, Result};

impl Handler {
    /// Renders template `name` with `context` (any `Serialize` map, such as
    /// `minijinja::context!` or a struct) and the handler's namespace (`render_string`):
    /// `request`, `current_user` (if set or looked up already; `RequestHandler::render`
    /// looks it up), `reverse_url(name, args...)`.
    pub fn render_string(&mut self, name: &str, context: &impl serde::Serialize) -> Result<String> {
        let namespace = self.template_namespace()?;
        Ok(self
            .s
            .app
            .templates
            .render(name, namespace, crate::templates::to_value(context))?)
    }

    /// Renders template source `source` (not a file) as
    /// [`render_string`](Handler::render_string) does.
    pub fn render_source(
        &mut self,
        source: &str,
        context: &impl serde::Serialize,
    ) -> Result<String> {
        let namespace = self.template_namespace()?;
        Ok(self.s.app.templates.render_source(
            source,
            namespace,
            crate::templates::to_value(context),
        )?)
    }

    /// What every template sees (`get_template_namespace`): with the `xsrf_cookies`
    /// setting, `xsrf_form_html()` too (its token, and cookie, made now).
    fn template_namespace(&mut self) -> Result<minijinja::Value> {
        use minijinja::Value;
        let form = if self.s.app.settings.xsrf_cookies {
            Some(self.xsrf_form_html()?)
        } else {
            None
        };
        let xsrf_form_html =
            Value::from_function(move || -> std::result::Result<Value, minijinja::Error> {
                match &form {
                    Some(f) => Ok(Value::from_safe_string(f.clone())),
                    None => Err(minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        "xsrf_form_html needs the xsrf_cookies setting",
                    )),
                }
            });
        let req = &self.s.request;
        let app = self.s.app.clone();
        let reverse_url =
            Value::from_function(move |name: String, args: minijinja::value::Rest<String>| {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                app.router.reverse_url(&name, &args).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })
            });
        let urls: Option<(
            std::path::PathBuf,
            String,
            std::sync::Arc<crate::application::AppShared>,
        )> = self.s.app.settings.static_path.clone().map(|root| {
            (
                root,
                self.s.app.settings.static_url_prefix.clone(),
                self.s.app.clone(),
            )
        });
        let static_url = Value::from_function(
            move |path: String| -> std::result::Result<String, minijinja::Error> {
                let Some((root, prefix, app)) = &urls else {
                    return Err(minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        "static_url needs the static_path setting",
                    ));
                };
                let version = crate::static_file::absolute_path(root, &path)
                    .ok()
                    .and_then(|p| app.static_versions.get(&p, app.settings.static_hash_cache));
                Ok(match version {
                    Some(v) => format!("{prefix}{path}?v={v}"),
                    None => format!("{prefix}{path}"),
                })
            },
        );
        Ok(minijinja::context! {
            current_user => self.current_user(),
            request => minijinja::context! {
                method => req.method().as_str(),
                uri => req.uri(),
                path => req.path(),
                query => req.query(),
                host => req.host(),
                remote_ip => req.remote_ip().to_string(),
                protocol => req.protocol(),
            },
            reverse_url => reverse_url,
            xsrf_form_html => xsrf_form_html,
            static_url => static_url,
        })
    }

    /// The version hash of a static file (`get_version`), cached per application unless
    /// `static_hash_cache` is off.
    pub(crate) fn static_version(&self, path: &std::path::Path) -> Option<String> {
        let app = &self.s.app;
        app.static_versions
            .get(path, app.settings.static_hash_cache)
    }

    /// The URL of static file `path` (`static_url`): `static_url_prefix` + `path` +
    /// `?v=<version hash>`, so that it can be cached for ten years. Needs `static_path`.
    pub fn static_url(&self, path: &str) -> Result<String> {
        self.static_url_with(path, false, true)
    }

    /// [`static_url`](Handler::static_url) with the host (`include_host`) and without the
    /// version (`include_version=False`).
    pub fn static_url_with(
        &self,
        path: &str,
        include_host: bool,
        include_version: bool,
    ) -> Result<String> {
        let settings = &self.s.app.settings;
        let Some(root) = &settings.static_path else {
            return Err(Error::msg(
                "You must define the 'static_path' setting in your application to use static_url",
            ));
        };
        let mut url = if include_host {
            format!("{}://{}", self.s.request.protocol(), self.s.request.host())
        } else {
            String::new()
        };
        url.push_str(&settings.static_url_prefix);
        url.push_str(path);
        if include_version {
            let version = crate::static_file::absolute_path(root, path)
                .ok()
                .and_then(|p| self.static_version(&p));
            if let Some(v) = version {
                url.push_str("?v=");
                url.push_str(&v);
            }
        }
        Ok(url)
    }
}

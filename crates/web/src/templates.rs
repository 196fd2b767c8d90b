//! Templates (Tornado's `template_path`, `render`, `render_string`), rendered by
//! [minijinja](https://docs.rs/minijinja) behind a small loader trait: Jinja syntax, which
//! is close to Tornado's own (`{{ x }}`, `{% if %}`, `{% for %}`, `{% extends %}`,
//! `{% block %}`, `{% include %}`); Tornado-only directives such as `{% module %}` and
//! `{% raw %}` are not supported (DIFFERENCES.md).

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment};

use crate::settings::{Autoescape, Settings};

/// Where templates come from (Tornado's `template.BaseLoader`): the source of the template
/// named `name`, or `None` if there is none.
pub trait TemplateLoader: Send + Sync + 'static {
    /// Loads template `name`.
    fn load(&self, name: &str) -> io::Result<Option<String>>;
}

/// Loads templates from files under a directory (`template.Loader(root)`); names are paths
/// relative to it, and a name that would leave it (`..`, an absolute path) is not found.
#[derive(Debug, Clone)]
pub struct FileLoader {
    root: PathBuf,
}

impl FileLoader {
    /// Templates under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileLoader { root: root.into() }
    }
}

impl TemplateLoader for FileLoader {
    fn load(&self, name: &str) -> io::Result<Option<String>> {
        let relative = Path::new(name);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Ok(None);
        }
        match std::fs::read_to_string(self.root.join(relative)) {
            Ok(source) => Ok(Some(source)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Templates from a map of names to sources (`template.DictLoader`).
#[derive(Debug, Clone, Default)]
pub struct DictLoader {
    templates: BTreeMap<String, String>,
}

impl DictLoader {
    /// Templates from `(name, source)` pairs.
    pub fn new<N: Into<String>, S: Into<String>>(
        templates: impl IntoIterator<Item = (N, S)>,
    ) -> Self {
        DictLoader {
            templates: templates
                .into_iter()
                .map(|(n, s)| (n.into(), s.into()))
                .collect(),
        }
    }
}

impl TemplateLoader for DictLoader {
    fn load(&self, name: &str) -> io::Result<Option<String>> {
        Ok(self.templates.get(name).cloned())
    }
}

/// The application's templates: a loader, and (unless caching is off) an environment that
/// keeps what it compiled.
pub(crate) struct Templates {
    loader: Option<Arc<dyn TemplateLoader>>,
    autoescape: Autoescape,
    /// Compiled templates kept (`compiled_template_cache`); off with `debug`.
    cached: Option<Environment<'static>>,
}

impl Templates {
    pub(crate) fn new(settings: &Settings) -> Self {
        let loader = settings.template_loader.clone().or_else(|| {
            settings
                .template_path
                .as_ref()
                .map(|p| Arc::new(FileLoader::new(p)) as Arc<dyn TemplateLoader>)
        });
        let mut t = Templates {
            loader,
            autoescape: settings.autoescape,
            cached: None,
        };
        if settings.compiled_template_cache {
            t.cached = Some(t.environment());
        }
        t
    }

    fn environment(&self) -> Environment<'static> {
        let mut env = Environment::new();
        let escape = self.autoescape;
        env.set_auto_escape_callback(move |_| match escape {
            Autoescape::Xhtml => AutoEscape::Html,
            Autoescape::None => AutoEscape::None,
        });
        // Tornado's `xhtml_escape` (`&<>"'`, not minijinja's extra `/`), so that URLs in
        // templates come out as written.
        env.set_formatter(|out, state, value| {
            if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
                let text = if value.is_undefined() {
                    String::new()
                } else {
                    value.to_string()
                };
                out.write_str(&crate::escape::xhtml_escape(&text))
                    .map_err(|_| minijinja::Error::from(minijinja::ErrorKind::WriteFailure))
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        if let Some(loader) = self.loader.clone() {
            env.set_loader(move |name| {
                loader.load(name).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::TemplateNotFound, e.to_string())
                })
            });
        }
        env
    }

    /// Renders template `name` with `namespace` (the handler's) and `context` (the
    /// caller's, which wins where names clash).
    pub(crate) fn render(
        &self,
        name: &str,
        namespace: Value,
        context: Value,
    ) -> Result<String, TemplateError> {
        if self.loader.is_none() {
            return Err(TemplateError(format!(
                "no template_path or template_loader set to load {name:?}"
            )));
        }
        let ctx = minijinja::value::merge_maps([context, namespace]);
        let render = |env: &Environment<'static>| env.get_template(name)?.render(ctx.clone());
        let result = match &self.cached {
            Some(env) => render(env),
            None => render(&self.environment()),
        };
        result.map_err(|e| TemplateError(format!("{e:#}")))
    }

    /// Renders `source` (not a named template) with the same namespace.
    pub(crate) fn render_source(
        &self,
        source: &str,
        namespace: Value,
        context: Value,
    ) -> Result<String, TemplateError> {
        let ctx = minijinja::value::merge_maps([context, namespace]);
        let env = match &self.cached {
            Some(env) => env.render_str(source, ctx),
            None => self.environment().render_str(source, ctx),
        };
        env.map_err(|e| TemplateError(format!("{e:#}")))
    }
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("autoescape", &self.autoescape)
            .field("cached", &self.cached.is_some())
            .finish_non_exhaustive()
    }
}

/// A template that could not be loaded or rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

/// A serializable value as a template value.
pub(crate) fn to_value(context: &impl serde::Serialize) -> Value {
    Value::from(Serde(context))
}

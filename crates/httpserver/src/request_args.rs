//! The arguments, files and cookies of a request, parsed when first asked for.

/// Lazily parsed parts of a request.
#[derive(Debug, Default)]
pub(crate) struct RequestArgs {}

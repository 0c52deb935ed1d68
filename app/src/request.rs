//! What the HTTP layer left in the request a server function or page is answering.

use leptos::prelude::use_context;

/// The audit trail the HTTP layer opened for this server-function call (none while rendering a
/// page: pages load their data through server functions).
pub fn trail() -> Option<domain::platform::audit::Trail> {
    use_context::<http::request::Parts>()?
        .extensions
        .get::<domain::platform::audit::Trail>()
        .cloned()
}

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

/// Who is asking, looked up once per page render: a page loads its data through several server
/// functions at once, and each would otherwise read the session and the person's roles again
/// (and touch the session). The HTTP layer puts an empty one into each page load's request;
/// server-function calls get none and look up for themselves (some of them change the session).
#[derive(Clone, Debug, Default)]
pub struct AskerOnce {
    signed_in: std::sync::Arc<tokio::sync::OnceCell<Option<domain::access::accounts::SignedIn>>>,
    identity: std::sync::Arc<tokio::sync::OnceCell<domain::platform::policy::Identity>>,
}

impl AskerOnce {
    /// The request's session and account, from `lookup` the first time it is asked for.
    pub async fn signed_in<F>(&self, lookup: F) -> domain::Result<Option<domain::access::accounts::SignedIn>>
    where
        F: std::future::Future<Output = domain::Result<Option<domain::access::accounts::SignedIn>>>,
    {
        self.signed_in.get_or_try_init(|| lookup).await.cloned()
    }

    /// The signed-in person's identity, from `lookup` the first time it is asked for.
    pub async fn identity<F>(&self, lookup: F) -> domain::Result<domain::platform::policy::Identity>
    where
        F: std::future::Future<Output = domain::Result<domain::platform::policy::Identity>>,
    {
        self.identity.get_or_try_init(|| lookup).await.cloned()
    }
}

/// The lookups of this page render, if it is one.
pub fn asker_once() -> Option<AskerOnce> {
    use_context::<http::request::Parts>()?
        .extensions
        .get::<AskerOnce>()
        .cloned()
}

//! Candor's user interface: pages, components and server functions, compiled for the server
//! (`ssr`) and for the browser (`hydrate`).

pub mod api;
pub mod comment_secrets;
pub mod components;
pub mod error;
pub mod files;
pub mod ids;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod state;
pub mod transport;
pub mod webauthn;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::components::layout::Layout;
use crate::pages::{
    authenticator::AuthenticatorPage,
    check_ins::{CheckInPage, CheckInsPage},
    departments::DepartmentsPage,
    home::HomePage,
    landing::LandingPage,
    login::{LoginPage, SecondFactorPage},
    not_found::NotFound,
    people::{InvitationPage, PeoplePage, PersonPage, ProfilePage},
    reset_password::{ForgotPasswordPage, ResetPasswordPage},
    results::{ResultsListPage, RoundResultsPage},
    roles::RolesPage,
    security::SecurityPage,
    sessions::SessionsPage,
    settings::SettingsPage,
    setup::SetupPage,
    sign_in_methods::SignInMethodsPage,
    signup::SignupPage,
    surveys::SurveysPage,
    verify_email::VerifyEmailPage,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    state::set_page_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="flex min-h-screen flex-col bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/candor.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Candor".to_owned() } else { format!("{page} · Candor") }
        } />
        // Pages render in `SsrMode::Async`: the data they load on the server is read to the end
        // before the answer leaves, so each read is in the access log entry of the page load.
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=LandingPage ssr=SsrMode::Async />
                    <Route path=path!("/security") view=SecurityPage ssr=SsrMode::Async />
                    <Route path=path!("/subprocessors") view=pages::subprocessors::SubprocessorsPage ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async />
                    <Route path=path!("/verify-email") view=VerifyEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/login/code") view=SecondFactorPage ssr=SsrMode::Async />
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async />
                    <Route path=path!("/setup/authenticator") view=AuthenticatorPage ssr=SsrMode::Async />
                    <Route path=path!("/sign-in-methods") view=SignInMethodsPage ssr=SsrMode::Async />
                    <Route path=path!("/home") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async />
                    <Route path=path!("/departments") view=DepartmentsPage ssr=SsrMode::Async />
                    <Route path=path!("/people") view=PeoplePage ssr=SsrMode::Async />
                    <Route path=path!("/people/:id") view=PersonPage ssr=SsrMode::Async />
                    <Route path=path!("/people/:id/data") view=pages::privacy::PersonDataPage ssr=SsrMode::Async />
                    <Route path=path!("/data-requests") view=pages::privacy::DataRequestsPage ssr=SsrMode::Async />
                    <Route path=path!("/help") view=pages::help::HelpPage ssr=SsrMode::Async />
                    <Route path=path!("/invitation") view=InvitationPage ssr=SsrMode::Async />
                    <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=pages::audit::AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/roles") view=RolesPage ssr=SsrMode::Async />
                    <Route path=path!("/surveys") view=SurveysPage ssr=SsrMode::Async />
                    <Route path=path!("/check-ins") view=CheckInsPage ssr=SsrMode::Async />
                    <Route path=path!("/check-ins/:round") view=CheckInPage ssr=SsrMode::Async />
                    <Route path=path!("/results") view=ResultsListPage ssr=SsrMode::Async />
                    <Route path=path!("/results/:round") view=RoundResultsPage ssr=SsrMode::Async />
                    <Route path=path!("/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/reset-password") view=ResetPasswordPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

//! Candor's user interface: pages, components and server functions, compiled for the server
//! (`ssr`) and for the browser (`hydrate`).

pub mod api;
pub mod comment_secrets;
pub mod components;
pub mod error;
pub mod files;
pub mod ids;
#[cfg(feature = "ssr")]
pub mod imports;
pub mod model;
pub mod pages;
pub mod pause;
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
    lazy_route, path, Lazy, LazyRoute, SsrMode,
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
                    <Route path=path!("/") view={Lazy::<LandingRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/security") view={Lazy::<SecurityRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/subprocessors") view={Lazy::<SubprocessorsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/signup") view={Lazy::<SignupRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/verify-email") view={Lazy::<VerifyEmailRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/login/code") view={Lazy::<SecondFactorRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/setup/authenticator") view={Lazy::<AuthenticatorRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/sign-in-methods") view={Lazy::<SignInMethodsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/home") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/sessions") view={Lazy::<SessionsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/departments") view={Lazy::<DepartmentsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/people") view={Lazy::<PeopleRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/people/:id") view={Lazy::<PersonRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/people/:id/data") view={Lazy::<PersonDataRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/data-requests") view={Lazy::<DataRequestsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/help") view={Lazy::<HelpRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/invitation") view={Lazy::<InvitationRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/profile") view={Lazy::<ProfileRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/roles") view={Lazy::<RolesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/surveys") view={Lazy::<SurveysRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/check-ins") view=CheckInsPage ssr=SsrMode::Async />
                    <Route path=path!("/check-ins/:round") view=CheckInPage ssr=SsrMode::Async />
                    <Route path=path!("/results") view={Lazy::<ResultsListRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/results/:round") view={Lazy::<RoundResultsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/reset-password") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// Declares routes whose page code is split out of the first bundle (`cargo leptos build
/// --split`) and fetched the first time one of them is opened. Only the check-in pages stay in
/// the first bundle: an employee following an emailed link downloads what answering needs and
/// none of the admin and manager pages.
macro_rules! loaded_on_demand {
    ($($route:ident => $page:path),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    )*};
}

loaded_on_demand! {
    LandingRoute => LandingPage,
    SecurityRoute => SecurityPage,
    SubprocessorsRoute => pages::subprocessors::SubprocessorsPage,
    SignupRoute => SignupPage,
    VerifyEmailRoute => VerifyEmailPage,
    LoginRoute => LoginPage,
    SecondFactorRoute => SecondFactorPage,
    SetupRoute => SetupPage,
    AuthenticatorRoute => AuthenticatorPage,
    SignInMethodsRoute => SignInMethodsPage,
    HomeRoute => HomePage,
    SessionsRoute => SessionsPage,
    DepartmentsRoute => DepartmentsPage,
    PeopleRoute => PeoplePage,
    PersonRoute => PersonPage,
    PersonDataRoute => pages::privacy::PersonDataPage,
    DataRequestsRoute => pages::privacy::DataRequestsPage,
    HelpRoute => pages::help::HelpPage,
    InvitationRoute => InvitationPage,
    ProfileRoute => ProfilePage,
    SettingsRoute => SettingsPage,
    AuditRoute => pages::audit::AuditPage,
    RolesRoute => RolesPage,
    SurveysRoute => SurveysPage,
    ResultsListRoute => ResultsListPage,
    RoundResultsRoute => RoundResultsPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
}

//! The app shell: skip link, header with navigation (a toggle menu on phones), main, footer.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::{api::account::me, model::Permission};

const VISITOR_LINKS: &[(&str, &str)] = &[
    ("/", "Home"),
    ("/security", "Security"),
    ("/login", "Sign in"),
    ("/signup", "Create a workplace"),
];
/// Shown to people who manage the organisation (the `people` permission).
const ORGANISATION_LINKS: &[(&str, &str)] = &[("/people", "People"), ("/departments", "Departments")];
/// The Security page stays one click away in the footer.
const MEMBER_LINKS: &[(&str, &str)] = &[
    ("/profile", "Profile"),
    ("/sign-in-methods", "Sign-in methods"),
    ("/sessions", "Sessions"),
];

fn member_links(permissions: &[Permission]) -> Vec<(&'static str, &'static str)> {
    let has = |wanted: Permission| permissions.contains(&wanted);
    let mut links = vec![("/home", "Home")];
    // Those who run surveys reach their own check-ins from Home; the nav stays short for them.
    if !has(Permission::Surveys) {
        links.push(("/check-ins", "Check-ins"));
    }
    if has(Permission::People) {
        links.extend_from_slice(ORGANISATION_LINKS);
    } else if has(Permission::Results) {
        // Managers see the people in their granted departments.
        links.push(("/people", "People"));
    }
    if has(Permission::People) || has(Permission::Roles) {
        links.push(("/roles", "Roles"));
    }
    if has(Permission::Surveys) {
        links.push(("/surveys", "Surveys"));
    } else if has(Permission::Results) {
        links.push(("/results", "Results"));
    }
    if has(Permission::Settings) {
        links.push(("/settings", "Settings"));
    }
    if has(Permission::Audit) {
        links.push(("/audit", "Access log"));
    }
    links.extend_from_slice(MEMBER_LINKS);
    links
}

fn nav_items(links: Vec<(&'static str, &'static str)>) -> impl IntoView {
    links
        .into_iter()
        .map(|(href, label)| {
            view! {
                <li>
                    <A
                        href=href
                        exact=true
                        attr:class="block rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-teal-50 aria-[current=page]:text-teal-800"
                    >
                        {label}
                    </A>
                </li>
            }
        })
        .collect_view()
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let menu_open = RwSignal::new(false);
    // Close the phone menu whenever the page changes.
    let location = use_location();
    Effect::watch(
        move || location.pathname.get(),
        move |_, _, _| menu_open.set(false),
        false,
    );
    // Whether this session has both factors (and what it may do), checked again on every page
    // change.
    let signed_in = Resource::new(
        move || location.pathname.get(),
        |_| async move { me().await.ok().map(|account| account.permissions) },
    );

    view! {
        <a
            href="#main"
            class="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50 focus:rounded focus:bg-white focus:px-4 focus:py-2 focus:shadow"
        >
            "Skip to content"
        </a>
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-2 px-4 py-3 sm:px-6">
                <A href="/" attr:class="flex items-center gap-2 text-lg font-semibold text-slate-900">
                    <Logo />
                    <span>"Candor"</span>
                </A>
                <button
                    type="button"
                    class="inline-flex min-h-11 items-center rounded-md border border-slate-300 px-3 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-teal-600 sm:hidden"
                    aria-controls="site-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    "Menu"
                </button>
                <nav
                    id="site-nav"
                    aria-label="Main"
                    class=move || {
                        if menu_open.get() { "w-full sm:block sm:w-auto" } else { "hidden sm:block" }
                    }
                >
                    <ul class="flex flex-col gap-1 py-2 sm:flex-row sm:gap-2 sm:py-0">
                        <Transition fallback=|| nav_items(VISITOR_LINKS.to_vec())>
                            {move || Suspend::new(async move {
                                match signed_in.await {
                                    Some(permissions) => nav_items(member_links(&permissions)),
                                    None => nav_items(VISITOR_LINKS.to_vec()),
                                }
                            })}
                        </Transition>
                    </ul>
                </nav>
            </div>
        </header>
        <main id="main" tabindex="-1" class="mx-auto w-full max-w-5xl flex-1 px-4 py-8 sm:px-6 sm:py-12">
            {children()}
        </main>
        <footer class="border-t border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-col gap-2 px-4 py-6 text-sm text-slate-600 sm:flex-row sm:justify-between sm:px-6">
                <p>"Candor — employee pulse surveys with verifiable privacy."</p>
                <p class="flex flex-wrap gap-x-6 gap-y-2">
                    <A href="/help" attr:class="underline hover:text-slate-900">"Help"</A>
                    <A href="/subprocessors" attr:class="underline hover:text-slate-900">"Subprocessors"</A>
                    <A href="/security" attr:class="underline hover:text-slate-900">
                        "How Candor protects your data"
                    </A>
                </p>
            </div>
        </footer>
    }
}

#[component]
fn Logo() -> impl IntoView {
    view! {
        <svg aria-hidden="true" viewBox="0 0 32 32" class="h-7 w-7">
            <rect width="32" height="32" rx="8" class="fill-teal-700" />
            <path d="M10 18.5c2.5 4 9.5 4 12 0" class="fill-none stroke-white" stroke-width="2.5" stroke-linecap="round" />
            <circle cx="12" cy="12" r="2" class="fill-white" />
            <circle cx="20" cy="12" r="2" class="fill-white" />
        </svg>
    }
}

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::state::set_page_status(http::StatusCode::NOT_FOUND);
    view! {
        <Title text="Page not found" />
        <section class="mx-auto max-w-xl py-8 text-center">
            <p class="text-sm font-semibold text-teal-800">"404"</p>
            <h1 class="mt-2 text-3xl font-bold text-slate-900">"Page not found"</h1>
            <p class="mt-4 text-slate-700">"There is no page at this address. It may have moved, or the link may be mistyped."</p>
            <A
                href="/"
                attr:class="mt-6 inline-flex min-h-11 items-center rounded-md bg-teal-700 px-5 font-semibold text-white hover:bg-teal-800"
            >
                "Back to the start"
            </A>
        </section>
    }
}

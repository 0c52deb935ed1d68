use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

const PROMISES: [(&str, &str); 3] = [
    (
        "Anonymous by construction",
        "Answers are stored without the person who gave them. Results appear only for groups large enough that nobody can be singled out.",
    ),
    (
        "Two factors for everyone",
        "Every account sets up a passkey or an authenticator app before it sees anything. New locations and unusual activity ask again.",
    ),
    (
        "Encrypted, logged, yours",
        "Personal fields are encrypted with your workplace's own key, every access is logged without personal data, and you can take your data with you.",
    ),
];

#[component]
pub fn LandingPage() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="max-w-3xl">
            <p class="text-sm font-semibold uppercase tracking-wide text-teal-800">"Employee pulse surveys"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight text-slate-900 sm:text-5xl">
                "Hear how your teams are doing — and prove you protect what they tell you."
            </h1>
            <p class="mt-4 text-lg text-slate-700">
                "Short recurring check-ins that employees answer in a minute, anonymous results for managers, and security promises your data-protection officer can check for themselves."
            </p>
            <div class="mt-6 flex flex-wrap gap-3">
                <A
                    href="/security"
                    attr:class="inline-flex min-h-11 items-center rounded-md bg-teal-700 px-5 text-base font-semibold text-white shadow-sm hover:bg-teal-800 focus:outline-none focus:ring-2 focus:ring-teal-600 focus:ring-offset-2"
                >
                    "See this instance's security facts"
                </A>
            </div>
        </section>
        <section aria-labelledby="promises" class="mt-12">
            <h2 id="promises" class="text-xl font-semibold text-slate-900">"What Candor promises"</h2>
            <ul class="mt-4 grid gap-4 sm:grid-cols-3">
                {PROMISES
                    .into_iter()
                    .map(|(title, text)| {
                        view! {
                            <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                                <h3 class="font-semibold text-slate-900">{title}</h3>
                                <p class="mt-2 text-sm text-slate-700">{text}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

//! Form building blocks shared by the account pages: labelled fields, error alerts, buttons.

use leptos::prelude::*;

use crate::error::ApiError;

pub const INPUT_CLASS: &str = "mt-1 block w-full min-h-11 rounded-md border border-slate-300 bg-white px-3 text-base text-slate-900 shadow-sm focus:border-teal-600 focus:outline-none focus:ring-2 focus:ring-teal-600";
pub const PRIMARY_BUTTON_CLASS: &str = "inline-flex min-h-11 w-full items-center justify-center rounded-md bg-teal-700 px-5 text-base font-semibold text-white shadow-sm hover:bg-teal-800 focus:outline-none focus:ring-2 focus:ring-teal-600 focus:ring-offset-2 disabled:opacity-60 sm:w-auto";

/// A white panel on a page, one per topic.
pub const CARD_CLASS: &str = "mt-6 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6";

pub const SECONDARY_BUTTON_CLASS: &str = "inline-flex min-h-11 w-full items-center justify-center gap-2 rounded-md border border-slate-300 bg-white px-5 text-base font-medium text-slate-800 shadow-sm hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-teal-600 focus:ring-offset-2 disabled:opacity-60 sm:w-auto";

/// For actions that destroy data for good.
pub const DANGER_BUTTON_CLASS: &str = "inline-flex min-h-11 w-full items-center justify-center rounded-md bg-red-700 px-5 text-base font-semibold text-white shadow-sm hover:bg-red-800 focus:outline-none focus:ring-2 focus:ring-red-600 focus:ring-offset-2 disabled:opacity-60 sm:w-auto";

/// A card holding one step of a flow, with its heading.
#[component]
pub fn FormCard(
    title: &'static str,
    #[prop(optional)] intro: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="mx-auto max-w-lg rounded-lg border border-slate-200 bg-white p-6 shadow-sm sm:p-8">
            <h1 class="text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
            {intro.map(|text| view! { <p class="mt-2 text-slate-700">{text}</p> })}
            <div class="mt-6">{children()}</div>
        </section>
    }
}

/// What a page shows when the session cannot see it: the reason, and the way to sign in.
#[component]
pub fn SignInToContinue(message: String) -> impl IntoView {
    view! {
        <FormCard title="Sign in to continue">
            <p role="alert" class="text-slate-700">{message}</p>
            <leptos_router::components::A href="/login" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"Sign in"</leptos_router::components::A>
        </FormCard>
    }
}

/// What a page shows when the signed-in person may not use it: the reason, and the way home.
#[component]
pub fn NotAvailable(message: String) -> impl IntoView {
    view! {
        <FormCard title="Not available">
            <p role="alert" class="text-slate-700">{message}</p>
            <leptos_router::components::A href="/home" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"Home"</leptos_router::components::A>
        </FormCard>
    }
}

/// The error of the last attempt, announced to screen readers.
#[component]
pub fn ErrorAlert(error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().map(|err| {
            view! {
                <p role="alert" class="mb-4 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
                    {err.message}
                </p>
            }
        })
    }
}

/// The error out of an action's last result.
pub fn action_error<T, S>(value: S) -> Signal<Option<ApiError>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|result| result.err()))
}

//! The page behind the emailed link. Confirming takes a click, so mail scanners that open links
//! cannot use the single-use token up.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::account::VerifyEmail,
    components::form::{action_error, ErrorAlert, FormCard, PRIMARY_BUTTON_CLASS},
};

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let token = move || use_query_map().get().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyEmail>::new();
    let done = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Confirm your email address" />
        <Show
            when=done
            fallback=move || view! {
                <FormCard title="Confirm your email address" intro="One click and your address is confirmed.">
                    <ErrorAlert error=action_error(action.value()) />
                    <ActionForm action>
                        <input type="hidden" name="token" prop:value=token />
                        <button type="submit" class=PRIMARY_BUTTON_CLASS>"Confirm my email address"</button>
                    </ActionForm>
                </FormCard>
            }
        >
            <FormCard title="Email address confirmed">
                <p role="status" class="text-slate-700">"Now sign in and set up your second factor."</p>
                <A href="/login" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"Sign in"</A>
            </FormCard>
        </Show>
    }
}

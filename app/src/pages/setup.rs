//! Choosing the first second factor, straight after the first sign-in: a passkey (this device's
//! screen lock or a security key) or an authenticator app. Nothing else is reachable until one
//! is set up.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api::factors::{begin_passkey_enrolment, finish_passkey_enrolment},
    components::{
        factors::{browser_error, RecoveryCodeList},
        form::{ErrorAlert, FormCard, PRIMARY_BUTTON_CLASS, SECONDARY_BUTTON_CLASS},
    },
    webauthn,
};

#[component]
pub fn SetupPage() -> impl IntoView {
    let create = Action::new_local(|_: &()| async move {
        let request = begin_passkey_enrolment().await?;
        let credential = webauthn::create_passkey(request.options)
            .await
            .map_err(browser_error)?;
        finish_passkey_enrolment(request.ceremony, credential, String::new()).await
    });
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let codes = move || create.value().get().and_then(Result::ok).flatten();
    // An account that already had a factor gets no new codes: back to its sign-in methods.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(None))) {
            navigate("/sign-in-methods", Default::default());
        }
    });
    view! {
        <Title text="Set up your second factor" />
        <Show
            when=move || codes().is_some()
            fallback=move || view! {
                <FormCard
                    title="Set up your second factor"
                    intro="Every Candor account signs in with two factors. Choose the one you will use after your password."
                >
                    <ErrorAlert error />
                    <div class="space-y-4">
                        <div class="rounded-md border border-slate-200 p-4">
                            <h2 class="text-lg font-semibold text-slate-900">"Passkey"</h2>
                            <p class="mt-1 text-sm text-slate-700">"Your phone's or computer's screen lock, or a security key. Nothing to type, and it cannot be phished. It also lets you sign in without your email and password."</p>
                            <button type="button" class=format!("mt-4 {PRIMARY_BUTTON_CLASS}")
                                disabled=move || create.pending().get()
                                on:click=move |_| { create.dispatch(()); }>
                                "Create a passkey"
                            </button>
                        </div>
                        <div class="rounded-md border border-slate-200 p-4">
                            <h2 class="text-lg font-semibold text-slate-900">"Authenticator app"</h2>
                            <p class="mt-1 text-sm text-slate-700">"A six-digit code from an app such as 2FAS, Aegis, Google or Microsoft Authenticator."</p>
                            <A href="/setup/authenticator" attr:class=format!("mt-4 {SECONDARY_BUTTON_CLASS}")>"Use an authenticator app"</A>
                        </div>
                    </div>
                </FormCard>
            }
        >
            <FormCard
                title="Save your recovery codes"
                intro="Each code signs you in once if you lose your passkey. Store them somewhere safe, such as a password manager: they are shown only now."
            >
                <RecoveryCodeList codes=codes().unwrap_or_default() />
                <A href="/home" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"I have saved them — continue"</A>
            </FormCard>
        </Show>
    }
}

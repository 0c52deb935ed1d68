//! Sign-in: email and password, then the second factor (passkey, app code or recovery code); or
//! a passkey alone, which is both factors at once.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api::{
        account::{LogIn, NextStep},
        factors::{begin_passkey_sign_in, finish_passkey_sign_in, second_factor_choices},
    },
    components::{
        factors::{browser_error, SecondFactorForm},
        form::{
            action_error, ErrorAlert, FormCard, INPUT_CLASS, PRIMARY_BUTTON_CLASS, SECONDARY_BUTTON_CLASS,
        },
    },
    webauthn,
};

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let passkey = Action::new_local(|_: &()| async move {
        let request = begin_passkey_sign_in().await?;
        let credential = webauthn::use_passkey(request.options)
            .await
            .map_err(browser_error)?;
        finish_passkey_sign_in(request.ceremony, credential).await
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        let next = match (action.value().get(), passkey.value().get()) {
            (_, Some(Ok(()))) | (Some(Ok(NextStep::Done)), _) => "/home",
            (Some(Ok(NextStep::EnterCode)), _) => "/login/code",
            (Some(Ok(NextStep::SetUpAuthenticator)), _) => "/setup",
            _ => return,
        };
        navigate(next, Default::default());
    });
    let passkey_error = Signal::derive(move || passkey.value().get().and_then(Result::err));
    view! {
        <Title text="Sign in" />
        <FormCard title="Sign in">
            <ErrorAlert error=action_error(action.value()) />
            <ErrorAlert error=passkey_error />
            <ActionForm action attr:class="space-y-5">
                <div>
                    <label for="email" class="block text-sm font-medium text-slate-800">"Email"</label>
                    <input id="email" name="email" type="email" required autocomplete="username" class=INPUT_CLASS />
                </div>
                <div>
                    <label for="password" class="block text-sm font-medium text-slate-800">"Password"</label>
                    <input id="password" name="password" type="password" required autocomplete="current-password" class=INPUT_CLASS />
                </div>
                <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || action.pending().get()>"Continue"</button>
            </ActionForm>
            <div class="mt-6 border-t border-slate-200 pt-6">
                <button type="button" class=SECONDARY_BUTTON_CLASS
                    disabled=move || passkey.pending().get()
                    on:click=move |_| { passkey.dispatch(()); }>
                    "Sign in with a passkey"
                </button>
            </div>
            <p class="mt-6 text-sm text-slate-600">
                <A href="/forgot-password" attr:class="font-medium text-teal-800 underline">"Forgot your password?"</A>
            </p>
            <p class="mt-2 text-sm text-slate-600">
                "New to Candor? " <A href="/signup" attr:class="font-medium text-teal-800 underline">"Create a workplace"</A>
            </p>
        </FormCard>
    }
}

#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let choices = Resource::new(|| (), |_| second_factor_choices());
    let navigate = use_navigate();
    let on_done = Callback::new(move |()| navigate("/home", Default::default()));
    view! {
        <Title text="Second step" />
        <FormCard title="Confirm it is you" intro="Use your passkey, or enter the current code from your authenticator app or one of your recovery codes.">
            <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok(choices) => view! {
                            <SecondFactorForm choices submit_label="Sign in" on_done />
                        }.into_any(),
                        Err(err) => view! {
                            <p role="alert" class="text-slate-700">{err.message}</p>
                            <A href="/login" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"Sign in"</A>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </FormCard>
    }
}

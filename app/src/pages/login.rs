//! Sign-in: email and password, then a code from the authenticator app (or a recovery code).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api::account::{LogIn, NextStep, SecondFactor},
    components::form::{action_error, ErrorAlert, FormCard, INPUT_CLASS, PRIMARY_BUTTON_CLASS},
};

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let next = match action.value().get() {
            Some(Ok(NextStep::EnterCode)) => "/login/code",
            Some(Ok(NextStep::SetUpAuthenticator)) => "/setup/authenticator",
            _ => return,
        };
        navigate(next, Default::default());
    });
    view! {
        <Title text="Sign in" />
        <FormCard title="Sign in">
            <ErrorAlert error=action_error(action.value()) />
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
    let action = ServerAction::<SecondFactor>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            navigate("/home", Default::default());
        }
    });
    view! {
        <Title text="Enter your code" />
        <FormCard title="Enter your code" intro="Open your authenticator app and enter the current six-digit code, or one of your recovery codes.">
            <ErrorAlert error=action_error(action.value()) />
            <ActionForm action attr:class="space-y-5">
                <div>
                    <label for="code" class="block text-sm font-medium text-slate-800">"Code"</label>
                    <input id="code" name="code" required autocomplete="one-time-code" inputmode="text" maxlength="20"
                        class=format!("{INPUT_CLASS} font-mono tracking-widest") />
                </div>
                <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
        </FormCard>
    }
}

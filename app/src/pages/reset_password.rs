//! Forgotten passwords: ask for a link by email, then choose a new password. Signing in afterwards
//! still takes the second factor. An account secured as possibly compromised comes here too,
//! through the link mailed when it tried to sign in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    api::account::{RequestPasswordReset, ResetPassword},
    components::form::{action_error, ErrorAlert, FormCard, INPUT_CLASS, PRIMARY_BUTTON_CLASS},
};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let sent = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Reset your password" />
        <Show
            when=sent
            fallback=move || view! {
                <FormCard title="Reset your password" intro="Enter the address you sign in with and we will email you a link to choose a new password.">
                    <ErrorAlert error=action_error(action.value()) />
                    <ActionForm action attr:class="space-y-5">
                        <div>
                            <label for="email" class="block text-sm font-medium text-slate-800">"Email"</label>
                            <input id="email" name="email" type="email" required autocomplete="username" class=INPUT_CLASS />
                        </div>
                        <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || action.pending().get()>"Email me a link"</button>
                    </ActionForm>
                </FormCard>
            }
        >
            <FormCard title="Check your inbox">
                <p role="status" class="text-slate-700">
                    "If an account uses that address, a link to reset its password is on its way. It works once and expires in 30 minutes."
                </p>
            </FormCard>
        </Show>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = move || use_query_map().get().get("token").unwrap_or_default();
    let action = ServerAction::<ResetPassword>::new();
    let done = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Choose a new password" />
        <Show
            when=done
            fallback=move || view! {
                <FormCard title="Choose a new password" intro="Every session of your account ends when you save it.">
                    <ErrorAlert error=action_error(action.value()) />
                    <ActionForm action attr:class="space-y-5">
                        <input type="hidden" name="token" prop:value=token />
                        <div>
                            <label for="password" class="block text-sm font-medium text-slate-800">"New password"</label>
                            <input id="password" name="password" type="password" required minlength="8" maxlength="256"
                                autocomplete="new-password" class=INPUT_CLASS />
                            <p class="mt-1 text-sm text-slate-600">"At least 12 characters; a few unrelated words work well."</p>
                        </div>
                        <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || action.pending().get()>"Save new password"</button>
                    </ActionForm>
                </FormCard>
            }
        >
            <FormCard title="Password changed">
                <p role="status" class="text-slate-700">"Sign in with your new password and your authenticator app or a recovery code."</p>
                <A href="/login" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"Sign in"</A>
            </FormCard>
        </Show>
    }
}

//! Second-factor building blocks shared by sign-in, enrolment and the sign-in methods page.

use leptos::prelude::*;

use crate::{
    api::{
        account::SecondFactor,
        factors::{begin_passkey_check, finish_passkey_check, FactorChoices},
    },
    components::form::{action_error, ErrorAlert, INPUT_CLASS, PRIMARY_BUTTON_CLASS, SECONDARY_BUTTON_CLASS},
    error::ApiError,
    webauthn,
};

/// A browser-side passkey failure, shown like a server error.
pub fn browser_error(message: String) -> ApiError {
    ApiError::new("browser.passkey", &message, 0)
}

/// Recovery codes, shown once, with the advice to store them.
#[component]
pub fn RecoveryCodeList(codes: Vec<String>) -> impl IntoView {
    view! {
        <ol class="grid grid-cols-1 gap-2 font-mono text-base text-slate-900 sm:grid-cols-2" aria-label="Recovery codes">
            {codes.into_iter().map(|code| view! {
                <li class="rounded bg-slate-100 px-3 py-2 text-center">{code}</li>
            }).collect_view()}
        </ol>
    }
}

/// The second factor, by passkey or by code: used to finish signing in and to confirm it is you
/// before a credential change. `on_done` runs once the server accepted it.
#[component]
pub fn SecondFactorForm(
    choices: FactorChoices,
    submit_label: &'static str,
    on_done: Callback<()>,
) -> impl IntoView {
    let code = ServerAction::<SecondFactor>::new();
    let remember = RwSignal::new(false);
    let passkey = Action::new_local(move |_: &()| async move {
        let request = begin_passkey_check().await?;
        let credential = webauthn::use_passkey(request.options)
            .await
            .map_err(browser_error)?;
        finish_passkey_check(request.ceremony, credential, remember.get_untracked()).await
    });
    Effect::new(move |_| {
        if matches!(code.value().get(), Some(Ok(()))) || matches!(passkey.value().get(), Some(Ok(()))) {
            on_done.run(());
        }
    });
    let passkey_error = Signal::derive(move || passkey.value().get().and_then(Result::err));
    view! {
        <ErrorAlert error=passkey_error />
        <ErrorAlert error=action_error(code.value()) />
        {(choices.remember_days > 0).then(|| view! {
            <div class="mb-5 flex min-h-11 items-center gap-3">
                <input id="remember" type="checkbox" class="h-5 w-5 accent-teal-700"
                    on:change=move |ev| remember.set(event_target_checked(&ev)) />
                <label for="remember" class="text-slate-800">
                    {format!("Remember this device for {} days", choices.remember_days)}
                </label>
            </div>
        })}
        {choices.passkey.then(|| view! {
            <button type="button" class=PRIMARY_BUTTON_CLASS
                disabled=move || passkey.pending().get()
                on:click=move |_| { passkey.dispatch(()); }>
                "Use your passkey"
            </button>
        })}
        {(choices.passkey && choices.code).then(|| view! {
            <p class="my-5 text-sm text-slate-600">"Or enter a code from your authenticator app, or one of your recovery codes."</p>
        })}
        {choices.code.then(|| view! {
            <ActionForm action=code attr:class="space-y-5">
                <input type="hidden" name="remember" prop:value=move || remember.get().to_string() />
                <div>
                    <label for="code" class="block text-sm font-medium text-slate-800">"Code"</label>
                    <input id="code" name="code" required autocomplete="one-time-code" inputmode="text" maxlength="20"
                        class=format!("{INPUT_CLASS} font-mono tracking-widest") />
                </div>
                <button type="submit"
                    class=if choices.passkey { SECONDARY_BUTTON_CLASS } else { PRIMARY_BUTTON_CLASS }
                    disabled=move || code.pending().get()>{submit_label}</button>
            </ActionForm>
        })}
    }
}

//! Authenticator-app enrolment: scan the QR code (or type the secret), confirm with a code, then
//! save the recovery codes, which are shown this once.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api::account::{begin_authenticator, ConfirmAuthenticator},
    components::{
        factors::RecoveryCodeList,
        form::{action_error, ErrorAlert, FormCard, INPUT_CLASS, PRIMARY_BUTTON_CLASS},
    },
};

#[component]
pub fn AuthenticatorPage() -> impl IntoView {
    let setup = Resource::new(|| (), |_| begin_authenticator());
    let confirm = ServerAction::<ConfirmAuthenticator>::new();
    let recovery_codes = move || confirm.value().get().and_then(Result::ok).flatten();
    // An added app (the account already had a factor) comes without new codes.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(confirm.value().get(), Some(Ok(None))) {
            navigate("/sign-in-methods", Default::default());
        }
    });
    view! {
        <Title text="Set up your authenticator app" />
        <Show
            when=move || recovery_codes().is_some()
            fallback=move || view! {
                <FormCard
                    title="Set up your authenticator app"
                    intro="Scan the code with an authenticator app (such as 2FAS, Aegis, Google or Microsoft Authenticator), then enter the code it shows."
                >
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Preparing…"</p> }>
                        {move || Suspend::new(async move {
                            match setup.await {
                                Ok(setup) => view! {
                                    <div class="flex flex-col items-center gap-3">
                                        <div class="w-56 rounded border border-slate-200 bg-white p-2 [&_svg]:block [&_svg]:h-auto [&_svg]:w-full" inner_html=setup.qr_svg></div>
                                        <p class="text-sm text-slate-700">"Can't scan? Enter this key in the app:"</p>
                                        <code data-testid="totp-secret" class="select-all break-all rounded bg-slate-100 px-2 py-1 font-mono text-sm text-slate-900">
                                            {setup.secret}
                                        </code>
                                    </div>
                                }.into_any(),
                                Err(err) => view! {
                                    <p role="alert" class="text-red-800">{err.message}</p>
                                    <A href="/login" attr:class="mt-4 inline-block font-medium text-teal-800 underline">"Sign in"</A>
                                }.into_any(),
                            }
                        })}
                    </Suspense>
                    <div class="mt-6">
                        <ErrorAlert error=action_error(confirm.value()) />
                        <ActionForm action=confirm attr:class="space-y-5">
                            <div>
                                <label for="code" class="block text-sm font-medium text-slate-800">"Code from the app"</label>
                                <input id="code" name="code" required autocomplete="one-time-code" inputmode="numeric"
                                    pattern="[0-9 ]*" maxlength="7" class=format!("{INPUT_CLASS} font-mono tracking-widest") />
                            </div>
                            <div>
                                <label for="name" class="block text-sm font-medium text-slate-800">"Name "<span class="font-normal text-slate-600">"(optional, e.g. “Work phone”)"</span></label>
                                <input id="name" name="name" maxlength="60" autocomplete="off" class=INPUT_CLASS />
                            </div>
                            <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || confirm.pending().get()>"Confirm"</button>
                        </ActionForm>
                    </div>
                </FormCard>
            }
        >
            <FormCard
                title="Save your recovery codes"
                intro="Each code signs you in once if you lose your phone. Store them somewhere safe, such as a password manager: they are shown only now."
            >
                <RecoveryCodeList codes=recovery_codes().unwrap_or_default() />
                <A href="/home" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"I have saved them — continue"</A>
            </FormCard>
        </Show>
    }
}

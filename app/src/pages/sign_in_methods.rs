//! The signed-in person's sign-in methods: second factors (add, remove — never the last),
//! recovery codes and password. Changes need the second factor given in the last few minutes;
//! after one, the page offers to sign out every other session.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::{
        account::EndOtherSessions,
        factors::{
            begin_passkey_enrolment, finish_passkey_enrolment, sign_in_methods, ChangePassword,
            FactorChoices, FactorType, FactorView, MethodsOverview, NewRecoveryCodes, RemoveFactor,
        },
    },
    components::{
        factors::{browser_error, RecoveryCodeList, SecondFactorForm},
        form::{
            action_error, ErrorAlert, SignInToContinue, INPUT_CLASS, PRIMARY_BUTTON_CLASS,
            SECONDARY_BUTTON_CLASS,
        },
    },
    webauthn,
};

const SECTION_CLASS: &str = "mt-6 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6";

fn kind_label(kind: FactorType) -> &'static str {
    match kind {
        FactorType::AuthenticatorApp => "Authenticator app",
        FactorType::Passkey => "Passkey",
    }
}

fn confirm_choices(methods: &MethodsOverview) -> FactorChoices {
    FactorChoices {
        passkey: methods.passkeys_available && methods.factors.iter().any(|f| f.kind == FactorType::Passkey),
        code: methods
            .factors
            .iter()
            .any(|f| f.kind == FactorType::AuthenticatorApp)
            || methods.recovery_codes_left > 0,
        // Confirming a change never remembers the device.
        remember_days: 0,
    }
}

#[component]
pub fn SignInMethodsPage() -> impl IntoView {
    let remove = ServerAction::<RemoveFactor>::new();
    let new_codes = ServerAction::<NewRecoveryCodes>::new();
    let password = ServerAction::<ChangePassword>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let add_passkey = Action::new_local(|name: &String| {
        let name = name.clone();
        async move {
            let request = begin_passkey_enrolment().await?;
            let credential = webauthn::create_passkey(request.options)
                .await
                .map_err(browser_error)?;
            finish_passkey_enrolment(request.ceremony, credential, name).await
        }
    });
    let confirmations = RwSignal::new(0_u32);
    let methods = Resource::new(
        move || {
            (
                remove.version().get(),
                new_codes.version().get(),
                add_passkey.version().get(),
                confirmations.get(),
            )
        },
        |_| sign_in_methods(),
    );
    // Whether a credential just changed: removing a factor signs out every other session by
    // itself; after other changes, offer it.
    let changed = Signal::derive(move || {
        matches!(remove.value().get(), Some(Ok(_)))
            || matches!(new_codes.value().get(), Some(Ok(_)))
            || matches!(password.value().get(), Some(Ok(_)))
            || matches!(add_passkey.value().get(), Some(Ok(_)))
    });
    let ended_by_change = Signal::derive(move || match (remove.value().get(), password.value().get()) {
        (Some(Ok(n)), _) | (_, Some(Ok(n))) => Some(n),
        _ => None,
    });
    let on_confirmed = Callback::new(move |()| confirmations.update(|n| *n += 1));
    let passkey_error = Signal::derive(move || add_passkey.value().get().and_then(Result::err));
    let passkey_name = RwSignal::new(String::new());

    view! {
        <Title text="Sign-in methods" />
        <section class="max-w-3xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Sign-in methods"</h1>
            <p class="mt-3 text-slate-700">"Your password and the second factors that protect your account. You always keep at least one second factor."</p>

            <div class="mt-6" aria-live="polite">
                <ErrorAlert error=action_error(remove.value()) />
                <ErrorAlert error=action_error(new_codes.value()) />
                <ErrorAlert error=passkey_error />
                <Show when=move || changed.get()>
                    <div role="status" class="rounded-md border border-teal-200 bg-teal-50 px-4 py-4 text-slate-900">
                        <p class="font-medium">"Your change is saved."</p>
                        {move || match (ended_by_change.get(), end_others.value().get()) {
                            (Some(count), _) => view! {
                                <p class="mt-1 text-sm">{format!("Every other session was signed out ({count}) and remembered devices were forgotten: whoever held the old password or the removed factor must sign in again.")}</p>
                            }.into_any(),
                            (None, Some(Ok(count))) => view! {
                                <p class="mt-1 text-sm">{format!("Signed out {count} other session(s).")}</p>
                            }.into_any(),
                            _ => view! {
                                <p class="mt-1 text-sm">"If you think someone else knows your password or has one of your factors, sign out everywhere else too."</p>
                                <ActionForm action=end_others attr:class="mt-3">
                                    <button type="submit" class=SECONDARY_BUTTON_CLASS>"Sign out all other sessions"</button>
                                </ActionForm>
                            }.into_any(),
                        }}
                    </div>
                </Show>
                {move || new_codes.value().get().and_then(Result::ok).map(|codes| view! {
                    <div class=SECTION_CLASS>
                        <h2 class="text-lg font-semibold text-slate-900">"Your new recovery codes"</h2>
                        <p class="mb-4 mt-1 text-sm text-slate-700">"Store them somewhere safe: they are shown only now. Your old codes no longer work."</p>
                        <RecoveryCodeList codes />
                    </div>
                })}
            </div>

            <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match methods.await {
                        Ok(methods) => {
                            let confirmed = methods.recently_confirmed;
                            let only_one = methods.factors.len() <= 1;
                            let choices = confirm_choices(&methods);
                            view! {
                                {(!confirmed).then(|| view! {
                                    <div class=SECTION_CLASS>
                                        <h2 class="text-lg font-semibold text-slate-900">"Confirm it is you"</h2>
                                        <p class="mb-4 mt-1 text-sm text-slate-700">"To change your password or second factors, use your second factor again. This holds for 10 minutes."</p>
                                        <SecondFactorForm choices submit_label="Confirm" on_done=on_confirmed />
                                    </div>
                                })}
                                <div class=SECTION_CLASS>
                                    <h2 class="text-lg font-semibold text-slate-900">"Second factors"</h2>
                                    <ul class="mt-3 divide-y divide-slate-200" aria-label="Second factors">
                                        {methods.factors.into_iter().map(|factor| factor_row(factor, confirmed && !only_one, remove)).collect_view()}
                                    </ul>
                                    {(confirmed && only_one).then(|| view! {
                                        <p class="mt-2 text-sm text-slate-600">"Add another factor before you remove this one."</p>
                                    })}
                                    {confirmed.then(|| view! {
                                        <div class="mt-5 space-y-4 border-t border-slate-200 pt-5">
                                            {methods.passkeys_available.then(|| view! {
                                                <form class="flex flex-col gap-3 sm:flex-row sm:items-end" on:submit=move |ev| {
                                                    ev.prevent_default();
                                                    add_passkey.dispatch(passkey_name.get_untracked());
                                                }>
                                                    <div class="grow">
                                                        <label for="passkey-name" class="block text-sm font-medium text-slate-800">"Passkey name "<span class="font-normal text-slate-600">"(optional)"</span></label>
                                                        <input id="passkey-name" maxlength="60" autocomplete="off" class=INPUT_CLASS
                                                            bind:value=passkey_name />
                                                    </div>
                                                    <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || add_passkey.pending().get()>"Add a passkey"</button>
                                                </form>
                                            })}
                                            <A href="/setup/authenticator" attr:class=SECONDARY_BUTTON_CLASS>"Add an authenticator app"</A>
                                        </div>
                                    })}
                                </div>
                                <div class=SECTION_CLASS>
                                    <h2 class="text-lg font-semibold text-slate-900">"Recovery codes"</h2>
                                    <p class="mt-1 text-sm text-slate-700">{format!("{} of 10 unused. Each signs you in once if you lose your factors.", methods.recovery_codes_left)}</p>
                                    {confirmed.then(|| view! {
                                        <ActionForm action=new_codes attr:class="mt-4">
                                            <button type="submit" class=SECONDARY_BUTTON_CLASS>"Create new recovery codes"</button>
                                        </ActionForm>
                                    })}
                                </div>
                                {confirmed.then(|| view! { <PasswordChange action=password /> })}
                            }.into_any()
                        }
                        Err(err) => view! { <SignInToContinue message=err.message /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn factor_row(factor: FactorView, removable: bool, remove: ServerAction<RemoveFactor>) -> impl IntoView {
    let label = format!("Remove {}", factor.name);
    let used = factor
        .last_used
        .map(|at| format!(" · last used {at}"))
        .unwrap_or_default();
    view! {
        <li class="flex flex-col gap-3 py-3 sm:flex-row sm:items-center sm:justify-between">
            <div>
                <p class="font-medium text-slate-900">{factor.name}</p>
                <p class="text-sm text-slate-700">{format!("{} · added {}{}", kind_label(factor.kind), factor.added, used)}</p>
            </div>
            {removable.then(|| view! {
                <ActionForm action=remove>
                    <input type="hidden" name="id" value=factor.id />
                    <button type="submit" aria-label=label class="min-h-11 rounded-md border border-slate-300 px-4 text-sm font-medium text-slate-800 hover:bg-slate-100">"Remove"</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn PasswordChange(action: ServerAction<ChangePassword>) -> impl IntoView {
    view! {
        <div class=SECTION_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Password"</h2>
            <ErrorAlert error=action_error(action.value()) />
            {move || matches!(action.value().get(), Some(Ok(_))).then(|| view! {
                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Your password was changed. Every other session was signed out."</p>
            })}
            <ActionForm action attr:class="mt-4 space-y-5">
                <div>
                    <label for="current_password" class="block text-sm font-medium text-slate-800">"Current password"</label>
                    <input id="current_password" name="current_password" type="password" required autocomplete="current-password" class=INPUT_CLASS />
                </div>
                <div>
                    <label for="new_password" class="block text-sm font-medium text-slate-800">"New password"</label>
                    <input id="new_password" name="new_password" type="password" required minlength="12" maxlength="256" autocomplete="new-password" class=INPUT_CLASS />
                    <p class="mt-1 text-sm text-slate-600">"At least 12 characters. A few unrelated words work well."</p>
                </div>
                <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || action.pending().get()>"Change password"</button>
            </ActionForm>
        </div>
    }
}

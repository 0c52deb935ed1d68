//! Workplace settings for Owners and HR admins: how often signing in asks for the second factor.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::settings::{sign_in_settings, SaveSignInSettings},
    components::form::{action_error, ErrorAlert, NotAvailable, INPUT_CLASS, PRIMARY_BUTTON_CLASS},
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSignInSettings>::new();
    let settings = Resource::new(move || save.version().get(), |_| sign_in_settings());
    view! {
        <Title text="Workplace settings" />
        <section class="max-w-3xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Workplace settings"</h1>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(current) => {
                            let remembering = current.remember_device_days > 0;
                            let days = if remembering { current.remember_device_days } else { 14 };
                            view! {
                                <ActionForm action=save attr:class="mt-6 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
                                    <fieldset>
                                        <legend class="text-lg font-semibold text-slate-900">"Second factor at sign-in"</legend>
                                        <p class="mt-1 text-sm text-slate-700">"Every account has two factors. By default both are asked for at every sign-in. You may let people skip the second one on a device they chose to remember — only from the same browser and network, and never when an account signs in more often than it usually does."</p>
                                        <ErrorAlert error=action_error(save.value()) />
                                        {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                                            <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Saved."</p>
                                        })}
                                        <div class="mt-4 space-y-3">
                                            <div class="flex min-h-11 items-center gap-3">
                                                <input id="always" type="radio" name="remember" value="false" checked=!remembering class="h-5 w-5 accent-teal-700" />
                                                <label for="always" class="text-slate-800">"Always ask for both factors"</label>
                                            </div>
                                            <div class="flex min-h-11 items-center gap-3">
                                                <input id="remember-device" type="radio" name="remember" value="true" checked=remembering class="h-5 w-5 accent-teal-700" />
                                                <label for="remember-device" class="text-slate-800">"Let people remember a device"</label>
                                            </div>
                                            <div class="pl-8">
                                                <label for="days" class="block text-sm font-medium text-slate-800">"For how many days"</label>
                                                <input id="days" name="days" type="number" min="1" max=current.max_days value=days class=format!("{INPUT_CLASS} max-w-32") />
                                            </div>
                                        </div>
                                    </fieldset>
                                    <button type="submit" class=format!("mt-5 {PRIMARY_BUTTON_CLASS}") disabled=move || save.pending().get()>"Save"</button>
                                </ActionForm>
                            }.into_any()
                        }
                        Err(err) => view! {
                            <NotAvailable message=err.message />
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

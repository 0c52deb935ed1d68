//! Workplace settings for Owners and HR admins: how often signing in asks for the second factor.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::settings::{sign_in_settings, workplace_deletion, DeleteWorkplace, SaveSignInSettings},
    components::form::{
        action_error, ErrorAlert, NotAvailable, DANGER_BUTTON_CLASS, INPUT_CLASS, PRIMARY_BUTTON_CLASS,
    },
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
            <GroupSizesCard />
            <BenchmarksCard />
            <SupportAccessCard />
            <DeleteWorkplaceCard />
        </section>
    }
}

/// How many answers a group needs before its results are shown: the anonymity threshold.
#[component]
fn GroupSizesCard() -> impl IntoView {
    use crate::api::settings::{group_sizes, SaveGroupSizes};
    let save = ServerAction::<SaveGroupSizes>::new();
    let current = Resource::new(move || save.version().get(), |_| group_sizes());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().map(|sizes| view! {
                    <ActionForm action=save attr:class="mt-8 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
                        <fieldset>
                            <legend class="text-lg font-semibold text-slate-900">"Anonymity of results"</legend>
                            <p class="mt-1 text-sm text-slate-700">"A team's figures appear only when at least this many people answered; smaller teams show “not enough responses”, and Candor hides more where subtracting one figure from another would reveal a small team. Comments may ask for more. Allowed: 3 to 10."</p>
                            <ErrorAlert error=action_error(save.value()) />
                            {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Saved. Results use it from now on, for past rounds too."</p>
                            })}
                            <div class="mt-4 grid gap-4 sm:grid-cols-2">
                                <div>
                                    <label for="minimum-results" class="block text-sm font-medium text-slate-800">"Minimum answers for figures"</label>
                                    <input id="minimum-results" name="results" type="number" min="3" max="10" value=sizes.results class=format!("{INPUT_CLASS} max-w-32") />
                                </div>
                                <div>
                                    <label for="minimum-comments" class="block text-sm font-medium text-slate-800">"Minimum answers for comments"</label>
                                    <input id="minimum-comments" name="comments" type="number" min="3" max="10" value=sizes.comments class=format!("{INPUT_CLASS} max-w-32") />
                                </div>
                            </div>
                        </fieldset>
                        <button type="submit" class=format!("mt-5 {PRIMARY_BUTTON_CLASS}") disabled=move || save.pending().get()>"Save minimums"</button>
                    </ActionForm>
                })
            })}
        </Transition>
    }
}

/// Taking part in benchmarks across workplaces: give the workplace's figures, see the platform's.
#[component]
fn BenchmarksCard() -> impl IntoView {
    use crate::api::settings::{benchmark_setting, SaveBenchmarkSetting};
    let save = ServerAction::<SaveBenchmarkSetting>::new();
    let current = Resource::new(move || save.version().get(), |_| benchmark_setting());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().map(|on| view! {
                    <ActionForm action=save attr:class="mt-8 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
                        <fieldset>
                            <legend class="text-lg font-semibold text-slate-900">"Benchmarks"</legend>
                            <p class="mt-1 text-sm text-slate-700">"Compare your results on Candor's built-in questions with other workplaces. Taking part shares only your whole-workplace figure per question (never answers, teams or comments), and only where enough people answered; the platform figure is the average of at least five workplaces, refreshed daily."</p>
                            <ErrorAlert error=action_error(save.value()) />
                            {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Saved. The platform figures are refreshed within a day."</p>
                            })}
                            <div class="mt-4 flex min-h-11 items-center gap-3">
                                <input id="take-part" name="take_part" type="checkbox" value="true" checked=on class="h-5 w-5 accent-teal-700" />
                                <label for="take-part" class="text-slate-800">"Take part in benchmarks"</label>
                            </div>
                        </fieldset>
                        <button type="submit" class=format!("mt-5 {PRIMARY_BUTTON_CLASS}") disabled=move || save.pending().get()>"Save benchmark choice"</button>
                    </ActionForm>
                })
            })}
        </Transition>
    }
}

/// The irreversible end of a workplace, for its Owners: type the name, confirm with the second
/// factor, and every record and key is gone.
#[component]
fn DeleteWorkplaceCard() -> impl IntoView {
    use crate::{
        api::factors::{second_factor_choices, FactorChoices},
        components::factors::SecondFactorForm,
    };
    let delete = ServerAction::<DeleteWorkplace>::new();
    let target = Resource::new(|| (), |_| workplace_deletion());
    let typed = RwSignal::new(String::new());
    let needs_confirmation = move || matches!(delete.value().get(), Some(Err(err)) if err.code == "auth.reauthentication_required");
    let other_error = Signal::derive(move || {
        delete
            .value()
            .get()
            .and_then(Result::err)
            .filter(|err| err.code != "auth.reauthentication_required")
    });
    let deleted = move || matches!(delete.value().get(), Some(Ok(())));
    let on_done = Callback::new(move |()| {
        delete.dispatch(DeleteWorkplace {
            confirmation: typed.get_untracked(),
        });
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let target = target.await.ok()?;
                if !target.allowed {
                    return Some(view! {
                        <div class="mt-8 rounded-lg border border-slate-200 bg-white p-5 text-sm text-slate-700 shadow-sm sm:p-6">
                            <h2 class="text-lg font-semibold text-slate-900">"Deleting the workplace"</h2>
                            <p class="mt-1">"Only an Owner of this workplace can delete it."</p>
                        </div>
                    }.into_any());
                }
                let name = target.workplace_name;
                let expected = name.clone();
                Some(view! {
                    <section aria-labelledby="delete-heading" class="mt-8 rounded-lg border border-red-300 bg-white p-5 shadow-sm sm:p-6">
                        <h2 id="delete-heading" class="text-lg font-semibold text-red-800">"Delete this workplace"</h2>
                        <p class="mt-1 text-sm text-slate-700">"Deletes every person, department, role and survey answer of the workplace and destroys its encryption keys. Nothing can be recovered afterwards, not even by Candor's operators: the keys that opened its data no longer exist. Everyone is signed out."</p>
                        <ErrorAlert error=other_error />
                        <Show when=deleted fallback=move || {
                            let name = name.clone();
                            let expected = expected.clone();
                            view! {
                                <Show when=needs_confirmation fallback=move || {
                                    let name = name.clone();
                                    let expected = expected.clone();
                                    view! {
                                        <ActionForm action=delete attr:class="mt-4">
                                            <label for="confirm-delete" class="block text-sm font-medium text-slate-800">
                                                "Type " <strong class="font-semibold">{name}</strong> " to confirm"
                                            </label>
                                            <input id="confirm-delete" name="confirmation" type="text" autocomplete="off" class=format!("{INPUT_CLASS} max-w-md")
                                                prop:value=move || typed.get()
                                                on:input=move |ev| typed.set(event_target_value(&ev)) />
                                            <button type="submit" class=format!("mt-4 {DANGER_BUTTON_CLASS}")
                                                disabled=move || typed.get().trim() != expected || delete.pending().get()>
                                                "Delete workplace permanently"
                                            </button>
                                        </ActionForm>
                                    }
                                }>
                                    <p class="mb-3 mt-4 text-sm font-medium text-slate-800">"Confirm it is you first, with your second factor."</p>
                                    <Suspense fallback=|| ()>
                                        {move || Suspend::new(async move {
                                            second_factor_choices().await.ok().map(|choices| {
                                                let choices = FactorChoices { remember_days: 0, ..choices };
                                                view! { <SecondFactorForm choices submit_label="Confirm and delete" on_done /> }
                                            })
                                        })}
                                    </Suspense>
                                </Show>
                            }
                        }>
                            <p role="status" class="mt-4 font-medium text-slate-900">"The workplace and its keys were deleted. You have been signed out."</p>
                            <a href="/" rel="external" class="mt-2 inline-block font-medium text-teal-800 underline">"Go to the start page"</a>
                        </Show>
                    </section>
                }.into_any())
            })}
        </Suspense>
    }
}

/// Support access: the Owner lets Candor's operators look at the workplace's setup for a while.
#[component]
fn SupportAccessCard() -> impl IntoView {
    use crate::api::settings::{support_access, GrantSupport, RevokeSupport};
    let grant = ServerAction::<GrantSupport>::new();
    let revoke = ServerAction::<RevokeSupport>::new();
    let current = Resource::new(
        move || (grant.version().get(), revoke.version().get()),
        |_| support_access(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().map(|support| {
                    let live = support.grants.iter().find(|g| g.live).cloned();
                    let history = support.grants.iter().map(|g| view! {
                        <li class="text-sm text-slate-700">{format!("Granted by {} on {} — {}", g.granted_by, g.granted_at, g.state)}</li>
                    }).collect_view();
                    view! {
                        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6" aria-labelledby="support-heading">
                            <h2 id="support-heading" class="text-lg font-semibold text-slate-900">"Support access"</h2>
                            <p class="mt-1 text-sm text-slate-700">"Candor's operators cannot see your workplace. If you ask for help, the Owner can let them see its setup — how many people, departments, surveys and open rounds there are — for a few hours. Never names, addresses, answers or comments. Every grant and every look is recorded in your access log."</p>
                            <ErrorAlert error=action_error(grant.value()) />
                            <ErrorAlert error=action_error(revoke.value()) />
                            {match (live, support.can_grant) {
                                (Some(live), true) => view! {
                                    <ActionForm action=revoke attr:class="mt-4">
                                        <p role="status" class="text-sm font-medium text-teal-800">{live.state.clone()}</p>
                                        <input type="hidden" name="id" value=live.id.clone() />
                                        <button type="submit" class=format!("mt-3 {PRIMARY_BUTTON_CLASS}")>"Revoke support access"</button>
                                    </ActionForm>
                                }.into_any(),
                                (None, true) => view! {
                                    <ActionForm action=grant attr:class="mt-4">
                                        <label for="support-hours" class="block text-sm font-medium text-slate-800">{format!("For how many hours (1 to {})", support.max_hours)}</label>
                                        <input id="support-hours" name="hours" type="number" min="1" max=support.max_hours value="4" class=format!("{INPUT_CLASS} max-w-32") />
                                        <button type="submit" class=format!("mt-4 {PRIMARY_BUTTON_CLASS}") disabled=move || grant.pending().get()>"Grant support access"</button>
                                    </ActionForm>
                                }.into_any(),
                                (live, false) => view! {
                                    <p class="mt-4 text-sm text-slate-700">{live.map_or_else(|| "No support access is granted. Only the Owner can grant it.".to_owned(), |g| g.state)}</p>
                                }.into_any(),
                            }}
                            <ul class="mt-4 space-y-1" aria-label="Support access history">{history}</ul>
                        </section>
                    }
                })
            })}
        </Transition>
    }
}

//! Workplace settings for Owners and HR admins: how often signing in asks for the second factor.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::settings::{sign_in_settings, workplace_deletion, SaveSignInSettings},
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
            <TenureBandsCard />
            <BenchmarksCard />
            <SupportAccessCard />
            <RetentionCard />
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
                            <p class="mt-1 text-sm text-slate-700">"A team's figures appear only when at least this many people answered; smaller teams show “not enough responses”, and Candor hides more where subtracting one figure from another would reveal a small team. Comments may ask for more. Allowed: 3 to 10. A change applies to rounds that close from now on; a closed round keeps the results it released, so no one can compare the same round under two minimums."</p>
                            <ErrorAlert error=action_error(save.value()) />
                            {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Saved. Rounds that close from now on use it; rounds already closed keep what they released."</p>
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

/// The tenure bands results may be cut by.
#[component]
fn TenureBandsCard() -> impl IntoView {
    use crate::api::settings::{tenure_bands, SaveTenureBands};
    let save = ServerAction::<SaveTenureBands>::new();
    let current = Resource::new(move || save.version().get(), |_| tenure_bands());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().map(|bounds| view! {
                    <ActionForm action=save attr:class="mt-8 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
                        <fieldset>
                            <legend class="text-lg font-semibold text-slate-900">"Results by time at the workplace"</legend>
                            <p class="mt-1 text-sm text-slate-700">"Closed rounds also show the whole workplace and each team by how long people have worked here, from their start dates, in these bands; a band is hidden when it could single someone out next to the teams or the other bands. Give the boundaries in whole years: “1, 2, 5” makes under 1 year, 1 to 2, 2 to 5, and 5 or more. A change applies to rounds that close from now on."</p>
                            <ErrorAlert error=action_error(save.value()) />
                            {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Saved. Rounds that close from now on use these bands."</p>
                            })}
                            <label for="tenure-bounds" class="mt-4 block text-sm font-medium text-slate-800">"Band boundaries in years"</label>
                            <input id="tenure-bounds" name="bounds" type="text" inputmode="numeric" value=bounds class=format!("{INPUT_CLASS} max-w-64") />
                        </fieldset>
                        <button type="submit" class=format!("mt-5 {PRIMARY_BUTTON_CLASS}") disabled=move || save.pending().get()>"Save tenure bands"</button>
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
                            <p class="mt-1 text-sm text-slate-700">"Compare your results on Candor's built-in questions with other workplaces. Taking part shares only your whole-workplace figure per question (never answers, teams or comments), and only where enough people answered; the platform figure is an average over many workplaces with random noise added, so that no single workplace's figure can be worked out from it, and it appears only once enough workplaces take part for the noise to be small. It is refreshed at most monthly."</p>
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

/// The end of a workplace, for its Owners: type the name, choose the grace period, confirm with
/// the second factor. Until the day comes any Owner can cancel; then every record and key is gone.
#[component]
fn DeleteWorkplaceCard() -> impl IntoView {
    use crate::{
        api::factors::{second_factor_choices, FactorChoices},
        api::settings::{CancelWorkplaceDeletion, RequestWorkplaceDeletion},
        components::factors::SecondFactorForm,
    };
    let request = ServerAction::<RequestWorkplaceDeletion>::new();
    let cancel = ServerAction::<CancelWorkplaceDeletion>::new();
    let target = Resource::new(
        move || (request.version().get(), cancel.version().get()),
        |_| workplace_deletion(),
    );
    let typed = RwSignal::new(String::new());
    let grace = RwSignal::new(String::new());
    let needs_confirmation = move || matches!(request.value().get(), Some(Err(err)) if err.code == "auth.reauthentication_required");
    let other_error = Signal::derive(move || {
        request
            .value()
            .get()
            .and_then(Result::err)
            .filter(|err| err.code != "auth.reauthentication_required")
    });
    let on_done = Callback::new(move |()| {
        request.dispatch(RequestWorkplaceDeletion {
            confirmation: typed.get_untracked(),
            grace_days: grace.get_untracked().trim().parse().unwrap_or(0),
        });
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let target = target.await.ok()?;
                if !target.allowed {
                    return Some(view! {
                        <div class="mt-8 rounded-lg border border-slate-200 bg-white p-5 text-sm text-slate-700 shadow-sm sm:p-6">
                            <h2 class="text-lg font-semibold text-slate-900">"Deleting the workplace"</h2>
                            <p class="mt-1">"Only an Owner of this workplace can ask for it to be deleted."</p>
                        </div>
                    }.into_any());
                }
                if let Some(pending) = target.pending {
                    let by = pending.requested_by.clone().unwrap_or_else(|| "An Owner".into());
                    return Some(view! {
                        <section aria-labelledby="delete-heading" class="mt-8 rounded-lg border-2 border-red-300 bg-white p-5 shadow-sm sm:p-6">
                            <h2 id="delete-heading" class="text-lg font-semibold text-red-800">"Deletion requested"</h2>
                            <p role="status" class="mt-2 text-slate-800">
                                {format!("{by} asked on {} for this workplace to be deleted. On ", pending.requested_at)}
                                <strong class="font-semibold">{pending.delete_at.clone()}</strong>
                                {format!(" (in {} {}) every record of it is deleted and its keys destroyed.", pending.days_left, if pending.days_left == 1 { "day" } else { "days" })}
                            </p>
                            <p class="mt-2 text-sm text-slate-700">"Until then the workplace works as usual: download what you need to keep (results, the access log, copies of people's data). Every Owner was emailed; any of them can cancel. Afterwards the Owners receive a deletion certificate by email."</p>
                            <ErrorAlert error=action_error(cancel.value()) />
                            <ActionForm action=cancel attr:class="mt-4">
                                <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || cancel.pending().get()>"Cancel the deletion"</button>
                            </ActionForm>
                        </section>
                    }.into_any());
                }
                let name = target.workplace_name;
                let expected = name.clone();
                let (min, max, default) = (target.min_grace_days, target.max_grace_days, target.default_grace_days);
                grace.set(default.to_string());
                Some(view! {
                    <section aria-labelledby="delete-heading" class="mt-8 rounded-lg border border-red-300 bg-white p-5 shadow-sm sm:p-6">
                        <h2 id="delete-heading" class="text-lg font-semibold text-red-800">"Delete this workplace"</h2>
                        <p class="mt-1 text-sm text-slate-700">"At the end of a grace period every person, department, role, survey, answer, comment and log entry of the workplace is deleted and its encryption keys destroyed. Nothing can be recovered afterwards, not even by Candor's operators or from a backup: the keys that opened its data no longer exist. Until then any Owner can cancel."</p>
                        {move || matches!(cancel.value().get(), Some(Ok(()))).then(|| view! {
                            <p role="status" class="mt-2 text-sm font-medium text-teal-800">"The deletion was cancelled. Every Owner was told."</p>
                        })}
                        <ErrorAlert error=other_error />
                        <Show when=needs_confirmation fallback=move || {
                            let name = name.clone();
                            let expected = expected.clone();
                            view! {
                                <ActionForm action=request attr:class="mt-4 space-y-4">
                                    <div>
                                        <label for="grace-days" class="block text-sm font-medium text-slate-800">{format!("Delete after (days, {min} to {max})")}</label>
                                        <input id="grace-days" name="grace_days" type="number" min=min max=max class=format!("{INPUT_CLASS} max-w-32")
                                            prop:value=move || grace.get()
                                            on:input=move |ev| grace.set(event_target_value(&ev)) />
                                    </div>
                                    <div>
                                        <label for="confirm-delete" class="block text-sm font-medium text-slate-800">
                                            "Type " <strong class="font-semibold">{name}</strong> " to confirm"
                                        </label>
                                        <input id="confirm-delete" name="confirmation" type="text" autocomplete="off" class=format!("{INPUT_CLASS} max-w-md")
                                            prop:value=move || typed.get()
                                            on:input=move |ev| typed.set(event_target_value(&ev)) />
                                    </div>
                                    <button type="submit" class=DANGER_BUTTON_CLASS
                                        disabled=move || typed.get().trim() != expected || request.pending().get()>
                                        "Request deletion"
                                    </button>
                                </ActionForm>
                            }
                        }>
                            <p class="mb-3 mt-4 text-sm font-medium text-slate-800">"Confirm it is you first, with your second factor."</p>
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    second_factor_choices().await.ok().map(|choices| {
                                        let choices = FactorChoices { remember_days: 0, ..choices };
                                        view! { <SecondFactorForm choices submit_label="Confirm and request deletion" on_done /> }
                                    })
                                })}
                            </Suspense>
                        </Show>
                    </section>
                }.into_any())
            })}
        </Transition>
    }
}

/// How long the workplace keeps what it no longer needs.
#[component]
fn RetentionCard() -> impl IntoView {
    use crate::api::settings::{retention, SaveRetention};
    let save = ServerAction::<SaveRetention>::new();
    let current = Resource::new(move || save.version().get(), |_| retention());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().map(|policy| {
                    let max = policy.max_months;
                    let row = move |id: &'static str, label: &'static str, hint: &'static str, months: Option<i32>, default: i32| {
                        let keep_id = format!("keep-{id}");
                        let (keep_name, months_name) = match id {
                            "people" => ("keep_people_left", "people_left_months"),
                            _ => ("keep_comments", "comments_months"),
                        };
                        view! {
                            <fieldset class="mt-4 rounded-md border border-slate-200 p-4">
                                <legend class="px-1 font-medium text-slate-900">{label}</legend>
                                <p class="text-sm text-slate-700">{hint}</p>
                                <div class="mt-3 flex flex-wrap items-end gap-4">
                                    <div>
                                        <label for=format!("{id}-months") class="block text-sm font-medium text-slate-800">"Erase after (months)"</label>
                                        <input id=format!("{id}-months") name=months_name type="number" min="1" max=max value=months.unwrap_or(default) class=format!("{INPUT_CLASS} max-w-32") />
                                    </div>
                                    <div class="flex min-h-11 items-center gap-3">
                                        <input id=keep_id.clone() name=keep_name type="checkbox" value="true" checked=months.is_none() class="h-5 w-5 accent-teal-700" />
                                        <label for=keep_id class="text-slate-800">"Keep until removed by hand"</label>
                                    </div>
                                </div>
                            </fieldset>
                        }
                    };
                    view! {
                        <ActionForm action=save attr:class="mt-8 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
                            <h2 class="text-lg font-semibold text-slate-900">"Data retention"</h2>
                            <p class="mt-1 text-sm text-slate-700">"Candor keeps data only as long as your workplace needs it. Once a day the job runner erases what is past these periods, and the access log records how much it removed (never what or whose)."</p>
                            <ErrorAlert error=action_error(save.value()) />
                            {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Saved. The next daily run applies it."</p>
                            })}
                            {row("people", "People who left", "Counted from the day someone is marked as having left. Their account and personal details are erased as an erasure request would; their answers stay in the anonymous figures. Someone still asked in an open round waits until it closes.", policy.people_left_months, 12)}
                            {row("comments", "Comments", "Counted from the day a round closed. The comments and their anonymous conversations are deleted; the round's figures stay.", policy.comments_months, 24)}
                            <div class="mt-4 rounded-md bg-slate-50 p-4 text-sm text-slate-700">
                                <p><strong class="font-semibold text-slate-900">"Access log: "</strong>{format!("entries are kept {} days.", policy.audit_log_days)}" "<a href="/audit" class="font-medium text-teal-800 underline">"Change it in the audit settings"</a></p>
                            </div>
                            <p class="mt-3 text-sm text-slate-700">
                                {policy.last_run.clone().unwrap_or_else(|| "Not applied yet: the first daily run applies it.".into())}
                                {(policy.past_period > 0).then(|| format!(
                                    " {} who left {} past the period: erased at the next daily run, or once an open round asking them closes.",
                                    policy.past_period,
                                    if policy.past_period == 1 { "is" } else { "are" },
                                ))}
                                {(!policy.chosen).then_some(" These are the defaults; saving makes them your choice.")}
                            </p>
                            <button type="submit" class=format!("mt-4 {PRIMARY_BUTTON_CLASS}")>"Save retention"</button>
                        </ActionForm>
                    }
                })
            })}
        </Transition>
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

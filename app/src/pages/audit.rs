//! The access log for Auditors and Owners: alerts first, then the review status, a filter, the
//! entries (names resolved only here), review marks, exports, and how the log is kept.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::audit::{
        acknowledge, export, overview, AlertRow, AuditSettingsView, LogQuery, LogRow, MarkReviewed,
        SaveSettings,
    },
    components::form::{
        action_error, ErrorAlert, NotAvailable, INPUT_CLASS, PRIMARY_BUTTON_CLASS, SECONDARY_BUTTON_CLASS,
    },
    model::{ExportFormat, Outcome, Severity},
};

const CARD: &str = "mt-6 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6";

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = RwSignal::new(LogQuery::default());
    let refresh = RwSignal::new(0u32);
    let review = ServerAction::<MarkReviewed>::new();
    let save = ServerAction::<SaveSettings>::new();
    let data = Resource::new(
        move || {
            (
                query.get(),
                refresh.get(),
                review.version().get(),
                save.version().get(),
            )
        },
        |(query, _, _, _)| overview(query),
    );
    view! {
        <Title text="Access log" />
        <section class="max-w-6xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Access log"</h1>
            <p class="mt-2 max-w-3xl text-slate-700">"Every access to personal data or results, and every security event, by account id and record id only — names are looked up for this page and never stored in the log. Each entry is chained to the one before it, so a changed or removed entry is detected."</p>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) => view! {
                            <ReviewStatus page=page.clone() />
                            <Alerts alerts=page.alerts.clone() refresh=refresh />
                            <FilterForm page=page.clone() query=query />
                            <Entries rows=page.rows.clone() review=review />
                            <SettingsCard settings=page.settings.clone() save=save />
                        }.into_any(),
                        Err(err) => view! { <NotAvailable message=err.message /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ReviewStatus(page: crate::api::audit::AuditOverview) -> impl IntoView {
    let last = page.last_review.clone().map_or_else(
        || "No entry has been reviewed yet.".to_owned(),
        |at| format!("Last review: {at}."),
    );
    let (box_class, text) = if page.review_overdue {
        (
            "mt-6 rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-900",
            format!("A review of the log is due (since {}). {last}", page.review_due),
        )
    } else {
        (
            "mt-6 rounded-lg border border-slate-200 bg-slate-50 p-4 text-slate-800",
            format!("Next review due by {}. {last}", page.review_due),
        )
    };
    view! {
        <div role="status" class=box_class>
            <p class="font-medium">{text}</p>
            <p class="mt-1 text-sm">{match page.open_alerts {
                0 => "No open alerts.".to_owned(),
                1 => "1 open alert.".to_owned(),
                n => format!("{n} open alerts."),
            }}</p>
        </div>
    }
}

#[component]
fn Alerts(alerts: Vec<AlertRow>, refresh: RwSignal<u32>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let none = alerts.is_empty();
    let items = alerts
        .into_iter()
        .map(|alert| {
            let id = alert.id.clone();
            let ack = move |_| {
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    match acknowledge(id).await {
                        Ok(()) => refresh.update(|n| *n += 1),
                        Err(err) => error.set(Some(err.message)),
                    }
                });
            };
            let badge = match alert.severity {
                Severity::Critical => "bg-red-100 text-red-900",
                Severity::Warning => "bg-amber-100 text-amber-900",
                Severity::Info => "bg-slate-100 text-slate-800",
            };
            view! {
                <li class="flex flex-col gap-2 border-t border-slate-200 py-3 first:border-t-0 sm:flex-row sm:items-center sm:justify-between">
                    <div>
                        <p class="font-medium text-slate-900">
                            <span class=format!("mr-2 rounded px-2 py-0.5 text-xs font-semibold uppercase {badge}")>{alert.severity.label()}</span>
                            {alert.label.clone()}
                        </p>
                        <p class="text-sm text-slate-700">{format!("{} · {}", alert.raised, alert.detail)}</p>
                        {alert.acknowledged.clone().map(|text| view! { <p class="text-sm text-slate-600">{text}</p> })}
                    </div>
                    {alert.acknowledged.is_none().then(|| view! {
                        <button type="button" class=SECONDARY_BUTTON_CLASS on:click=ack>"Acknowledge"</button>
                    })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class=CARD aria-labelledby="alerts-heading">
            <h2 id="alerts-heading" class="text-lg font-semibold text-slate-900">"Alerts"</h2>
            {move || error.get().map(|message| view! { <p role="alert" class="mt-2 text-sm text-red-800">{message}</p> })}
            {none.then(|| view! { <p class="mt-2 text-slate-700">"No alerts."</p> })}
            <ul class="mt-2">{items}</ul>
            <p class="mt-2 text-sm text-slate-600">"Raised by the monitoring rules below and emailed to the workplace's Owners and Auditors."</p>
        </section>
    }
}

#[component]
fn FilterForm(page: crate::api::audit::AuditOverview, query: RwSignal<LogQuery>) -> impl IntoView {
    let current = query.get_untracked();
    let (actor, action, entity, entity_id) = (
        RwSignal::new(current.actor.clone()),
        RwSignal::new(current.action.clone()),
        RwSignal::new(current.entity.clone()),
        RwSignal::new(current.entity_id.clone()),
    );
    let (from, until) = (
        RwSignal::new(current.from.clone()),
        RwSignal::new(current.until.clone()),
    );
    let (security_only, unreviewed_only) = (
        RwSignal::new(current.security_only),
        RwSignal::new(current.unreviewed_only),
    );
    let wanted = move || LogQuery {
        actor: actor.get_untracked(),
        action: action.get_untracked(),
        entity: entity.get_untracked(),
        entity_id: entity_id.get_untracked(),
        from: from.get_untracked(),
        until: until.get_untracked(),
        security_only: security_only.get_untracked(),
        unreviewed_only: unreviewed_only.get_untracked(),
    };
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        query.set(wanted());
    };
    let download_error = RwSignal::new(None::<String>);
    let download = move |format: ExportFormat| {
        let wanted = wanted();
        leptos::task::spawn_local(async move {
            let (name, mime) = format.file();
            let saved = match export(wanted, format).await {
                Ok(text) => crate::files::save_text_file(name, mime, &text),
                Err(err) => Err(err.message),
            };
            download_error.set(saved.err());
        });
    };
    let actors = page
        .actors
        .iter()
        .map(|(id, name)| view! { <option value=id.clone() selected=current.actor == *id>{name.clone()}</option> })
        .collect_view();
    let entities = page
        .entities
        .iter()
        .map(|code| view! { <option value=code.clone() selected=current.entity == *code>{code.replace('_', " ")}</option> })
        .collect_view();
    view! {
        <form class=CARD on:submit=apply aria-labelledby="filter-heading">
            <h2 id="filter-heading" class="text-lg font-semibold text-slate-900">"Filter"</h2>
            <div class="mt-3 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
                <div>
                    <label for="filter-actor" class="block text-sm font-medium text-slate-800">"Person"</label>
                    <select id="filter-actor" class=INPUT_CLASS on:change=move |ev| actor.set(event_target_value(&ev))>
                        <option value="">"Anyone"</option>
                        {actors}
                    </select>
                </div>
                <div>
                    <label for="filter-action" class="block text-sm font-medium text-slate-800">"Action starts with"</label>
                    <input id="filter-action" class=INPUT_CLASS placeholder="results/export" prop:value=move || action.get() on:input=move |ev| action.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="filter-entity" class="block text-sm font-medium text-slate-800">"Kind of record"</label>
                    <select id="filter-entity" class=INPUT_CLASS on:change=move |ev| entity.set(event_target_value(&ev))>
                        <option value="">"Any"</option>
                        {entities}
                    </select>
                </div>
                <div>
                    <label for="filter-entity-id" class="block text-sm font-medium text-slate-800">"Record id"</label>
                    <input id="filter-entity-id" class=INPUT_CLASS prop:value=move || entity_id.get() on:input=move |ev| entity_id.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="filter-from" class="block text-sm font-medium text-slate-800">"From"</label>
                    <input id="filter-from" type="date" class=INPUT_CLASS prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="filter-until" class="block text-sm font-medium text-slate-800">"Until"</label>
                    <input id="filter-until" type="date" class=INPUT_CLASS prop:value=move || until.get() on:input=move |ev| until.set(event_target_value(&ev)) />
                </div>
            </div>
            <div class="mt-4 flex flex-col gap-2 sm:flex-row sm:gap-6">
                <div class="flex min-h-11 items-center gap-3">
                    <input id="filter-security" type="checkbox" class="h-5 w-5 accent-teal-700" prop:checked=move || security_only.get() on:change=move |ev| security_only.set(event_target_checked(&ev)) />
                    <label for="filter-security" class="text-slate-800">"Security events only"</label>
                </div>
                <div class="flex min-h-11 items-center gap-3">
                    <input id="filter-unreviewed" type="checkbox" class="h-5 w-5 accent-teal-700" prop:checked=move || unreviewed_only.get() on:change=move |ev| unreviewed_only.set(event_target_checked(&ev)) />
                    <label for="filter-unreviewed" class="text-slate-800">"Not yet reviewed"</label>
                </div>
            </div>
            <div class="mt-4 flex flex-col gap-3 sm:flex-row">
                <button type="submit" class=PRIMARY_BUTTON_CLASS>"Apply filter"</button>
                <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| download(ExportFormat::Csv)>"Download CSV"</button>
                <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| download(ExportFormat::Json)>"Download JSON"</button>
            </div>
            {move || download_error.get().map(|message| view! { <p role="alert" class="mt-2 text-sm text-red-800">{message}</p> })}
        </form>
    }
}

#[component]
fn Entries(rows: Vec<LogRow>, review: ServerAction<MarkReviewed>) -> impl IntoView {
    let count = rows.len();
    let body = rows
        .into_iter()
        .map(|row| {
            let record = if row.entity.is_empty() {
                "—".to_owned()
            } else if row.entity_count > 1 {
                format!("{} × {}", row.entity_count, row.entity.replace('_', " "))
            } else {
                format!("{} {}", row.entity.replace('_', " "), row.entity_ids.first().map(|id| &id[..8]).unwrap_or(""))
            };
            let outcome_class = match row.outcome {
                Outcome::Ok => "text-slate-800",
                Outcome::Error => "font-semibold text-red-800",
                Outcome::Invalid | Outcome::Unauthenticated | Outcome::Denied | Outcome::Throttled => {
                    "font-semibold text-amber-900"
                }
            };
            let entry = row.id.clone();
            let label = format!("Note for entry {}", row.seq);
            let note_id = format!("note-{}", row.seq);
            view! {
                <tr class="border-t border-slate-200 align-top">
                    <td class="whitespace-nowrap px-3 py-2 text-slate-700">{row.at.clone()}</td>
                    <td class="px-3 py-2 text-slate-900">{row.actor.clone()}</td>
                    <td class="px-3 py-2 font-mono text-sm text-slate-900">{row.action.clone()}
                        {(row.category == "security").then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 font-sans text-xs text-slate-700">"security"</span> })}
                    </td>
                    <td class=format!("px-3 py-2 {outcome_class}")>{row.outcome.label()}</td>
                    <td class="px-3 py-2 text-slate-700" title=row.entity_ids.join(" ")>{record}</td>
                    <td class="px-3 py-2">
                        {match row.review.clone() {
                            Some(text) => view! { <p class="w-48 text-sm text-slate-700">{text}</p> }.into_any(),
                            None => view! {
                                <details class="w-48">
                                    <summary class="flex min-h-11 cursor-pointer items-center text-sm font-medium text-teal-800 underline">"Mark reviewed"</summary>
                                    <ActionForm action=review attr:class="mt-1 flex flex-col gap-2">
                                        <input type="hidden" name="entry" value=entry />
                                        <div>
                                            <label for=note_id.clone() class="sr-only">{label}</label>
                                            <input id=note_id name="note" class=INPUT_CLASS placeholder="Note (optional)" maxlength="1000" />
                                        </div>
                                        <button type="submit" class=SECONDARY_BUTTON_CLASS>"Save review"</button>
                                    </ActionForm>
                                </details>
                            }.into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class=CARD aria-labelledby="entries-heading">
            <h2 id="entries-heading" class="text-lg font-semibold text-slate-900">"Entries"</h2>
            <ErrorAlert error=action_error(review.value()) />
            <p class="mt-1 text-sm text-slate-600">{match count {
                0 => "No entries match.".to_owned(),
                1 => "1 matching entry.".to_owned(),
                n => format!("The {n} newest matching entries."),
            }}</p>
            <div class="relative mt-3 overflow-x-auto">
                <table class="min-w-full text-left text-sm">
                    <thead class="text-slate-600">
                        <tr>
                            <th scope="col" class="px-3 py-2 font-medium">"When (UTC)"</th>
                            <th scope="col" class="px-3 py-2 font-medium">"Who"</th>
                            <th scope="col" class="px-3 py-2 font-medium">"Action"</th>
                            <th scope="col" class="px-3 py-2 font-medium">"Outcome"</th>
                            <th scope="col" class="px-3 py-2 font-medium">"Record"</th>
                            <th scope="col" class="px-3 py-2 font-medium">"Review"</th>
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn SettingsCard(settings: AuditSettingsView, save: ServerAction<SaveSettings>) -> impl IntoView {
    let field = |id: &'static str, label: &'static str, value: i32, min: i32, max: i32, editable: bool| {
        view! {
            <div>
                <label for=id class="block text-sm font-medium text-slate-800">{label}</label>
                <input id=id name=id type="number" min=min max=max value=value disabled=!editable class=format!("{INPUT_CLASS} max-w-40") />
            </div>
        }
    };
    let editable = settings.can_change;
    view! {
        <ActionForm action=save attr:class=CARD>
            <fieldset>
                <legend class="text-lg font-semibold text-slate-900">"Retention and monitoring"</legend>
                <p class="mt-1 text-sm text-slate-700">"Entries older than the retention period are deleted by the job runner (the deletion is itself logged). A change here raises an alert."</p>
                <ErrorAlert error=action_error(save.value()) />
                {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                    <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Saved."</p>
                })}
                <div class="mt-4 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
                    {field("retention_days", "Keep entries for (days)", settings.retention_days, 30, 3650, editable)}
                    {field("review_interval_days", "Review the log every (days)", settings.review_interval_days, 1, 365, editable)}
                    {field("failed_sign_in_limit", "Alert after failed sign-ins (15 min)", settings.failed_sign_in_limit, 3, 1000, editable)}
                    {field("denial_limit", "Alert after refused requests (10 min)", settings.denial_limit, 3, 1000, editable)}
                    {field("export_limit", "Alert after exports by one person (1 h)", settings.export_limit, 1, 1000, editable)}
                </div>
            </fieldset>
            {editable.then(|| view! {
                <button type="submit" class=format!("mt-5 {PRIMARY_BUTTON_CLASS}") disabled=move || save.pending().get()>"Save"</button>
            })}
        </ActionForm>
    }
}

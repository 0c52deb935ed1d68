//! Data-protection requests: the card on a person's page (record a request, copy of their data,
//! restrict processing, erase), the readable copy of their data with its JSON download, and the
//! register of requests with their one-month deadlines.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};

use crate::{
    api::privacy::{
        data_requests, export_personal_data, CopyDelivered, ErasePerson, RecordRequest, RestrictProcessing,
    },
    components::form::{
        action_error, ErrorAlert, SignInToContinue, DANGER_BUTTON_CLASS, INPUT_CLASS, PRIMARY_BUTTON_CLASS,
        SECONDARY_BUTTON_CLASS,
    },
};

const CARD_CLASS: &str = "mt-6 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6";

/// What the person's page knows about them, for the card.
pub struct Subject {
    pub id: crate::ids::PersonId,
    pub name: String,
    pub restricted: bool,
    pub is_self: bool,
}

/// The "Data protection" card of a person's page.
pub fn data_protection_card(subject: Subject, restrict: ServerAction<RestrictProcessing>) -> AnyView {
    let record = ServerAction::<RecordRequest>::new();
    let erase = ServerAction::<ErasePerson>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(erase.value().get(), Some(Ok(()))) {
            navigate("/data-requests?erased=1", Default::default());
        }
    });
    let restrict_error = Signal::derive(move || restrict.value().get().and_then(Result::err));
    let record_error = Signal::derive(move || record.value().get().and_then(Result::err));
    let Subject {
        id,
        name,
        restricted,
        is_self,
    } = subject;
    let today = today();
    let (next, restrict_label, restrict_hint) = if restricted {
        (
            "false",
            "Lift the restriction",
            "Processing is restricted: they are kept, but asked in no new survey round and sent no survey emails.",
        )
    } else {
        (
            "true",
            "Restrict processing",
            "Keeps their data but leaves them out of new survey rounds and survey emails until lifted.",
        )
    };
    let data_link = format!("/people/{id}/data");
    let (record_id, restrict_id) = (id.clone(), id.clone());
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Data protection"</h2>
            <p class="mt-1 text-sm text-slate-700">
                "Carry out this person's requests about their data. Each is recorded in the "
                <A href="/data-requests" attr:class="font-medium text-teal-800 underline">"register of requests"</A>
                ", due one month after it was received."
            </p>
            <ActionForm action=record attr:class="mt-4 grid gap-3 sm:grid-cols-[1fr_12rem_auto] sm:items-end">
                <input type="hidden" name="id" value=record_id />
                <label class="block text-sm font-medium text-slate-800">
                    "Request received"
                    <select name="kind" class=INPUT_CLASS>
                        <option value="access">"Copy of their data"</option>
                        <option value="restriction">"Restrict processing"</option>
                        <option value="lift">"Lift the restriction"</option>
                        <option value="erasure">"Erasure"</option>
                    </select>
                </label>
                <label class="block text-sm font-medium text-slate-800">
                    "Received on"
                    <input type="date" name="received" value=today.clone() max=today required class=INPUT_CLASS />
                </label>
                <button type="submit" class=SECONDARY_BUTTON_CLASS>"Record request"</button>
            </ActionForm>
            <ErrorAlert error=record_error />
            {move || matches!(record.value().get(), Some(Ok(()))).then(|| view! {
                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Request recorded."</p>
            })}
            <div class="mt-5 border-t border-slate-200 pt-4">
                <h3 class="font-semibold text-slate-900">"Copy of their data"</h3>
                <p class="mt-1 text-sm text-slate-700">"Everything Candor holds about them, to read or to download as JSON for them."</p>
                <A href=data_link attr:class=format!("mt-3 {PRIMARY_BUTTON_CLASS}")>"Open their data"</A>
            </div>
            <div class="mt-5 border-t border-slate-200 pt-4">
                <h3 class="font-semibold text-slate-900">"Processing"</h3>
                <p class="mt-1 text-sm text-slate-700">{restrict_hint}</p>
                <ActionForm action=restrict attr:class="mt-3">
                    <input type="hidden" name="id" value=restrict_id />
                    <input type="hidden" name="restricted" value=next />
                    <button type="submit" class=SECONDARY_BUTTON_CLASS>{restrict_label}</button>
                </ActionForm>
                <ErrorAlert error=restrict_error />
            </div>
            {(!is_self).then(|| erase_section(id, name, erase))}
        </div>
    }
    .into_any()
}

fn today() -> String {
    // The browser's clock is good enough for a form default; the server checks the date.
    #[cfg(feature = "hydrate")]
    {
        let now = js_sys::Date::new_0();
        format!(
            "{:04}-{:02}-{:02}",
            now.get_full_year(),
            now.get_month() + 1,
            now.get_date()
        )
    }
    #[cfg(all(feature = "ssr", not(feature = "hydrate")))]
    {
        chrono::Utc::now().format("%Y-%m-%d").to_string()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        String::new()
    }
}

fn erase_section(id: crate::ids::PersonId, name: String, erase: ServerAction<ErasePerson>) -> AnyView {
    use crate::{
        api::factors::{second_factor_choices, FactorChoices},
        components::factors::SecondFactorForm,
    };
    let confirmation = RwSignal::new(String::new());
    let needs_confirmation =
        move || matches!(erase.value().get(), Some(Err(err)) if err.code == "auth.reauthentication_required");
    let other_error = Signal::derive(move || {
        erase
            .value()
            .get()
            .and_then(Result::err)
            .filter(|err| err.code != "auth.reauthentication_required")
    });
    let choices = Resource::new(|| (), |_| second_factor_choices());
    let retry_id = id.clone();
    let on_done = Callback::new(move |()| {
        erase.dispatch(ErasePerson {
            id: retry_id.clone(),
            confirmation: confirmation.get_untracked(),
        });
    });
    let prompt = format!("Type “{name}” to confirm");
    view! {
        <details class="mt-5 border-t border-slate-200 pt-4">
            <summary class="min-h-11 cursor-pointer py-2 font-semibold text-red-800">"Erase this person"</summary>
            <p class="mt-2 text-sm text-slate-700">
                "Their account and every personal field are deleted: name, email, sessions, second factors, remembered devices, results access and which rounds they were asked in. "
                "Their survey answers and comments stay, as anonymous figures that were never linked to them and cannot be linked back. This cannot be undone."
            </p>
            <ErrorAlert error=other_error />
            <Show
                when=needs_confirmation
                fallback=move || {
                    let id = id.clone();
                    let prompt = prompt.clone();
                    view! {
                        <form
                            class="mt-3 grid gap-3 sm:grid-cols-[1fr_auto] sm:items-end"
                            on:submit=move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                erase.dispatch(ErasePerson { id: id.clone(), confirmation: confirmation.get_untracked() });
                            }
                        >
                            <label class="block text-sm font-medium text-slate-800">
                                {prompt}
                                <input
                                    type="text"
                                    autocomplete="off"
                                    class=INPUT_CLASS
                                    prop:value=move || confirmation.get()
                                    on:input=move |ev| confirmation.set(event_target_value(&ev))
                                />
                            </label>
                            <button type="submit" class=DANGER_BUTTON_CLASS>"Erase permanently"</button>
                        </form>
                    }
                }
            >
                <p class="mb-3 mt-3 text-sm font-medium text-slate-800">"Confirm it is you first, with your own second factor."</p>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        choices.await.ok().map(|choices| {
                            let choices = FactorChoices { remember_days: 0, ..choices };
                            view! { <SecondFactorForm choices submit_label="Confirm and erase" on_done /> }
                        })
                    })}
                </Suspense>
            </Show>
        </details>
    }
    .into_any()
}

/// `/people/:id/data`: the readable copy, and the JSON download.
#[component]
pub fn PersonDataPage() -> impl IntoView {
    let id = move || crate::ids::PersonId::from(use_params_map().get().get("id").unwrap_or_default());
    let copy = Resource::new(id, export_personal_data);
    let delivered = ServerAction::<CopyDelivered>::new();
    view! {
        <Title text="Their data" />
        <Suspense fallback=|| view! { <p class="text-slate-600">"Collecting their data…"</p> }>
            {move || Suspend::new(async move {
                match copy.await {
                    Ok(copy) => {
                        let json = copy.json.clone();
                        let file = format!("candor-data-{}.json", copy.name.to_lowercase().replace(' ', "-"));
                        let saved = RwSignal::new(None::<Result<(), String>>);
                        let (name, heading) = (copy.name.clone(), format!("Data held about {}", copy.name));
                        let download = move |_| {
                            saved.set(Some(crate::files::save_text_file(&file, "application/json", &json)));
                        };
                        view! {
                            <section class="max-w-3xl">
                                <p class="text-sm"><A href=format!("/people/{}", id()) attr:class="font-medium text-teal-800 underline">{name}</A></p>
                                <h1 class="mt-2 text-3xl font-bold tracking-tight text-slate-900">{heading}</h1>
                                <p class="mt-2 text-slate-700">"Everything Candor holds about this person, as they would receive it. Once you have given it to them, record it: that carries out their request for a copy."</p>
                                <div class="mt-4 flex flex-wrap gap-3">
                                    <button type="button" class=PRIMARY_BUTTON_CLASS on:click=download>"Download as JSON"</button>
                                    <ActionForm action=delivered>
                                        <input type="hidden" name="id" value=id() />
                                        <button type="submit" class=SECONDARY_BUTTON_CLASS disabled=move || delivered.pending().get()>"Record the copy as handed over"</button>
                                    </ActionForm>
                                </div>
                                <ErrorAlert error=action_error(delivered.value()) />
                                {move || matches!(delivered.value().get(), Some(Ok(()))).then(|| view! {
                                    <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Recorded: their request for a copy is carried out."</p>
                                })}
                                {move || match saved.get() {
                                    Some(Ok(())) => Some(view! { <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Downloaded."</p> }.into_any()),
                                    Some(Err(message)) => Some(view! { <p role="alert" class="mt-2 text-sm text-red-800">{message}</p> }.into_any()),
                                    None => None,
                                }}
                                {copy.sections.into_iter().map(|section| view! {
                                    <div class=CARD_CLASS>
                                        <h2 class="text-lg font-semibold text-slate-900">{section.title.clone()}</h2>
                                        {if section.entries.is_empty() {
                                            view! { <p class="mt-2 text-sm text-slate-600">"None."</p> }.into_any()
                                        } else {
                                            section.entries.into_iter().map(|entry| view! {
                                                <dl class="mt-3 grid gap-x-6 gap-y-1 border-t border-slate-100 pt-3 text-sm first-of-type:border-t-0 sm:grid-cols-[12rem_1fr]">
                                                    {entry.into_iter().map(|(label, value)| view! {
                                                        <dt class="font-medium text-slate-600">{label}</dt>
                                                        <dd class="break-words text-slate-900">{value}</dd>
                                                    }).collect_view()}
                                                </dl>
                                            }).collect_view().into_any()
                                        }}
                                    </div>
                                }).collect_view()}
                                <div class=CARD_CLASS>
                                    <h2 class="text-lg font-semibold text-slate-900">"Not included"</h2>
                                    <ul class="mt-2 list-disc space-y-1 pl-5 text-sm text-slate-700">
                                        {copy.not_included.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                                    </ul>
                                </div>
                            </section>
                        }.into_any()
                    }
                    Err(err) if err.code == "auth.required" || err.code == "auth.mfa_required" => view! { <SignInToContinue message=err.message /> }.into_any(),
                    Err(err) => view! { <p role="alert" class="text-red-800">{err.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/data-requests`: every request, newest first, with open and overdue ones marked.
#[component]
pub fn DataRequestsPage() -> impl IntoView {
    let register = Resource::new(|| (), |_| data_requests());
    let erased = move || {
        leptos_router::hooks::use_query_map()
            .get()
            .get("erased")
            .is_some()
    };
    view! {
        <Title text="Data requests" />
        <section class="max-w-5xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Data requests"</h1>
            <p class="mt-2 max-w-3xl text-slate-700">
                "Requests from people about their data — a copy, a restriction, erasure — as your workplace received them. Each is due one month after it was received. Record and carry them out on the person's page, found under "
                <A href="/people" attr:class="font-medium text-teal-800 underline">"People"</A>"."
            </p>
            {move || erased().then(|| view! {
                <p role="status" class="mt-4 rounded-md border border-teal-200 bg-teal-50 p-3 text-teal-900">"The person was erased. Their request stays in the register, without their name."</p>
            })}
            <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match register.await {
                        Ok(register) => view! {
                            <p role="status" class="mt-6 text-slate-800">
                                {format!("{} open, {} overdue, {} in all.", register.open, register.overdue, register.rows.len())}
                            </p>
                            <div class="mt-3 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
                                <table class="min-w-full divide-y divide-slate-200 text-sm">
                                    <caption class="sr-only">"Data-protection requests"</caption>
                                    <thead class="bg-slate-50 text-left text-slate-700">
                                        <tr>
                                            <th scope="col" class="px-4 py-3 font-semibold">"Request"</th>
                                            <th scope="col" class="px-4 py-3 font-semibold">"Person"</th>
                                            <th scope="col" class="px-4 py-3 font-semibold">"Received"</th>
                                            <th scope="col" class="px-4 py-3 font-semibold">"Due"</th>
                                            <th scope="col" class="px-4 py-3 font-semibold">"Carried out"</th>
                                            <th scope="col" class="px-4 py-3 font-semibold">"By"</th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {register.rows.into_iter().map(|row| view! {
                                            <tr>
                                                <td class="px-4 py-3 text-slate-900">{row.kind}</td>
                                                <td class="px-4 py-3">
                                                    {match row.person_id {
                                                        Some(id) => view! { <A href=format!("/people/{id}") attr:class="font-medium text-teal-800 underline">{row.person}</A> }.into_any(),
                                                        None => view! { <span class="italic text-slate-600">{row.person}</span> }.into_any(),
                                                    }}
                                                </td>
                                                <td class="whitespace-nowrap px-4 py-3 text-slate-700">{row.received}</td>
                                                <td class="whitespace-nowrap px-4 py-3 text-slate-700">
                                                    {row.due}
                                                    {row.overdue.then(|| view! { <span class="ml-2 rounded bg-red-100 px-2 py-0.5 text-xs font-semibold text-red-900">"Overdue"</span> })}
                                                </td>
                                                <td class="whitespace-nowrap px-4 py-3 text-slate-700">
                                                    {row.done.unwrap_or_else(|| "Open".to_owned())}
                                                </td>
                                                <td class="px-4 py-3 text-slate-700">{row.by.unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(err) if err.code == "auth.forbidden" => view! {
                            <p role="alert" class="mt-6 text-slate-700">"Only people who manage people (HR admins and Owners) see the register."</p>
                        }.into_any(),
                        Err(err) => view! { <SignInToContinue message=err.message /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

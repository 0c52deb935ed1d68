//! People: the list (search, department and status filters, pages) with invitations for those
//! who manage people, a person's record with what they can see and why, and the page where an
//! invited person accepts.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
};

use crate::{
    api::people::{
        invitation, my_profile, people, person, AcceptInvitation, Choice, CorrectOwnName,
        CorrectPersonDetails, InvitePerson, PersonRecord, ResendInvitation, ResetPersonFactors,
        RevokeInvitation, SecurePersonAccount, SetPersonDepartment, SetPersonGrants, SetPersonRole,
        SetPersonStatus,
    },
    components::form::{
        action_error, ErrorAlert, FormCard, SignInToContinue, INPUT_CLASS, PRIMARY_BUTTON_CLASS,
        SECONDARY_BUTTON_CLASS,
    },
};

use crate::components::form::CARD_CLASS;
use crate::{
    ids::{DepartmentId, PersonId},
    model::PersonStatus,
};

fn options(choices: &[Choice], selected: Option<&str>) -> impl IntoView {
    choices
        .iter()
        .map(|c| {
            let is_selected = selected == Some(c.value.as_str());
            view! { <option value=c.value.clone() selected=is_selected>{c.label.clone()}</option> }
        })
        .collect_view()
}

fn sign_in_card(message: String) -> AnyView {
    view! { <SignInToContinue message /> }.into_any()
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let department = RwSignal::new(String::new());
    let status = RwSignal::new(None::<PersonStatus>);
    let page = RwSignal::new(1_usize);
    let invite = ServerAction::<InvitePerson>::new();
    let imports = RwSignal::new(0_u32);
    let import_state = ImportState::new(imports);
    let list = Resource::new(
        move || {
            (
                search.get(),
                department.get(),
                status.get(),
                page.get(),
                (invite.version().get(), imports.get()),
            )
        },
        |(search, department, status, page, _)| people(search, department.into(), status, page),
    );
    let invite_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(invite.value().get(), Some(Ok(_))) {
            if let Some(form) = invite_form.get() {
                form.reset();
            }
        }
    });
    view! {
        <Title text="People" />
        <section class="max-w-5xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"People"</h1>
            <p class="mt-3 text-slate-700">"Everyone in your workplace you may see. Managers see the people in the departments granted to them."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    list.await.ok().filter(|l| l.can_manage).map(|_| view! {
                        <p class="mt-2 text-sm"><A href="/data-requests" attr:class="font-medium text-teal-800 underline">"Data requests: copies, restrictions and erasures, with their deadlines"</A></p>
                    })
                })}
            </Transition>
            <div class="mt-6 grid gap-4 sm:grid-cols-3">
                <div>
                    <label for="search" class="block text-sm font-medium text-slate-800">"Search"</label>
                    <input id="search" type="search" placeholder="Name or email" maxlength="200" class=INPUT_CLASS
                        on:input=move |ev| { search.set(event_target_value(&ev)); page.set(1); } />
                </div>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let departments = list.await.map(|l| l.departments).unwrap_or_default();
                        view! {
                            <div>
                                <label for="filter-department" class="block text-sm font-medium text-slate-800">"Department"</label>
                                <select id="filter-department" class=INPUT_CLASS
                                    on:change=move |ev| { department.set(event_target_value(&ev)); page.set(1); }>
                                    <option value="" selected=department.get_untracked().is_empty()>"All departments"</option>
                                    {options(&departments, Some(department.get_untracked().as_str()))}
                                </select>
                            </div>
                        }
                    })}
                </Transition>
                <div>
                    <label for="filter-status" class="block text-sm font-medium text-slate-800">"Status"</label>
                    <select id="filter-status" class=INPUT_CLASS
                        on:change=move |ev| { status.set(PersonStatus::from_key(&event_target_value(&ev))); page.set(1); }>
                        <option value="">"Any status"</option>
                        {PersonStatus::ALL.iter().map(|s| view! { <option value=s.key()>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => {
                            let (current, pages, total) = (list.page, list.pages, list.total);
                            view! {
                                <p class="mt-6 text-sm text-slate-700" role="status">
                                    {format!("{total} {} · page {current} of {pages}", if total == 1 { "person" } else { "people" })}
                                </p>
                                <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
                                    <table class="min-w-full text-left text-sm">
                                        <caption class="sr-only">"People"</caption>
                                        <thead class="bg-slate-50 text-slate-700">
                                            <tr>
                                                <th scope="col" class="px-4 py-3 font-semibold">"Name"</th>
                                                <th scope="col" class="hidden px-4 py-3 font-semibold md:table-cell">"Email"</th>
                                                <th scope="col" class="px-4 py-3 font-semibold">"Department"</th>
                                                <th scope="col" class="hidden px-4 py-3 font-semibold sm:table-cell">"Role"</th>
                                                <th scope="col" class="px-4 py-3 font-semibold">"Status"</th>
                                            </tr>
                                        </thead>
                                        <tbody class="divide-y divide-slate-200">
                                            {list.people.into_iter().map(|p| view! {
                                                <tr>
                                                    <td class="px-4 py-3">
                                                        <A href=format!("/people/{}", p.id) attr:class="font-medium text-teal-800 underline">{p.name}</A>
                                                    </td>
                                                    <td class="hidden px-4 py-3 text-slate-700 md:table-cell">{p.email}</td>
                                                    <td class="px-4 py-3 text-slate-700">{p.department.unwrap_or_else(|| "—".into())}</td>
                                                    <td class="hidden px-4 py-3 text-slate-700 sm:table-cell">{p.role}</td>
                                                    <td class="px-4 py-3 text-slate-700">{p.status.label()}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <nav aria-label="Pages" class="mt-4 flex gap-3">
                                    <button type="button" class=SECONDARY_BUTTON_CLASS disabled={current <= 1}
                                        on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>"Previous page"</button>
                                    <button type="button" class=SECONDARY_BUTTON_CLASS disabled={current >= pages}
                                        on:click=move |_| page.update(|p| *p += 1)>"Next page"</button>
                                </nav>
                                {list.can_manage.then(|| view! {
                                    <ActionForm action=invite node_ref=invite_form attr:class=CARD_CLASS>
                                        <h2 class="text-lg font-semibold text-slate-900">"Invite someone"</h2>
                                        <p class="mt-1 text-sm text-slate-700">"They get an email with a link (valid 7 days) to choose a password and set up their second factor."</p>
                                        <ErrorAlert error=action_error(invite.value()) />
                                        {move || matches!(invite.value().get(), Some(Ok(_))).then(|| view! {
                                            <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Invitation sent."</p>
                                        })}
                                        <div class="mt-4 grid gap-4 sm:grid-cols-2">
                                            <div>
                                                <label for="invite-name" class="block text-sm font-medium text-slate-800">"Full name"</label>
                                                <input id="invite-name" name="name" required maxlength="200" autocomplete="off" class=INPUT_CLASS />
                                            </div>
                                            <div>
                                                <label for="invite-email" class="block text-sm font-medium text-slate-800">"Work email"</label>
                                                <input id="invite-email" name="email" type="email" required maxlength="254" autocomplete="off" class=INPUT_CLASS />
                                            </div>
                                            <div>
                                                <label for="invite-department" class="block text-sm font-medium text-slate-800">"Department"</label>
                                                <select id="invite-department" name="department" class=INPUT_CLASS>
                                                    <option value="">"No department"</option>
                                                    {options(&list.departments, None)}
                                                </select>
                                            </div>
                                            <div>
                                                <label for="invite-role" class="block text-sm font-medium text-slate-800">"Role"</label>
                                                <select id="invite-role" name="role" class=INPUT_CLASS>{options(&list.roles, Some("employee"))}</select>
                                            </div>
                                            <div>
                                                <label for="invite-start" class="block text-sm font-medium text-slate-800">"Start date "<span class="font-normal text-slate-600">"(optional)"</span></label>
                                                <input id="invite-start" name="start_date" type="date" class=INPUT_CLASS />
                                            </div>
                                        </div>
                                        <button type="submit" class=format!("mt-5 {PRIMARY_BUTTON_CLASS}") disabled=move || invite.pending().get()>"Send invitation"</button>
                                    </ActionForm>
                                })}
                                {list.can_manage.then(|| import_card(import_state))}
                            }.into_any()
                        }
                        Err(err) => sign_in_card(err.message),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn PersonPage() -> impl IntoView {
    let id = move || use_params_map().get().get("id").unwrap_or_default();
    let set_status = ServerAction::<SetPersonStatus>::new();
    let set_role = ServerAction::<SetPersonRole>::new();
    let set_department = ServerAction::<SetPersonDepartment>::new();
    let set_grants = ServerAction::<SetPersonGrants>::new();
    let resend = ServerAction::<ResendInvitation>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let reset = ServerAction::<ResetPersonFactors>::new();
    let secure = ServerAction::<SecurePersonAccount>::new();
    let correct = ServerAction::<CorrectPersonDetails>::new();
    let restrict = ServerAction::<crate::api::privacy::RestrictProcessing>::new();
    let record = Resource::new(
        move || {
            (
                id(),
                restrict.version().get(),
                set_status.version().get(),
                set_role.version().get(),
                set_department.version().get(),
                set_grants.version().get(),
                correct.version().get(),
            )
        },
        |(id, ..)| person(id.into()),
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(revoke.value().get(), Some(Ok(()))) {
            navigate("/people", Default::default());
        }
    });
    let latest_error = RwSignal::new(None::<crate::error::ApiError>);
    let track = move |value: Option<Result<(), crate::error::ApiError>>| match value {
        Some(Err(err)) => latest_error.set(Some(err)),
        Some(Ok(())) => latest_error.set(None),
        None => {}
    };
    Effect::new(move |_| track(set_status.value().get()));
    Effect::new(move |_| track(set_role.value().get()));
    Effect::new(move |_| track(set_department.value().get()));
    Effect::new(move |_| track(set_grants.value().get()));
    Effect::new(move |_| track(resend.value().get()));
    Effect::new(move |_| track(revoke.value().get()));
    view! {
        <Title text="Person" />
        <Transition fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match record.await {
                    Ok(p) => {
                        let granted: RwSignal<BTreeSet<String>> = RwSignal::new(p.grants.iter().map(ToString::to_string).collect());
                        let manager = p.uses_grants;
                        view! {
                            <section class="max-w-3xl">
                                <p class="text-sm"><A href="/people" attr:class="font-medium text-teal-800 underline">"People"</A></p>
                                <h1 class="mt-2 text-3xl font-bold tracking-tight text-slate-900">{p.name.clone()}</h1>
                                <p class="mt-2 text-slate-700">{format!("{} · {} · {}", p.email, p.role, p.status.label())}</p>
                                <p class="text-slate-700">{format!("Department: {}{}", p.department.clone().unwrap_or_else(|| "none".into()),
                                    p.start_date.clone().map(|d| format!(" · started {d}")).unwrap_or_default())}</p>
                                <div class="mt-4"><ErrorAlert error=latest_error.into() /></div>
                                <div class=CARD_CLASS>
                                    <h2 class="text-lg font-semibold text-slate-900">"What they can see and do"</h2>
                                    <ul class="mt-2 list-disc space-y-1 pl-5 text-slate-700" aria-label="Access">
                                        {p.access.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}
                                    </ul>
                                </div>
                                {p.can_manage.then(|| view! {
                                    {(p.status == PersonStatus::Invited).then(|| invitation_card(p.id.clone(), resend, revoke))}
                                    {details_card(&p, correct)}
                                    {role_card(&p, set_role, set_department)}
                                    {manager.then(|| grants_card(&p, granted, set_grants))}
                                    {(p.status != PersonStatus::Invited && !p.is_self).then(|| reset_card(p.id.clone(), reset))}
                                    {(p.status != PersonStatus::Invited && !p.is_self).then(|| secure_card(p.id.clone(), secure))}
                                    {(p.status != PersonStatus::Invited).then(|| status_card(p.id.clone(), p.status, set_status))}
                                })}
                                {p.can_handle_requests.then(|| crate::pages::privacy::data_protection_card(
                                    crate::pages::privacy::Subject {
                                        id: p.id.clone(),
                                        name: p.name.clone(),
                                        restricted: p.restricted,
                                        is_self: p.is_self,
                                    },
                                    restrict,
                                ))}
                            </section>
                        }.into_any()
                    }
                    Err(err) if err.code == "resource.not_found" => view! {
                        <FormCard title="Not found">
                            <p role="alert" class="text-slate-700">"There is no such person, or you may not see them."</p>
                            <A href="/people" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"People"</A>
                        </FormCard>
                    }.into_any(),
                    Err(err) => sign_in_card(err.message),
                }
            })}
        </Transition>
    }
}

/// Inviting many people from a CSV file: check it (every row, with its errors), then import all
/// of it or nothing.
/// The CSV import's state lives with the page, not the card: the card is drawn again whenever
/// the list reloads (an import reloads it), and its outcome must survive that.
#[derive(Clone, Copy)]
struct ImportState {
    check: Action<(), Result<crate::api::people::ImportCheck, crate::error::ApiError>>,
    import: Action<(), Result<usize, crate::error::ApiError>>,
    /// While an import runs: people invited so far, and how many in all.
    progress: RwSignal<Option<(usize, usize)>>,
}

impl ImportState {
    fn new(imports: RwSignal<u32>) -> Self {
        use crate::{
            api::people::preview_import, components::factors::browser_error, files::read_chosen_file,
        };
        let chosen = RwSignal::new(String::new());
        let check = Action::new_local(move |_: &()| async move {
            let text = read_chosen_file("import-file").await.map_err(browser_error)?;
            chosen.set(text.clone());
            preview_import(text).await
        });
        let progress = RwSignal::new(None);
        let import = Action::new_local(move |_: &()| async move {
            let done = follow_import(chosen.get_untracked(), progress).await;
            progress.set(None);
            // The checked file is used up either way: its preview goes, so that trying again
            // (which spends the allowance again) starts with checking the file again.
            check.value().set(None);
            if done.is_ok() {
                imports.update(|n| *n += 1);
            }
            done
        });
        Self {
            check,
            import,
            progress,
        }
    }
}

/// Starts the import of `csv` and follows it until it is done, showing how far it is.
async fn follow_import(
    csv: String,
    progress: RwSignal<Option<(usize, usize)>>,
) -> Result<usize, crate::error::ApiError> {
    use crate::api::people::{import_people, import_progress};
    let started = import_people(csv).await?;
    progress.set(Some((0, started.total)));
    // A look every half second at first, then less often: each look is an access-log entry.
    let mut wait = 500;
    loop {
        crate::pause::pause(wait).await;
        wait = (wait + 250).min(2_000);
        let now = match import_progress(started.id.clone()).await {
            Ok(now) => now,
            // The server that ran it stopped (a restart): say what that means.
            Err(err) if err.code == "resource.not_found" => {
                return Err(crate::error::ApiError::new(
                    "import.stopped",
                    "The import stopped before it finished, when the server restarted. Some people \
                     may be listed as invited without an email: check the list, then import the \
                     rest of the file.",
                    409,
                ))
            }
            Err(err) => return Err(err),
        };
        progress.set(Some((now.invited, now.total)));
        if let Some(outcome) = now.outcome {
            return outcome;
        }
    }
}

fn import_card(state: ImportState) -> AnyView {
    let ImportState {
        check,
        import,
        progress,
    } = state;
    let check_error = Signal::derive(move || check.value().get().and_then(Result::err));
    let import_error = Signal::derive(move || import.value().get().and_then(Result::err));
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Invite from a CSV file"</h2>
            <p class="mt-1 text-sm text-slate-700">
                "Columns: " <code>"name, email, department, role, start_date"</code>
                ". Departments by name, or by path (" <code>"Operations / Warehouse"</code>
                ") when a name repeats. Everyone is invited, or — if any row has a problem — no one."
            </p>
            <ErrorAlert error=check_error />
            <ErrorAlert error=import_error />
            <div class="mt-4 flex flex-col gap-3 sm:flex-row sm:items-end">
                <div class="grow">
                    <label for="import-file" class="block text-sm font-medium text-slate-800">"CSV file"</label>
                    <input id="import-file" type="file" accept=".csv,text/csv"
                        class="mt-1 block w-full min-h-11 text-sm text-slate-800 file:mr-3 file:min-h-11 file:rounded-md file:border-0 file:bg-slate-100 file:px-4 file:font-medium" />
                </div>
                <button type="button" class=SECONDARY_BUTTON_CLASS disabled=move || check.pending().get()
                    on:click=move |_| { check.dispatch(()); }>"Check file"</button>
            </div>
            {move || check.value().get().and_then(Result::ok).map(|result| {
                let (bad, total) = (result.with_problems, result.total);
                let rows = result.rows;
                let not_shown = total.saturating_sub(rows.len());
                view! {
                    <p role="status" class="mt-4 text-sm font-medium text-slate-800">
                        {if result.valid { format!("{total} people ready to invite.") } else { format!("{bad} of {total} rows need fixing; nothing will be imported until they are.") }}
                    </p>
                    // Scrolls on its own: reachable by keyboard, named for screen readers.
                    <div class="mt-2 max-h-96 overflow-auto rounded border border-slate-200 focus:outline-2 focus:outline-teal-700"
                        tabindex="0" role="region" aria-label="Rows in the file, scrollable">
                        <table class="min-w-full text-left text-sm">
                            <caption class="sr-only">"Rows in the file"</caption>
                            <thead class="bg-slate-50 text-slate-700">
                                <tr>
                                    <th scope="col" class="px-3 py-2">"Line"</th>
                                    <th scope="col" class="px-3 py-2">"Name"</th>
                                    <th scope="col" class="px-3 py-2">"Email"</th>
                                    <th scope="col" class="px-3 py-2">"Department"</th>
                                    <th scope="col" class="px-3 py-2">"Problems"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200">
                                {rows.into_iter().map(|row| {
                                    let ok = row.errors.is_empty();
                                    view! {
                                        <tr class=if ok { "" } else { "bg-red-50" }>
                                            <td class="px-3 py-2 text-slate-700">{row.line}</td>
                                            <td class="px-3 py-2 text-slate-900">{row.name}</td>
                                            <td class="px-3 py-2 text-slate-700">{row.email}</td>
                                            <td class="px-3 py-2 text-slate-700">{row.department}</td>
                                            <td class="px-3 py-2 text-red-800">{if ok { "—".to_owned() } else { row.errors.join("; ") }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {(not_shown > 0).then(|| view! {
                        <p class="mt-2 text-sm text-slate-700">{format!("and {not_shown} more rows")}</p>
                    })}
                    {result.valid.then(|| view! {
                        <button type="button" class=format!("mt-4 {PRIMARY_BUTTON_CLASS}") disabled=move || import.pending().get()
                            on:click=move |_| { import.dispatch(()); }>{format!("Invite {total} people")}</button>
                    })}
                }
            })}
            // Drawn once per import; only its numbers change, so a screen reader keeps its place.
            <Show when=move || progress.with(Option::is_some)>
                <div class="mt-4">
                    <label for="import-progress" class="block text-sm font-medium text-slate-800">
                        {move || progress.get().map(|(invited, total)| format!("Inviting {invited} of {total} people…"))}
                    </label>
                    <progress id="import-progress" class="mt-1 block h-2 w-full accent-teal-700"
                        max=move || progress.get().map_or(1, |(_, total)| total.max(1))
                        value=move || progress.get().map_or(0, |(invited, _)| invited)></progress>
                </div>
            </Show>
            {move || import.value().get().and_then(Result::ok).map(|count| view! {
                <p role="status" class="mt-3 text-sm font-medium text-teal-800">{format!("{count} people invited; their emails are on their way.")}</p>
            })}
        </div>
    }
    .into_any()
}

fn invitation_card(
    id: PersonId,
    resend: ServerAction<ResendInvitation>,
    revoke: ServerAction<RevokeInvitation>,
) -> AnyView {
    let (resend_id, revoke_id) = (id.clone(), id);
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Invitation"</h2>
            <p class="mt-1 text-sm text-slate-700">"Not accepted yet."</p>
            {move || matches!(resend.value().get(), Some(Ok(()))).then(|| view! {
                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"A new link was sent; the old one no longer works."</p>
            })}
            <div class="mt-3 flex flex-col gap-3 sm:flex-row">
                <ActionForm action=resend>
                    <input type="hidden" name="id" value=resend_id />
                    <button type="submit" class=SECONDARY_BUTTON_CLASS>"Send a new link"</button>
                </ActionForm>
                <ActionForm action=revoke>
                    <input type="hidden" name="id" value=revoke_id />
                    <button type="submit" class=SECONDARY_BUTTON_CLASS>"Revoke invitation"</button>
                </ActionForm>
            </div>
        </div>
    }
    .into_any()
}

/// Correcting a person's details (the right to rectification).
fn details_card(p: &PersonRecord, correct: ServerAction<CorrectPersonDetails>) -> AnyView {
    let invited = p.status == PersonStatus::Invited;
    let (id, name, email) = (p.id.clone(), p.name.clone(), p.email.clone());
    let start_date = p.start_date.clone().unwrap_or_default();
    view! {
        <ActionForm action=correct attr:class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Details"</h2>
            <p class="mt-1 text-sm text-slate-700">{if invited {
                "Correct a mistake in their details. A new address gets a new invitation; the old link stops working."
            } else {
                "Correct their details when they ask or when a record is wrong. A new address becomes how they sign in; they are told at both addresses."
            }}</p>
            <ErrorAlert error=action_error(correct.value()) />
            <input type="hidden" name="id" value=id />
            <div class="mt-3 grid gap-4 sm:grid-cols-2">
                <div>
                    <label for="details-name" class="block text-sm font-medium text-slate-800">"Full name"</label>
                    <input id="details-name" name="name" required maxlength="200" value=name class=INPUT_CLASS />
                </div>
                <div>
                    <label for="details-email" class="block text-sm font-medium text-slate-800">"Email address"</label>
                    <input id="details-email" name="email" type="email" required maxlength="254" value=email class=INPUT_CLASS />
                </div>
                <div>
                    <label for="details-start" class="block text-sm font-medium text-slate-800">"Start date"</label>
                    <input id="details-start" name="start_date" type="date" value=start_date class=INPUT_CLASS />
                </div>
            </div>
            {move || matches!(correct.value().get(), Some(Ok(()))).then(|| view! {
                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Details corrected."</p>
            })}
            <button type="submit" class=format!("mt-4 {SECONDARY_BUTTON_CLASS}")>"Save details"</button>
        </ActionForm>
    }
    .into_any()
}

fn role_card(
    p: &PersonRecord,
    set_role: ServerAction<SetPersonRole>,
    set_department: ServerAction<SetPersonDepartment>,
) -> AnyView {
    let (role_id, department_id) = (p.id.clone(), p.id.clone());
    let role_options = options(&p.roles, Some(p.role_key.as_str()));
    let no_department = p.department_id.is_none();
    let department_options = options(&p.departments, p.department_id.as_ref().map(DepartmentId::as_str));
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Role and department"</h2>
            <div class="mt-3 grid gap-4 sm:grid-cols-2">
                <ActionForm action=set_role attr:class="space-y-3">
                    <input type="hidden" name="id" value=role_id />
                    <label for="role" class="block text-sm font-medium text-slate-800">"Role"</label>
                    <select id="role" name="role" class=INPUT_CLASS>{role_options}</select>
                    <button type="submit" class=SECONDARY_BUTTON_CLASS>"Save role"</button>
                </ActionForm>
                <ActionForm action=set_department attr:class="space-y-3">
                    <input type="hidden" name="id" value=department_id />
                    <label for="department" class="block text-sm font-medium text-slate-800">"Department"</label>
                    <select id="department" name="department" class=INPUT_CLASS>
                        <option value="" selected=no_department>"No department"</option>
                        {department_options}
                    </select>
                    <button type="submit" class=SECONDARY_BUTTON_CLASS>"Save department"</button>
                </ActionForm>
            </div>
        </div>
    }
    .into_any()
}

fn grants_card(
    p: &PersonRecord,
    granted: RwSignal<BTreeSet<String>>,
    set_grants: ServerAction<SetPersonGrants>,
) -> AnyView {
    let id = p.id.clone();
    view! {
        <form class=CARD_CLASS on:submit=move |ev| {
            ev.prevent_default();
            set_grants.dispatch(SetPersonGrants {
                id: id.clone(),
                departments: granted.get_untracked().into_iter().map(DepartmentId::from).collect(),
            });
        }>
            <fieldset>
                <legend class="text-lg font-semibold text-slate-900">"Departments this person sees results for"</legend>
                <p class="mt-1 text-sm text-slate-700">"A grant covers the department and everything inside it. They also see the people there."</p>
                <div class="mt-3 space-y-2">
                    {p.departments.iter().map(|d| {
                        let value = d.value.clone();
                        let checked = granted.get_untracked().contains(&value);
                        let input_id = format!("grant-{value}");
                        view! {
                            <div class="flex min-h-11 items-center gap-3">
                                <input type="checkbox" id=input_id.clone() class="h-5 w-5 accent-teal-700" checked=checked
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        granted.update(|set| { if on { set.insert(value.clone()); } else { set.remove(&value); } });
                                    } />
                                <label for=input_id class="text-slate-800">{d.label.clone()}</label>
                            </div>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            {move || matches!(set_grants.value().get(), Some(Ok(()))).then(|| view! {
                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Grants saved. They apply from this person's next request."</p>
            })}
            <button type="submit" class=format!("mt-4 {PRIMARY_BUTTON_CLASS}")>"Save grants"</button>
        </form>
    }
    .into_any()
}

/// "Confirm it is you first": the caller's own second factor, then `on_done` repeats the change.
fn confirm_first(submit_label: &'static str, on_done: Callback<()>) -> impl IntoView {
    use crate::{
        api::factors::{second_factor_choices, FactorChoices},
        components::factors::SecondFactorForm,
    };
    let choices = Resource::new(|| (), |_| second_factor_choices());
    view! {
        <p class="mb-3 mt-3 text-sm font-medium text-slate-800">"Confirm it is you first, with your own second factor."</p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                choices.await.ok().map(|choices| {
                    // A confirmation, not a sign-in: nothing to remember.
                    let choices = FactorChoices { remember_days: 0, ..choices };
                    view! { <SecondFactorForm choices submit_label on_done /> }
                })
            })}
        </Suspense>
    }
}

fn secure_card(id: PersonId, secure: ServerAction<SecurePersonAccount>) -> AnyView {
    let needs_confirmation = move || matches!(secure.value().get(), Some(Err(err)) if err.code == "auth.reauthentication_required");
    let other_error = Signal::derive(move || {
        secure
            .value()
            .get()
            .and_then(Result::err)
            .filter(|err| err.code != "auth.reauthentication_required")
    });
    let reset_factors = RwSignal::new(false);
    let retry_id = id.clone();
    let on_done = Callback::new(move |()| {
        secure.dispatch(SecurePersonAccount {
            id: retry_id.clone(),
            reset_factors: reset_factors.get_untracked(),
        });
    });
    let form_id = id;
    view! {
        <section aria-labelledby="compromised" class=CARD_CLASS>
            <h2 id="compromised" class="text-lg font-semibold text-slate-900">"Account may be compromised"</h2>
            <p class="mt-1 text-sm text-slate-700">"If someone else may know their password or have used their account: every session of theirs ends, their remembered devices are forgotten, and their account opens again only after they choose a new password with a link emailed to their address. The people who watch the access log are told."</p>
            <ErrorAlert error=other_error />
            {move || secure.value().get().and_then(Result::ok).map(|ended| view! {
                <p role="status" class="mt-2 text-sm font-medium text-teal-800">{format!(
                    "Their account is secured: {ended} {} ended; they choose a new password with a link emailed at their next sign-in.",
                    if ended == 1 { "session" } else { "sessions" },
                )}</p>
            })}
            <Show
                when=needs_confirmation
                fallback=move || {
                    let id = form_id.clone();
                    view! {
                        <ActionForm action=secure attr:class="mt-3 space-y-3">
                            <input type="hidden" name="id" value=id />
                            <label class="flex items-start gap-3 text-sm text-slate-800">
                                <input type="checkbox" name="reset_factors" value="true" class="mt-0.5 h-5 w-5"
                                    prop:checked=move || reset_factors.get()
                                    on:change=move |ev| reset_factors.set(event_target_checked(&ev)) />
                                <span>"Also remove their second factors and recovery codes (if their phone or key may be in other hands); they set up new ones first."</span>
                            </label>
                            <button type="submit" class=SECONDARY_BUTTON_CLASS>"Secure this account"</button>
                        </ActionForm>
                    }
                }
            >
                {confirm_first("Confirm and secure", on_done)}
            </Show>
        </section>
    }
    .into_any()
}

fn reset_card(id: PersonId, reset: ServerAction<ResetPersonFactors>) -> AnyView {
    let needs_confirmation =
        move || matches!(reset.value().get(), Some(Err(err)) if err.code == "auth.reauthentication_required");
    let other_error = Signal::derive(move || {
        reset
            .value()
            .get()
            .and_then(Result::err)
            .filter(|err| err.code != "auth.reauthentication_required")
    });
    let (button_id, retry_id) = (id.clone(), id);
    let on_done = Callback::new(move |()| {
        reset.dispatch(ResetPersonFactors { id: retry_id.clone() });
    });
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Second factors"</h2>
            <p class="mt-1 text-sm text-slate-700">"If they lost every factor, reset them: their factors and recovery codes are removed, they are signed out, and they set up a new factor when they next sign in with their password."</p>
            <ErrorAlert error=other_error />
            {move || matches!(reset.value().get(), Some(Ok(()))).then(|| view! {
                <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Their second factors were reset and their sessions ended."</p>
            })}
            <Show
                when=needs_confirmation
                fallback=move || {
                    let id = button_id.clone();
                    view! {
                        <ActionForm action=reset attr:class="mt-3">
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class=SECONDARY_BUTTON_CLASS>"Reset second factors"</button>
                        </ActionForm>
                    }
                }
            >
                {confirm_first("Confirm and reset", on_done)}
            </Show>
        </div>
    }
    .into_any()
}

fn status_card(id: PersonId, status: PersonStatus, set_status: ServerAction<SetPersonStatus>) -> AnyView {
    let (next, label) = match status {
        PersonStatus::Active => (PersonStatus::Suspended, "Suspend"),
        PersonStatus::Invited | PersonStatus::Suspended | PersonStatus::Left => {
            (PersonStatus::Active, "Reactivate")
        }
    };
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Access"</h2>
            <p class="mt-1 text-sm text-slate-700">"Suspending signs them out everywhere at once; they cannot sign in until reactivated."</p>
            <ActionForm action=set_status attr:class="mt-3">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="status" value=next.key() />
                <button type="submit" class=SECONDARY_BUTTON_CLASS>{label}</button>
            </ActionForm>
        </div>
    }
    .into_any()
}

/// The signed-in person's own record: what Candor holds about them and what they can see.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let rename = ServerAction::<CorrectOwnName>::new();
    let record = Resource::new(move || rename.version().get(), |_| my_profile());
    view! {
        <Title text="Your profile" />
        <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match record.await {
                    Ok(p) => view! {
                        <section class="max-w-3xl">
                            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Your profile"</h1>
                            <dl class="mt-6 grid gap-x-6 gap-y-3 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:grid-cols-[12rem_1fr] sm:p-6">
                                <dt class="font-medium text-slate-700">"Name"</dt><dd class="text-slate-900">{p.name.clone()}</dd>
                                <dt class="font-medium text-slate-700">"Email"</dt><dd class="text-slate-900">{p.email}</dd>
                                <dt class="font-medium text-slate-700">"Department"</dt><dd class="text-slate-900">{p.department.unwrap_or_else(|| "None".into())}</dd>
                                <dt class="font-medium text-slate-700">"Role"</dt><dd class="text-slate-900">{p.role}</dd>
                                <dt class="font-medium text-slate-700">"Started"</dt><dd class="text-slate-900">{p.start_date.unwrap_or_else(|| "Not recorded".into())}</dd>
                            </dl>
                            <ActionForm action=rename attr:class=CARD_CLASS>
                                <h2 class="text-lg font-semibold text-slate-900">"Correct your name"</h2>
                                <p class="mt-1 text-sm text-slate-700">"As you want it shown to your workplace. Your HR team corrects your email address and start date."</p>
                                <ErrorAlert error=action_error(rename.value()) />
                                <label for="own-name" class="mt-3 block text-sm font-medium text-slate-800">"Your name"</label>
                                <input id="own-name" name="name" required maxlength="200" autocomplete="name" value=p.name.clone() class=INPUT_CLASS />
                                {move || matches!(rename.value().get(), Some(Ok(()))).then(|| view! {
                                    <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Your name is corrected."</p>
                                })}
                                <button type="submit" class=format!("mt-4 {SECONDARY_BUTTON_CLASS}")>"Save name"</button>
                            </ActionForm>
                            <div class=CARD_CLASS>
                                <h2 class="text-lg font-semibold text-slate-900">"What you can see and do"</h2>
                                <ul class="mt-2 list-disc space-y-1 pl-5 text-slate-700" aria-label="Access">
                                    {p.access.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                                </ul>
                            </div>
                            <p class="mt-6 text-slate-700">
                                "Your answers to check-ins are stored without your name and shown only in groups. Manage how you sign in on "
                                <A href="/sign-in-methods" attr:class="font-medium text-teal-800 underline">"Sign-in methods"</A>
                                " and where you are signed in on "
                                <A href="/sessions" attr:class="font-medium text-teal-800 underline">"Sessions"</A> "."
                            </p>
                        </section>
                    }.into_any(),
                    Err(err) => sign_in_card(err.message),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn InvitationPage() -> impl IntoView {
    let token = move || use_query_map().get().get("token").unwrap_or_default();
    let greeting = Resource::new(token, invitation);
    let accept = ServerAction::<AcceptInvitation>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(accept.value().get(), Some(Ok(()))) {
            navigate("/setup", Default::default());
        }
    });
    view! {
        <Title text="Join your workplace" />
        <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match greeting.await {
                    Ok(g) => view! {
                        <FormCard title="Join your workplace">
                            <p class="text-slate-700">{format!("Welcome, {}. {} invited you to Candor. Choose a password for {}; next you set up a second factor.", g.name, g.workplace_name, g.email)}</p>
                            <div class="mt-6"><ErrorAlert error=action_error(accept.value()) /></div>
                            <ActionForm action=accept attr:class="space-y-5">
                                <input type="hidden" name="token" prop:value=token />
                                <input type="email" name="username" value=g.email.clone() autocomplete="username" hidden />
                                <div>
                                    <label for="password" class="block text-sm font-medium text-slate-800">"Choose a password"</label>
                                    <input id="password" name="password" type="password" required minlength="12" maxlength="256" autocomplete="new-password" class=INPUT_CLASS />
                                    <p class="mt-1 text-sm text-slate-600">"At least 12 characters. A few unrelated words work well."</p>
                                </div>
                                <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || accept.pending().get()>"Join"</button>
                            </ActionForm>
                        </FormCard>
                    }.into_any(),
                    Err(err) => view! {
                        <FormCard title="This invitation cannot be used">
                            <p role="alert" class="text-slate-700">{err.message}</p>
                            <p class="mt-4 text-slate-700">"Ask the person who invited you to send a new link."</p>
                        </FormCard>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

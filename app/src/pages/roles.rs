//! Roles: what every role of the workplace allows, as a table of permission sets; Owners define,
//! edit and delete the workplace's own roles here.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::roles::{roles, CreateRole, DeleteRole, PermissionInfo, RoleTable, RoleView, UpdateRole},
    components::form::{ErrorAlert, NotAvailable, INPUT_CLASS, PRIMARY_BUTTON_CLASS, SECONDARY_BUTTON_CLASS},
    error::ApiError,
    model::Permission,
};

const CARD_CLASS: &str = "mt-6 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6";

/// The role form's fields, kept with the page so a reload of the table does not lose them.
#[derive(Clone, Copy)]
struct Draft {
    /// The role being edited, or none for a new one.
    editing: RwSignal<Option<String>>,
    name: RwSignal<String>,
    permissions: RwSignal<BTreeSet<Permission>>,
    limited: RwSignal<bool>,
}

impl Draft {
    fn new() -> Self {
        Self {
            editing: RwSignal::new(None),
            name: RwSignal::new(String::new()),
            permissions: RwSignal::new(BTreeSet::new()),
            limited: RwSignal::new(true),
        }
    }

    fn clear(self) {
        self.editing.set(None);
        self.name.set(String::new());
        self.permissions.set(BTreeSet::new());
        self.limited.set(true);
    }

    fn edit(self, role: &RoleView) {
        self.editing.set(Some(role.key.clone()));
        self.name.set(role.name.clone());
        self.permissions.set(role.permissions.iter().copied().collect());
        self.limited.set(role.results_limited_to_grants);
    }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let create = ServerAction::<CreateRole>::new();
    let update = ServerAction::<UpdateRole>::new();
    let delete = ServerAction::<DeleteRole>::new();
    let table = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                delete.version().get(),
            )
        },
        |_| roles(),
    );
    let draft = Draft::new();
    let latest_error = RwSignal::new(None::<ApiError>);
    let saved = RwSignal::new(None::<&'static str>);
    Effect::new(move |_| match create.value().get() {
        Some(Ok(_)) => {
            draft.clear();
            latest_error.set(None);
            saved.set(Some("Role created."));
        }
        Some(Err(err)) => latest_error.set(Some(err)),
        None => {}
    });
    Effect::new(move |_| match update.value().get() {
        Some(Ok(())) => {
            draft.clear();
            latest_error.set(None);
            saved.set(Some(
                "Role saved. Its holders get the change on their next request.",
            ));
        }
        Some(Err(err)) => latest_error.set(Some(err)),
        None => {}
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            latest_error.set(None);
            saved.set(Some("Role deleted."));
        }
        Some(Err(err)) => latest_error.set(Some(err)),
        None => {}
    });
    view! {
        <Title text="Roles" />
        <section>
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Roles"</h1>
            <p class="mt-2 max-w-3xl text-slate-700">"A role is a set of permissions. The built-in roles never change; Owners can define roles of their own from the same sets. A change applies to everyone holding the role from their next request."</p>
            <div class="mt-4 max-w-3xl">
                <ErrorAlert error=latest_error.into() />
                {move || saved.get().filter(|_| latest_error.get().is_none()).map(|text| view! {
                    <p role="status" class="mb-4 rounded-md border border-teal-200 bg-teal-50 px-4 py-3 text-sm font-medium text-teal-900">{text}</p>
                })}
            </div>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match table.await {
                        Ok(table) => view! {
                            {matrix(&table, draft, delete)}
                            {table.can_manage.then(|| role_form(&table.permissions, draft, create, update))}
                            {descriptions(&table)}
                        }.into_any(),
                        Err(err) => view! {
                            <NotAvailable message=err.message />
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Roles down, permission sets across.
fn matrix(table: &RoleTable, draft: Draft, delete: ServerAction<DeleteRole>) -> AnyView {
    let can_manage = table.can_manage;
    let headers = table
        .permissions
        .iter()
        .map(|p| view! { <th scope="col" class="px-3 py-3 text-center font-semibold">{p.label.clone()}</th> })
        .collect_view();
    let rows = table
        .roles
        .iter()
        .map(|role| {
            let cells = table
                .permissions
                .iter()
                .map(|p| {
                    let has = role.permissions.contains(&p.key);
                    let limited = has && p.key == Permission::Results && role.results_limited_to_grants;
                    let (mark, spoken) = match (has, limited) {
                        (true, true) => ("Granted only", "Yes, on granted departments only"),
                        (true, false) => ("✓", "Yes"),
                        (false, _) => ("—", "No"),
                    };
                    let class = if has { "whitespace-nowrap px-3 py-3 text-center font-semibold text-teal-800" } else { "px-3 py-3 text-center text-slate-400" };
                    view! {
                        <td class=class>
                            <span aria-hidden="true">{mark}</span>
                            <span class="sr-only">{spoken}</span>
                        </td>
                    }
                    .into_any()
                })
                .collect_view();
            let actions = (can_manage && !role.built_in).then(|| {
                let (for_edit, key) = (role.clone(), role.key.clone());
                let name = role.name.clone();
                view! {
                    <div class="flex gap-2">
                        <button type="button" class="min-h-11 rounded-md px-3 text-sm font-medium text-teal-800 underline hover:bg-teal-50"
                            aria-label=format!("Edit {name}")
                            on:click=move |_| draft.edit(&for_edit)>"Edit"</button>
                        <button type="button" class="min-h-11 rounded-md px-3 text-sm font-medium text-red-800 underline hover:bg-red-50"
                            aria-label=format!("Delete {name}")
                            disabled=move || delete.pending().get()
                            on:click=move |_| { delete.dispatch(DeleteRole { key: key.clone().into() }); }>"Delete"</button>
                    </div>
                }
                .into_any()
            });
            view! {
                <tr class="border-t border-slate-200">
                    <th scope="row" class="whitespace-nowrap px-4 py-3 text-left font-medium text-slate-900">
                        {role.name.clone()}
                        {role.built_in.then(|| view! { <span class="ml-2 rounded bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700">"Built in"</span> })}
                    </th>
                    {cells}
                    <td class="px-3 py-3 text-right tabular-nums text-slate-700">{role.holders}</td>
                    {can_manage.then(|| view! { <td class="px-3 py-2">{actions}</td> })}
                </tr>
            }
            // Boxed: the nested static view types would exceed the release compiler's depth limit.
            .into_any()
        })
        .collect_view();
    view! {
        <p class="mt-6 text-sm text-slate-600 sm:hidden">"The table scrolls sideways to show every permission."</p>
        // `relative` keeps the screen-reader-only text inside the scrolling box.
        <div class="relative mt-2 overflow-x-auto rounded-lg border sm:mt-6 border-slate-200 bg-white shadow-sm" role="region" aria-label="Roles and permissions" tabindex="0">
            <table class="min-w-full text-sm">
                <caption class="sr-only">"Which permission sets each role has, and how many people hold it"</caption>
                <thead class="bg-slate-50 text-slate-700">
                    <tr>
                        <th scope="col" class="px-4 py-3 text-left font-semibold">"Role"</th>
                        {headers}
                        <th scope="col" class="px-3 py-3 text-right font-semibold">"People"</th>
                        {can_manage.then(|| view! { <th scope="col" class="px-3 py-3 text-left font-semibold"><span class="sr-only">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn role_form(
    permissions: &[PermissionInfo],
    draft: Draft,
    create: ServerAction<CreateRole>,
    update: ServerAction<UpdateRole>,
) -> AnyView {
    let choices = permissions
        .iter()
        .filter(|p| p.for_workplace_roles)
        .map(|p| {
            let key = p.key;
            let (checked_key, toggled_key) = (key, key);
            let input_id = format!("permission-{}", key.key());
            let description_id = format!("{input_id}-description");
            let results = key == Permission::Results;
            view! {
                <div class="flex gap-3 py-2">
                    <input type="checkbox" id=input_id.clone() class="mt-1 h-5 w-5 shrink-0 accent-teal-700"
                        aria-describedby=description_id.clone()
                        prop:checked=move || draft.permissions.get().contains(&checked_key)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            draft.permissions.update(|set| { if on { set.insert(toggled_key); } else { set.remove(&toggled_key); } });
                        } />
                    <div>
                        <label for=input_id class="font-medium text-slate-900">{p.label.clone()}</label>
                        <p id=description_id class="text-sm text-slate-700">{p.description.clone()}</p>
                        {results.then(|| view! {
                            <div class="mt-2 flex min-h-11 items-center gap-3">
                                <input type="checkbox" id="results-limited" class="h-5 w-5 accent-teal-700"
                                    prop:checked=move || draft.limited.get()
                                    prop:disabled=move || !draft.permissions.get().contains(&Permission::Results)
                                    on:change=move |ev| draft.limited.set(event_target_checked(&ev)) />
                                <label for="results-limited" class="text-sm text-slate-800">"Only on the departments granted to the person (like a manager)"</label>
                            </div>
                        })}
                    </div>
                </div>
            }
        })
        .collect_view();
    let pending = move || create.pending().get() || update.pending().get();
    view! {
        <form class=format!("{CARD_CLASS} max-w-3xl") on:submit=move |ev| {
            ev.prevent_default();
            let name = draft.name.get_untracked();
            let permissions: Vec<Permission> = draft.permissions.get_untracked().into_iter().collect();
            let results_limited_to_grants = draft.limited.get_untracked();
            match draft.editing.get_untracked() {
                Some(key) => { update.dispatch(UpdateRole { key: key.into(), name, permissions, results_limited_to_grants }); }
                None => { create.dispatch(CreateRole { name, permissions, results_limited_to_grants }); }
            }
        }>
            <h2 class="text-lg font-semibold text-slate-900">
                {move || if draft.editing.get().is_some() { "Edit role" } else { "Define a role" }}
            </h2>
            <div class="mt-3 max-w-md">
                <label for="role-name" class="block text-sm font-medium text-slate-800">"Name"</label>
                <input id="role-name" type="text" maxlength="60" required class=INPUT_CLASS
                    prop:value=move || draft.name.get()
                    on:input=move |ev| draft.name.set(event_target_value(&ev)) />
            </div>
            <fieldset class="mt-4">
                <legend class="text-sm font-medium text-slate-800">"Permissions"</legend>
                <div class="mt-1 divide-y divide-slate-100">{choices}</div>
                <p class="mt-2 text-sm text-slate-600">"Giving roles stays with Owners: no role of your own can include it."</p>
            </fieldset>
            <div class="mt-5 flex flex-col gap-3 sm:flex-row">
                <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=pending>
                    {move || if draft.editing.get().is_some() { "Save role" } else { "Create role" }}
                </button>
                {move || draft.editing.get().is_some().then(|| view! {
                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| draft.clear()>"Cancel"</button>
                })}
            </div>
        </form>
    }
    .into_any()
}

/// Each role in sentences, for readers who prefer them to a table.
fn descriptions(table: &RoleTable) -> AnyView {
    view! {
        <div class=format!("{CARD_CLASS} max-w-3xl")>
            <h2 class="text-lg font-semibold text-slate-900">"What each role can see and do"</h2>
            <dl class="mt-3 space-y-3">
                {table.roles.iter().map(|role| view! {
                    <div>
                        <dt class="font-medium text-slate-900">{role.name.clone()}</dt>
                        <dd>
                            <ul class="list-disc pl-5 text-sm text-slate-700">
                                {role.access.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}
                            </ul>
                        </dd>
                    </div>
                }).collect_view()}
            </dl>
        </div>
    }
    .into_any()
}

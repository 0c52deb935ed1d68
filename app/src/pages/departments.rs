//! The department tree: add, rename, move (a dialog offering only valid new parents) and archive.
//! Everyone signed in may read the tree; changing it needs the `people` permission, which the
//! server checks on every call.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::organisation::{
        departments, ArchiveDepartment, CreateDepartment, DepartmentNode, MoveDepartment, RenameDepartment,
        RestoreDepartment,
    },
    components::form::{
        action_error, ErrorAlert, SignInToContinue, INPUT_CLASS, PRIMARY_BUTTON_CLASS, SECONDARY_BUTTON_CLASS,
    },
    ids::DepartmentId,
};

const SMALL_BUTTON_CLASS: &str = "min-h-11 rounded-md border border-slate-300 bg-white px-3 text-sm font-medium text-slate-800 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-teal-600";

/// Departments by parent (`None` is the top level), each list sorted by name.
fn children_of(nodes: &[DepartmentNode]) -> BTreeMap<Option<DepartmentId>, Vec<DepartmentNode>> {
    let mut children: BTreeMap<Option<DepartmentId>, Vec<DepartmentNode>> = BTreeMap::new();
    for node in nodes {
        children
            .entry(node.parent.clone())
            .or_default()
            .push(node.clone());
    }
    children
}

/// Depth-first order with depths, for the parent choosers.
fn outline(nodes: &[DepartmentNode]) -> Vec<(usize, DepartmentNode)> {
    fn walk(
        parent: Option<DepartmentId>,
        depth: usize,
        children: &BTreeMap<Option<DepartmentId>, Vec<DepartmentNode>>,
        out: &mut Vec<(usize, DepartmentNode)>,
    ) {
        for node in children.get(&parent).into_iter().flatten() {
            out.push((depth, node.clone()));
            walk(Some(node.id.clone()), depth + 1, children, out);
        }
    }
    let children = children_of(nodes);
    let mut out = Vec::new();
    walk(None, 0, &children, &mut out);
    out
}

/// `id` and everything below it: where it cannot move.
fn descendants(nodes: &[DepartmentNode], id: &DepartmentId) -> BTreeSet<DepartmentId> {
    let children = children_of(nodes);
    let mut seen = BTreeSet::new();
    let mut queue = vec![id.clone()];
    while let Some(next) = queue.pop() {
        if seen.insert(next.clone()) {
            queue.extend(
                children
                    .get(&Some(next))
                    .into_iter()
                    .flatten()
                    .map(|n| n.id.clone()),
            );
        }
    }
    seen
}

fn parent_options(
    nodes: &[DepartmentNode],
    exclude: &BTreeSet<DepartmentId>,
    selected: Option<&str>,
) -> impl IntoView {
    let options = outline(nodes)
        .into_iter()
        .filter(|(_, node)| !node.archived && !exclude.contains(&node.id))
        .map(|(depth, node)| {
            let label = format!("{}{}", "— ".repeat(depth), node.name);
            let is_selected = selected == Some(node.id.as_str());
            view! { <option value=node.id selected=is_selected>{label}</option> }
        })
        .collect_view();
    view! {
        <option value="" selected=selected.is_none()>"Top level"</option>
        {options}
    }
}

#[derive(Clone, PartialEq)]
enum Editing {
    Rename(DepartmentNode),
    Move(DepartmentNode),
}

#[component]
pub fn DepartmentsPage() -> impl IntoView {
    let create = ServerAction::<CreateDepartment>::new();
    let rename = ServerAction::<RenameDepartment>::new();
    let move_action = ServerAction::<MoveDepartment>::new();
    let archive = ServerAction::<ArchiveDepartment>::new();
    let restore = ServerAction::<RestoreDepartment>::new();
    let tree = Resource::new(
        move || {
            (
                create.version().get(),
                rename.version().get(),
                move_action.version().get(),
                archive.version().get(),
                restore.version().get(),
            )
        },
        |_| departments(),
    );
    let editing = RwSignal::new(None::<Editing>);
    // The page shows the outcome of the latest change only, not stale errors from earlier ones.
    let latest_error = RwSignal::new(None::<crate::error::ApiError>);
    let track = move |value: Option<Result<(), crate::error::ApiError>>| match value {
        Some(Err(err)) => latest_error.set(Some(err)),
        Some(Ok(())) => latest_error.set(None),
        None => {}
    };
    Effect::new(move |_| track(create.value().get().map(|r| r.map(|_| ()))));
    // Empty the add form once a department is added.
    let add_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            if let Some(form) = add_form.get() {
                form.reset();
            }
        }
    });
    Effect::new(move |_| track(archive.value().get()));
    Effect::new(move |_| track(restore.value().get()));
    // Close the dialog once its change is saved.
    Effect::new(move |_| {
        if matches!(rename.value().get(), Some(Ok(()))) || matches!(move_action.value().get(), Some(Ok(()))) {
            editing.set(None);
        }
    });

    view! {
        <Title text="Departments" />
        <section class="max-w-3xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Departments"</h1>
            <p class="mt-3 text-slate-700">"How your workplace is organised. Managers are granted departments, and a grant covers everything below it; results are grouped the same way."</p>
            <div class="mt-6">
                <ErrorAlert error=latest_error.into() />
            </div>
            <Transition fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tree.await {
                        Ok(tree) => {
                            let nodes = tree.departments.clone();
                            let can_manage = tree.can_manage;
                            view! {
                                {can_manage.then(|| {
                                    let nodes = nodes.clone();
                                    view! {
                                        <ActionForm action=create node_ref=add_form attr:class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                                            <h2 class="text-lg font-semibold text-slate-900">"Add a department"</h2>
                                            <div class="mt-3 grid gap-4 sm:grid-cols-2">
                                                <div>
                                                    <label for="new-name" class="block text-sm font-medium text-slate-800">"Name"</label>
                                                    <input id="new-name" name="name" required maxlength="120" class=INPUT_CLASS />
                                                </div>
                                                <div>
                                                    <label for="new-parent" class="block text-sm font-medium text-slate-800">"Inside"</label>
                                                    <select id="new-parent" name="parent" class=INPUT_CLASS>
                                                        {parent_options(&nodes, &BTreeSet::new(), None)}
                                                    </select>
                                                </div>
                                            </div>
                                            <button type="submit" class=format!("mt-4 {PRIMARY_BUTTON_CLASS}") disabled=move || create.pending().get()>"Add department"</button>
                                        </ActionForm>
                                    }
                                })}
                                {if nodes.is_empty() {
                                    view! { <p class="mt-6 text-slate-700">"No departments yet."</p> }.into_any()
                                } else {
                                    let children = children_of(&nodes);
                                    view! {
                                        <div class="mt-6 rounded-lg border border-slate-200 bg-white p-3 shadow-sm sm:p-5">
                                            {level(None, &children, can_manage, editing, archive, restore, "Department tree")}
                                        </div>
                                    }.into_any()
                                }}
                                <EditDialog editing nodes rename move_action />
                            }.into_any()
                        }
                        Err(err) => view! { <SignInToContinue message=err.message /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// One level of the tree, recursively.
fn level(
    parent: Option<DepartmentId>,
    children: &BTreeMap<Option<DepartmentId>, Vec<DepartmentNode>>,
    can_manage: bool,
    editing: RwSignal<Option<Editing>>,
    archive: ServerAction<ArchiveDepartment>,
    restore: ServerAction<RestoreDepartment>,
    label: &'static str,
) -> AnyView {
    let Some(nodes) = children.get(&parent) else {
        return ().into_any();
    };
    let top = parent.is_none();
    view! {
        <ul aria-label=top.then_some(label) class=if top { "space-y-1" } else { "ml-4 mt-1 space-y-1 border-l border-slate-200 pl-3 sm:ml-6 sm:pl-4" }>
            {nodes.iter().map(|node| {
                let below = level(Some(node.id.clone()), children, can_manage, editing, archive, restore, label);
                let (for_rename, for_move) = (node.clone(), node.clone());
                let name = node.name.clone();
                let people = match node.people {
                    0 => String::new(),
                    1 => "1 person".to_owned(),
                    n => format!("{n} people"),
                };
                view! {
                    <li>
                        <div class="flex flex-col gap-2 rounded-md px-2 py-2 hover:bg-slate-50 sm:flex-row sm:items-center sm:justify-between">
                            <p class="text-slate-900">
                                <span class=if node.archived { "font-medium text-slate-500 line-through" } else { "font-medium" }>{name.clone()}</span>
                                {node.archived.then(|| view! { <span class="ml-2 rounded bg-slate-100 px-2 py-0.5 text-xs font-semibold text-slate-700">"Archived"</span> })}
                                {(!people.is_empty()).then(|| view! { <span class="ml-2 text-sm text-slate-600">{people}</span> })}
                            </p>
                            {can_manage.then(|| {
                                let id = node.id.clone();
                                if node.archived {
                                    view! {
                                        <ActionForm action=restore>
                                            <input type="hidden" name="id" value=id />
                                            <button type="submit" class=SMALL_BUTTON_CLASS aria-label=format!("Restore {name}")>"Restore"</button>
                                        </ActionForm>
                                    }.into_any()
                                } else {
                                    view! {
                                        <div class="flex flex-wrap gap-2">
                                            <button type="button" class=SMALL_BUTTON_CLASS aria-label=format!("Rename {name}")
                                                on:click=move |_| editing.set(Some(Editing::Rename(for_rename.clone())))>"Rename"</button>
                                            <button type="button" class=SMALL_BUTTON_CLASS aria-label=format!("Move {name}")
                                                on:click=move |_| editing.set(Some(Editing::Move(for_move.clone())))>"Move"</button>
                                            <ActionForm action=archive>
                                                <input type="hidden" name="id" value=id />
                                                <button type="submit" class=SMALL_BUTTON_CLASS aria-label=format!("Archive {name}")>"Archive"</button>
                                            </ActionForm>
                                        </div>
                                    }.into_any()
                                }
                            })}
                        </div>
                        {below}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The rename and move dialog, over the page.
#[component]
fn EditDialog(
    editing: RwSignal<Option<Editing>>,
    nodes: Vec<DepartmentNode>,
    rename: ServerAction<RenameDepartment>,
    move_action: ServerAction<MoveDepartment>,
) -> impl IntoView {
    let close = move |_| editing.set(None);
    move || {
        let current = editing.get()?;
        let (title, body) = match current {
            Editing::Rename(node) => (
                format!("Rename {}", node.name),
                view! {
                    <ErrorAlert error=action_error(rename.value()) />
                    <ActionForm action=rename attr:class="space-y-5">
                        <input type="hidden" name="id" value=node.id.clone() />
                        <div>
                            <label for="rename-name" class="block text-sm font-medium text-slate-800">"New name"</label>
                            <input id="rename-name" name="name" required maxlength="120" value=node.name.clone() autofocus class=INPUT_CLASS />
                        </div>
                        <div class="flex flex-col gap-3 sm:flex-row">
                            <button type="submit" class=PRIMARY_BUTTON_CLASS>"Save name"</button>
                            <button type="button" class=SECONDARY_BUTTON_CLASS on:click=close>"Cancel"</button>
                        </div>
                    </ActionForm>
                }
                .into_any(),
            ),
            Editing::Move(node) => {
                let exclude = descendants(&nodes, &node.id);
                let options = parent_options(&nodes, &exclude, node.parent.as_ref().map(DepartmentId::as_str));
                (
                    format!("Move {}", node.name),
                    view! {
                        <p class="mb-4 text-sm text-slate-700">"Its sub-departments move with it. It cannot move under itself or its own sub-departments, so those are not offered."</p>
                        <ErrorAlert error=action_error(move_action.value()) />
                        <ActionForm action=move_action attr:class="space-y-5">
                            <input type="hidden" name="id" value=node.id.clone() />
                            <div>
                                <label for="move-parent" class="block text-sm font-medium text-slate-800">"New place"</label>
                                <select id="move-parent" name="parent" autofocus class=INPUT_CLASS>{options}</select>
                            </div>
                            <div class="flex flex-col gap-3 sm:flex-row">
                                <button type="submit" class=PRIMARY_BUTTON_CLASS>"Move here"</button>
                                <button type="button" class=SECONDARY_BUTTON_CLASS on:click=close>"Cancel"</button>
                            </div>
                        </ActionForm>
                    }
                    .into_any(),
                )
            }
        };
        Some(view! {
            <div class="fixed inset-0 z-40 flex items-end justify-center bg-slate-900/40 p-4 sm:items-center"
                on:keydown=move |ev| if ev.key() == "Escape" { editing.set(None) }>
                <div role="dialog" aria-modal="true" aria-labelledby="edit-title"
                    class="w-full max-w-md rounded-lg bg-white p-6 shadow-xl">
                    <h2 id="edit-title" class="mb-4 text-xl font-semibold text-slate-900">{title}</h2>
                    {body}
                </div>
            </div>
        })
    }
}

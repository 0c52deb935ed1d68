//! Results, for people with the `results` permission: the rounds they may open, and for one
//! round a heatmap of groups × questions (means, server-rendered), eNPS, participation, and the
//! comments — every figure only for groups with enough responses.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::surveys::{result_rounds, round_results, GroupFigures, ResultsView},
    components::form::NotAvailable,
};

const CARD_CLASS: &str = "mt-6 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6";

#[component]
pub fn ResultsListPage() -> impl IntoView {
    let rounds = Resource::new(|| (), |_| result_rounds());
    view! {
        <Title text="Results" />
        <section class="max-w-3xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Results"</h1>
            <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rounds.await {
                        Ok(rounds) if rounds.is_empty() => view! { <p class="mt-4 text-slate-700">"No rounds yet."</p> }.into_any(),
                        Ok(rounds) => view! {
                            <ul class="mt-6 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white shadow-sm" aria-label="Rounds">
                                {rounds.into_iter().map(|r| view! {
                                    <li class="flex flex-wrap items-center justify-between gap-2 p-4">
                                        <div>
                                            <p class="font-semibold text-slate-900">{format!("{} — round {}", r.survey_title, r.number)}</p>
                                            <p class="text-sm text-slate-700">{format!("{}{}", if r.open { "Open" } else { "Closed" }, r.counts.map(|(asked, answered)| format!(" · {answered} of {asked} answered")).unwrap_or_default())}</p>
                                        </div>
                                        <a href=format!("/results/{}", r.id) class="font-medium text-teal-800 underline">{format!("Results of {} round {}", r.survey_title, r.number)}</a>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <NotAvailable message=err.message /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn RoundResultsPage() -> impl IntoView {
    let params = use_params_map();
    let results = Resource::new(
        move || params.read().get("round").unwrap_or_default(),
        round_results,
    );
    view! {
        <Title text="Results" />
        <section>
            <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(view) => results_view(view),
                        Err(err) => view! { <NotAvailable message=err.message /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A heatmap cell's colour for a mean on 1–5: red below 3, teal above, stronger further out.
fn cell_class(mean: f64) -> &'static str {
    match mean {
        m if m >= 4.0 => "bg-teal-700 text-white",
        m if m >= 3.5 => "bg-teal-100 text-teal-950",
        m if m >= 3.0 => "bg-slate-100 text-slate-900",
        m if m >= 2.5 => "bg-amber-100 text-amber-950",
        _ => "bg-red-700 text-white",
    }
}

fn results_view(view: ResultsView) -> AnyView {
    let prompts: Vec<(String, String)> = view
        .groups
        .iter()
        .find(|g| !g.questions.is_empty())
        .map(|g| {
            g.questions
                .iter()
                .map(|q| (q.prompt.clone(), q.kind.clone()))
                .collect()
        })
        .unwrap_or_default();
    let minimum = view.minimum;
    view! {
        <h1 class="text-3xl font-bold tracking-tight text-slate-900">{format!("{} — round {}", view.title, view.round_number)}</h1>
        <p class="mt-1 text-slate-700">{format!("{} to {}", view.opens, view.closes)}</p>
        <p class="mt-2 max-w-3xl text-sm text-slate-700">{format!("Figures appear only for groups where at least {minimum} people answered, and a group is also hidden when its figure would let a smaller one be worked out. Scale questions run from 1 to 5.")}</p>
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"By team"</h2>
            <div class="mt-3 overflow-x-auto" tabindex="0" role="region" aria-label="Results by team">
                <table class="min-w-full border-separate border-spacing-1 text-sm">
                    <caption class="sr-only">"Mean answer per team and question"</caption>
                    <thead>
                        <tr>
                            <th scope="col" class="px-2 py-1 text-left font-semibold text-slate-800">"Team"</th>
                            <th scope="col" class="px-2 py-1 text-left font-semibold text-slate-800">"Answered"</th>
                            {prompts.iter().map(|(prompt, kind)| view! {
                                <th scope="col" class="max-w-40 px-2 py-1 text-left align-bottom font-semibold text-slate-800">
                                    {prompt.clone()}{(kind == "enps").then_some(" (eNPS)")}
                                </th>
                            }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {view.groups.iter().map(|g| group_row(g, prompts.len())).collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
        {distribution_charts(&view)}
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Comments"</h2>
            {if view.comments.is_empty() {
                view! { <p class="mt-2 text-slate-700">"No comments to show."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-3 space-y-3" aria-label="Comments">
                        {view.comments.into_iter().map(|(question, text)| view! {
                            <li class="rounded-md border border-slate-200 p-3">
                                <p class="text-xs font-medium uppercase tracking-wide text-slate-600">{question}</p>
                                <p class="mt-1 whitespace-pre-line text-slate-900">{text}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
    .into_any()
}

fn group_row(group: &GroupFigures, columns: usize) -> AnyView {
    let indent = format!("padding-left: {}rem", 0.5 + group.depth as f64);
    let name = group.name.clone();
    match group.respondents {
        None => view! {
            <tr>
                <th scope="row" class="px-2 py-2 text-left font-medium text-slate-900" style=indent>{name}</th>
                <td colspan=columns + 1 class="rounded bg-slate-50 px-2 py-2 italic text-slate-700">"Not enough responses"</td>
            </tr>
        }
        .into_any(),
        Some(respondents) => view! {
            <tr>
                <th scope="row" class="px-2 py-2 text-left font-medium text-slate-900" style=indent>{name}</th>
                <td class="px-2 py-2 text-slate-800">{format!("{respondents} of {}", group.asked.unwrap_or(respondents))}</td>
                {group.questions.iter().map(|q| match (q.enps, q.mean) {
                    (Some(enps), _) => view! { <td class="rounded px-2 py-2 text-center font-semibold text-slate-900">{format!("{enps:+}")}</td> }.into_any(),
                    (None, Some(mean)) => view! { <td class=format!("rounded px-2 py-2 text-center font-semibold {}", cell_class(mean))>{format!("{mean:.1}")}</td> }.into_any(),
                    _ => view! { <td class="px-2 py-2 text-center text-slate-600">"—"</td> }.into_any(),
                }).collect_view()}
            </tr>
        }
        .into_any(),
    }
}

/// Server-rendered bar charts of the answer distribution for the widest group shown.
fn distribution_charts(view: &ResultsView) -> AnyView {
    let Some(group) = view.groups.iter().find(|g| g.respondents.is_some()) else {
        return ().into_any();
    };
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">{format!("How people answered — {}", group.name)}</h2>
            <div class="mt-3 grid gap-6 md:grid-cols-2">
                {group.questions.iter().map(|q| {
                    let most = q.distribution.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
                    let bars = q.distribution.len().max(1);
                    let width = 300.0_f64;
                    let slot = width / bars as f64;
                    let summary = q.distribution.iter().map(|(label, n)| format!("{label}: {n}")).collect::<Vec<_>>().join(", ");
                    view! {
                        <figure>
                            <figcaption class="text-sm font-medium text-slate-800">{q.prompt.clone()}</figcaption>
                            <svg viewBox="0 0 300 130" class="mt-2 w-full" role="img" aria-label=format!("{}: {summary}", q.prompt)>
                                {q.distribution.iter().enumerate().map(|(i, (label, n))| {
                                    let height = 100.0 * f64::from(*n) / f64::from(most);
                                    let x = i as f64 * slot;
                                    view! {
                                        <g>
                                            <title>{format!("{label}: {n}")}</title>
                                            <rect x=format!("{:.1}", x + slot * 0.15) y=format!("{:.1}", 105.0 - height) width=format!("{:.1}", slot * 0.7) height=format!("{height:.1}") rx="2" class="fill-teal-700" />
                                            <text x=format!("{:.1}", x + slot / 2.0) y="122" text-anchor="middle" class="fill-slate-700 text-[10px]">{label.clone()}</text>
                                        </g>
                                    }
                                }).collect_view()}
                            </svg>
                        </figure>
                    }
                }).collect_view()}
            </div>
        </div>
    }
    .into_any()
}

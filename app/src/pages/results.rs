//! Results, for people with the `results` permission: the rounds they may open, and for one
//! closed round a heatmap of groups × questions (means, server-rendered), eNPS, participation,
//! the trend over recent rounds, the comments with filters and a CSV download — every figure
//! only for groups with enough responses. A round still open shows participation only.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Form,
    hooks::{use_params_map, use_query_map},
};

use crate::{
    api::surveys::{
        export_results, result_rounds, round_comments, round_results, round_trend, CommentFilter,
        CommentItem, CommentsPage, GroupFigures, MessageView, ReplyToComment, ResultsView, TrendView,
    },
    components::{
        conversation::MessageForm,
        form::{ErrorAlert, NotAvailable, INPUT_CLASS, SECONDARY_BUTTON_CLASS},
    },
};

use crate::components::form::CARD_CLASS;
use crate::{ids::RoundId, model::QuestionType};

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
                                            <p class="text-sm text-slate-700">{format!("{}{}", if r.open { "Open" } else { "Closed" }, r.participation.as_ref().map(|p| format!(" · {p}")).unwrap_or_default())}</p>
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
        move || RoundId::from(params.read().get("round").unwrap_or_default()),
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

/// Left padding for a team at `depth` in the tree, as a class: the page's policy refuses inline
/// styles.
fn indent_class(depth: usize) -> &'static str {
    match depth {
        0 => "pl-2",
        1 => "pl-6",
        2 => "pl-10",
        3 => "pl-14",
        _ => "pl-16",
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
    let Some(released_on) = view.released_on.clone() else {
        return open_round_view(view);
    };
    let prompts: Vec<(String, QuestionType)> = view
        .groups
        .iter()
        .chain(view.tenure.iter().flat_map(|team| &team.bands))
        .find(|g| !g.questions.is_empty())
        .map(|g| g.questions.iter().map(|q| (q.prompt.clone(), q.kind)).collect())
        .unwrap_or_default();
    let minimum = view.minimum;
    let round = view.round.clone();
    view! {
        <div class="flex flex-wrap items-start justify-between gap-3">
            <div>
                <h1 class="text-3xl font-bold tracking-tight text-slate-900">{format!("{} — round {}", view.title, view.round_number)}</h1>
                <p class="mt-1 text-slate-700">{format!("{} to {}", view.opens, view.closes)}</p>
            </div>
            <CsvDownload round=round.clone() file_name=format!("results-round-{}.csv", view.round_number) />
        </div>
        <p class="mt-2 max-w-3xl text-sm text-slate-700">{format!("Released when the round closed ({released_on}), on the teams and the minimum group size of that moment ({minimum}); they never change afterwards. A team shows “Not enough responses” when fewer than {minimum} answered, or when its figure would let a smaller group be worked out from the others. Scale questions run from 1 to 5.")}</p>
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"By team"</h2>
            <div class="mt-3 overflow-x-auto" tabindex="0" role="region" aria-label="Results by team">
                <table class="min-w-full border-separate border-spacing-1 text-sm">
                    <caption class="sr-only">"Mean answer per team and question"</caption>
                    {figures_header("Team", &prompts)}
                    <tbody>
                        {view.groups.iter().map(|g| group_row(g, prompts.len())).collect_view()}
                        {benchmark_row(&view, &prompts)}
                    </tbody>
                </table>
            </div>
        </div>
        {tenure_card(&view, &prompts)}
        {distribution_charts(&view)}
        <TrendCard round=round />
        <Comments round=view.round.clone() />
    }
    .into_any()
}

/// A round still open: when its results appear, and who has answered so far, in steps.
fn open_round_view(view: ResultsView) -> AnyView {
    let minimum = view.minimum;
    let some_hidden = view.groups.iter().any(|g| g.progress.is_none());
    view! {
        <div>
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">{format!("{} — round {}", view.title, view.round_number)}</h1>
            <p class="mt-1 text-slate-700">{format!("{} to {} · still open", view.opens, view.closes)}</p>
        </div>
        <div class=CARD_CLASS role="status">
            <h2 class="text-lg font-semibold text-slate-900">"Results appear when this round closes"</h2>
            <p class="mt-2 max-w-3xl text-slate-700">{format!("They are released once, on {}. Until then you see how many have answered, in steps of {minimum}: figures that moved with every answer would tell anyone who looks twice what the latest person answered.", view.closes)}</p>
        </div>
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Answered so far"</h2>
            <div class="mt-3 overflow-x-auto" tabindex="0" role="region" aria-label="Participation by team">
                <table class="min-w-full border-separate border-spacing-1 text-sm">
                    <caption class="sr-only">"How many have answered so far, per team"</caption>
                    <thead>
                        <tr>
                            <th scope="col" class="px-2 py-1 text-left font-semibold text-slate-800">"Team"</th>
                            <th scope="col" class="px-2 py-1 text-left font-semibold text-slate-800">"Asked"</th>
                            <th scope="col" class="px-2 py-1 text-left font-semibold text-slate-800">"Answered"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {view.groups.iter().map(|g| {
                            let indent = indent_class(g.depth);
                            view! {
                                <tr>
                                    <th scope="row" class=format!("pr-2 py-2 text-left font-medium text-slate-900 {indent}")>{g.name.clone()}</th>
                                    <td class="px-2 py-2 text-slate-800">{match (&g.progress, g.asked) {
                                        (None, _) => "—".to_owned(),
                                        (Some(_), Some(n)) => n.to_string(),
                                        (Some(_), None) => format!("fewer than {minimum}"),
                                    }}</td>
                                    <td class="px-2 py-2 text-slate-800">{g.progress.clone().unwrap_or_else(|| "Not shown".to_owned())}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {some_hidden.then(|| view! {
                <p class="mt-3 max-w-3xl text-sm text-slate-700">"“Not shown”: that team's count, set against another team's, would tell whether a few named people have answered."</p>
            })}
        </div>
    }
    .into_any()
}

/// Downloads the round's figures as CSV (the server records the export).
#[component]
fn CsvDownload(round: RoundId, file_name: String) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let download = move |_| {
        let round = round.clone();
        let file_name = file_name.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let saved = match export_results(round).await {
                Ok(csv) => crate::files::save_text_file(&file_name, "text/csv;charset=utf-8", &csv),
                Err(err) => Err(err.message),
            };
            error.set(saved.err());
            busy.set(false);
        });
    };
    view! {
        <div class="w-full sm:w-auto">
            <button type="button" class=SECONDARY_BUTTON_CLASS on:click=download disabled=move || busy.get()>"Download CSV"</button>
            {move || error.get().map(|message| view! { <p role="alert" class="mt-2 text-sm text-red-800">{message}</p> })}
        </div>
    }
}

/// The comments, a page at a time, narrowed by question and team through the page's address:
/// a plain form and plain links, so they work before the script has loaded too.
#[component]
fn Comments(round: RoundId) -> impl IntoView {
    let query = use_query_map();
    let wanted = move || {
        query.with(|q| {
            (
                q.get("question").unwrap_or_default(),
                q.get("team").unwrap_or_default(),
                q.get("page").and_then(|p| p.parse::<u64>().ok()).unwrap_or(1),
            )
        })
    };
    let path = format!("/results/{round}");
    let page = Resource::new(
        move || (round.clone(), wanted()),
        |(round, (question, team, page))| {
            round_comments(round, Some(question.into()), Some(team), Some(page))
        },
    );
    view! {
        <div class=CARD_CLASS id="comments">
            <h2 class="text-lg font-semibold text-slate-900">"Comments"</h2>
            <Transition fallback=|| view! { <p class="mt-2 text-slate-600">"Loading comments…"</p> }>
                {move || {
                    let path = path.clone();
                    Suspend::new(async move {
                        match page.await {
                            Ok(found) => comments_page(&path, found),
                            Err(err) => view! { <NotAvailable message=err.message /> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </div>
    }
}

/// A link to one page of the comments under the current filters.
fn comments_href(path: &str, found: &CommentsPage, page: u64) -> String {
    format!(
        "{path}?question={}&team={}&page={page}#comments",
        found.question, found.team
    )
}

fn comments_page(path: &str, found: CommentsPage) -> AnyView {
    let total: u64 = found.teams.iter().map(|t| t.comments).sum();
    if total == 0 {
        return view! { <p class="mt-2 text-slate-700">"No comments to show."</p> }.into_any();
    }
    // A filter the lists do not offer (a crafted link) shows as "all", above an empty list.
    let offered = |choices: &[CommentFilter], current: &str| choices.iter().any(|c| c.value == current);
    let (any_question, any_team) = (
        !offered(&found.questions, &found.question),
        !offered(&found.teams, &found.team),
    );
    let option = |choice: &CommentFilter, current: &str| {
        view! {
            <option value=choice.value.clone() selected=choice.value == current>
                {format!("{} ({})", choice.label, choice.comments)}
            </option>
        }
    };
    let first = (found.page - 1) * found.per_page + 1;
    let last = (first + found.items.len() as u64).saturating_sub(1);
    let shown = if found.items.is_empty() {
        "No comments match these filters.".to_owned()
    } else {
        format!(
            "Comments {first}–{last} of {} · page {} of {}",
            found.matching, found.page, found.pages
        )
    };
    let previous = (found.page > 1).then(|| comments_href(path, &found, found.page - 1));
    let next = (found.page < found.pages).then(|| comments_href(path, &found, found.page + 1));
    view! {
        <Form method="GET" action=path.to_owned() noscroll=true>
            <div class="mt-3 grid items-end gap-3 sm:grid-cols-[1fr_1fr_auto]">
                <div>
                    <label for="comment-question" class="block text-sm font-medium text-slate-800">"Comments on"</label>
                    <select id="comment-question" name="question" class=INPUT_CLASS>
                        <option value="" selected=any_question>{format!("All questions ({total})")}</option>
                        {found.questions.iter().map(|q| option(q, &found.question)).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="comment-team" class="block text-sm font-medium text-slate-800">"Comments from"</label>
                    <select id="comment-team" name="team" class=INPUT_CLASS>
                        <option value="" selected=any_team>{format!("All teams ({total})")}</option>
                        {found.teams.iter().map(|t| option(t, &found.team)).collect_view()}
                    </select>
                </div>
                <button type="submit" class=SECONDARY_BUTTON_CLASS>"Show comments"</button>
            </div>
        </Form>
        <p class="mt-3 text-sm text-slate-700" role="status">{shown}</p>
        <ul class="mt-2 space-y-3" aria-label="Comments">
            {found.items.into_iter().map(|c| view! { <CommentCard comment=c /> }).collect_view()}
        </ul>
        {(previous.is_some() || next.is_some()).then(|| view! {
            <nav class="mt-4 flex flex-wrap justify-between gap-3" aria-label="Comment pages">
                {match previous {
                    Some(href) => view! { <a href=href class="font-medium text-teal-800 underline">"Previous comments"</a> }.into_any(),
                    None => view! { <span></span> }.into_any(),
                }}
                {next.map(|href| view! { <a href=href class="font-medium text-teal-800 underline">"More comments"</a> })}
            </nav>
        })}
    }
    .into_any()
}

/// One comment with its anonymous conversation and a reply form.
#[component]
fn CommentCard(comment: CommentItem) -> impl IntoView {
    let reply = ServerAction::<ReplyToComment>::new();
    let replies = RwSignal::new(comment.replies.clone());
    let text = RwSignal::new(String::new());
    let input_id = format!("reply-{}", comment.id);
    let id = comment.id.clone();
    // A reply the server took joins the conversation at once.
    Effect::new(move |_| {
        if let Some(Ok(())) = reply.value().get() {
            let sent = text.get_untracked();
            replies.update(|list| {
                list.push(MessageView {
                    from_author: false,
                    text: sent.trim().to_owned(),
                    day: "Today".into(),
                })
            });
            text.set(String::new());
        }
    });
    let send = Callback::new(move |()| {
        reply.dispatch(ReplyToComment {
            comment: id.clone(),
            text: text.get_untracked(),
        });
    });
    view! {
        <li class="rounded-md border border-slate-200 p-3">
            <p class="text-xs font-medium uppercase tracking-wide text-slate-600">{format!("{} · {}", comment.question, comment.team)}</p>
            <p class="mt-1 whitespace-pre-line text-slate-900">{comment.text.clone()}</p>
            {move || (!replies.get().is_empty()).then(|| crate::components::conversation::conversation(replies.get()))}
            // Folded until wanted: a page of twenty comments stays a list to read, not twenty forms.
            {comment.can_reply.then(|| view! {
                <details class="mt-2">
                    <summary class="cursor-pointer text-sm font-medium text-teal-800">"Reply to the author"</summary>
                    <div class="mt-2">
                        <ErrorAlert error=Signal::derive(move || reply.value().get().and_then(Result::err)) />
                        <MessageForm id=input_id.clone() label="Reply to the author (they stay anonymous)" button="Send reply" text=text
                            pending=reply.pending().into() on_send=send />
                    </div>
                </details>
            })}
        </li>
    }
}

/// The trend over the survey's recent rounds for one team at a time, loaded after the figures.
#[component]
fn TrendCard(round: RoundId) -> impl IntoView {
    let trend = Resource::new(move || round.clone(), round_trend);
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"Trend"</h2>
            <Suspense fallback=|| view! { <p class="mt-2 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match trend.await {
                        Ok(trend) if trend.rounds.len() < 2 || trend.questions.is_empty() => view! {
                            <p class="mt-2 text-slate-700">"The trend appears from the second round on."</p>
                        }.into_any(),
                        Ok(trend) => trend_charts(trend),
                        Err(err) => view! { <p role="alert" class="mt-2 text-slate-700">{err.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

fn trend_charts(trend: TrendView) -> AnyView {
    let picked = RwSignal::new(0_usize);
    let names: Vec<String> = trend
        .groups
        .iter()
        .map(|g| format!("{}{}", "\u{a0}\u{a0}".repeat(g.depth.saturating_sub(1)), g.name))
        .collect();
    let trend = StoredValue::new(trend);
    view! {
        <p class="mt-1 text-sm text-slate-700">"Each round as its own page shows it: a gap where too few answered."</p>
        <div class="mt-3 max-w-sm">
            <label for="trend-team" class="block text-sm font-medium text-slate-800">"Team to chart"</label>
            <select id="trend-team" class=INPUT_CLASS on:change=move |ev| picked.set(event_target_value(&ev).parse().unwrap_or(0))>
                {names.into_iter().enumerate().map(|(i, name)| view! { <option value=i.to_string()>{name}</option> }).collect_view()}
            </select>
        </div>
        <div class="mt-4 grid gap-6 md:grid-cols-2">
            {move || trend.with_value(|trend| {
                let Some(group) = trend.groups.get(picked.get()) else { return ().into_any() };
                trend.questions.iter().zip(&group.points).map(|((prompt, kind), points)| {
                    line_chart(prompt, *kind == QuestionType::Enps, &trend.rounds, points)
                }).collect_view().into_any()
            })}
        </div>
    }
    .into_any()
}

/// A server-rendered line chart of one question over rounds; each point has a tooltip, and the
/// figure's label lists every value for screen readers.
fn line_chart(prompt: &str, enps: bool, rounds: &[i32], points: &[Option<f64>]) -> AnyView {
    let (low, high) = if enps { (-100.0, 100.0) } else { (1.0, 5.0) };
    let (left, right, top, bottom) = (34.0, 290.0, 10.0, 110.0);
    let step = (right - left) / (rounds.len().max(2) - 1) as f64;
    let x = |i: usize| left + step * i as f64;
    let y = |v: f64| bottom - (v - low) / (high - low) * (bottom - top);
    let format_value = |v: f64| match (enps, v.round() == 0.0) {
        (true, true) => "0".to_owned(),
        (true, false) => format!("{v:+.0}"),
        (false, _) => format!("{v:.1}"),
    };
    // Lines join consecutive rounds that both have a figure.
    let mut segments = Vec::new();
    for i in 1..points.len() {
        if let (Some(a), Some(b)) = (points[i - 1], points[i]) {
            segments.push((x(i - 1), y(a), x(i), y(b)));
        }
    }
    let summary = rounds
        .iter()
        .zip(points)
        .map(|(round, point)| {
            format!(
                "round {round}: {}",
                point
                    .map(format_value)
                    .unwrap_or_else(|| "not enough responses".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let ticks = if enps {
        vec![-100.0, 0.0, 100.0]
    } else {
        vec![1.0, 3.0, 5.0]
    };
    view! {
        <figure>
            <figcaption class="text-sm font-medium text-slate-800">{format!("{prompt}{}", if enps { " (eNPS)" } else { "" })}</figcaption>
            <svg viewBox="0 0 300 135" class="mt-2 w-full" role="img" aria-label=format!("{prompt}: {summary}")>
                {ticks.into_iter().map(|t| view! {
                    <g>
                        <line x1=left.to_string() x2=right.to_string() y1=format!("{:.1}", y(t)) y2=format!("{:.1}", y(t)) class="stroke-slate-200" stroke-width="1" />
                        <text x="28" y=format!("{:.1}", y(t) + 3.0) text-anchor="end" class="fill-slate-600 text-[9px]">{format_value(t)}</text>
                    </g>
                }).collect_view()}
                {segments.into_iter().map(|(x1, y1, x2, y2)| view! {
                    <line x1=format!("{x1:.1}") y1=format!("{y1:.1}") x2=format!("{x2:.1}") y2=format!("{y2:.1}") class="stroke-teal-700" stroke-width="2" />
                }).collect_view()}
                {rounds.iter().zip(points).enumerate().map(|(i, (round, point))| view! {
                    <g>
                        {point.map(|v| view! {
                            <circle cx=format!("{:.1}", x(i)) cy=format!("{:.1}", y(v)) r="4" class="fill-teal-700">
                                <title>{format!("Round {round}: {}", format_value(v))}</title>
                            </circle>
                        })}
                        <text x=format!("{:.1}", x(i)) y="128" text-anchor="middle" class="fill-slate-700 text-[9px]">{round.to_string()}</text>
                    </g>
                }).collect_view()}
            </svg>
        </figure>
    }
    .into_any()
}

/// The platform figure beside the workplace's own, for built-in questions.
fn benchmark_row(view: &ResultsView, prompts: &[(String, QuestionType)]) -> AnyView {
    if view.benchmarks.is_empty() {
        return ().into_any();
    }
    let most = view.benchmarks.iter().map(|(_, _, n)| *n).max().unwrap_or(0);
    view! {
        <tr class="border-t border-slate-200">
            <th scope="row" class="px-2 py-2 text-left font-medium italic text-slate-800">"Candor benchmark"</th>
            <td class="px-2 py-2 text-sm text-slate-700">{format!("about {most} workplaces, with noise")}</td>
            {prompts.iter().map(|(prompt, kind)| {
                match view.benchmarks.iter().find(|(p, _, _)| p == prompt) {
                    Some((_, value, n)) => {
                        let text = if *kind == QuestionType::Enps { format!("{value:+.0}") } else { format!("{value:.1}") };
                        view! { <td class="rounded border border-dashed border-slate-300 px-2 py-2 text-center font-semibold text-slate-800" title=format!("Average of about {n} workplaces, published with differential-privacy noise")>{text}</td> }.into_any()
                    }
                    None => view! { <td class="px-2 py-2 text-center text-slate-600">"—"</td> }.into_any(),
                }
            }).collect_view()}
        </tr>
    }
    .into_any()
}

/// The whole workplace and each team by time here, released through the same guard as the
/// teams: one table, a heading row per team, its bands under it.
fn tenure_card(view: &ResultsView, prompts: &[(String, QuestionType)]) -> AnyView {
    if view.tenure.is_empty() {
        return ().into_any();
    }
    let columns = prompts.len() + 2;
    view! {
        <div class=CARD_CLASS>
            <h2 class="text-lg font-semibold text-slate-900">"By time at the workplace"</h2>
            <p class="mt-1 max-w-3xl text-sm text-slate-700">"Each team in the tenure bands set when the round closed. A band is hidden when it, set against a team or another band, would single out fewer people than the minimum."</p>
            <div class="mt-3 overflow-x-auto" tabindex="0" role="region" aria-label="Results by time at the workplace">
                <table class="min-w-full border-separate border-spacing-1 text-sm">
                    <caption class="sr-only">"Mean answer per team, tenure band and question"</caption>
                    {figures_header("Time here", prompts)}
                    {view.tenure.iter().map(|team| view! {
                        <tbody aria-label=team.team.clone()>
                            <tr>
                                <th scope="rowgroup" colspan=columns class="pt-3 pb-1 text-left font-semibold text-slate-900">{team.team.clone()}</th>
                            </tr>
                            {team.bands.iter().map(|band| group_row(band, prompts.len())).collect_view()}
                        </tbody>
                    }).collect_view()}
                </table>
            </div>
        </div>
    }
    .into_any()
}

/// The head of a figures table: the row label, "Answered", then one column per question.
fn figures_header(first: &'static str, prompts: &[(String, QuestionType)]) -> impl IntoView {
    view! {
        <thead>
            <tr>
                <th scope="col" class="px-2 py-1 text-left font-semibold text-slate-800">{first}</th>
                <th scope="col" class="px-2 py-1 text-left font-semibold text-slate-800">"Answered"</th>
                {prompts.iter().map(|(prompt, kind)| view! {
                    <th scope="col" class="max-w-40 px-2 py-1 text-left align-bottom font-semibold text-slate-800">
                        {prompt.clone()}{(*kind == QuestionType::Enps).then_some(" (eNPS)")}
                    </th>
                }).collect_view()}
            </tr>
        </thead>
    }
}

fn group_row(group: &GroupFigures, columns: usize) -> AnyView {
    let indent = indent_class(group.depth);
    let name = group.name.clone();
    match group.respondents {
        None => view! {
            <tr>
                <th scope="row" class=format!("pr-2 py-2 text-left font-medium text-slate-900 {indent}")>{name}</th>
                <td colspan=columns + 1 class="rounded bg-slate-50 px-2 py-2 italic text-slate-700">"Not enough responses"</td>
            </tr>
        }
        .into_any(),
        Some(respondents) => view! {
            <tr>
                <th scope="row" class=format!("pr-2 py-2 text-left font-medium text-slate-900 {indent}")>{name}</th>
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

//! Surveys, for people with the `surveys` permission: every pulse with its schedule, audience
//! and rounds, pause/resume/close, reminders for open rounds, and a form to start a new one
//! from the question library and questions of the workplace's own.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::surveys::{
        surveys_page, CloseRound, CreateSurvey, CustomQuestion, RemindRound, SetSurveyStatus, SurveySummary,
        SurveysOverview,
    },
    components::form::{ErrorAlert, NotAvailable, INPUT_CLASS, PRIMARY_BUTTON_CLASS, SECONDARY_BUTTON_CLASS},
};

use crate::components::form::CARD_CLASS;
use crate::model::{Cadence, QuestionType};

#[component]
pub fn SurveysPage() -> impl IntoView {
    let create = ServerAction::<CreateSurvey>::new();
    let set_status = ServerAction::<SetSurveyStatus>::new();
    let remind = ServerAction::<RemindRound>::new();
    let close_round = ServerAction::<CloseRound>::new();
    let overview = Resource::new(
        move || {
            (
                create.version().get(),
                set_status.version().get(),
                close_round.version().get(),
            )
        },
        |_| surveys_page(),
    );
    view! {
        <Title text="Surveys" />
        <section>
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Surveys"</h1>
            <p class="mt-2 max-w-3xl text-slate-700">"Short, recurring check-ins. Everyone asked gets an email when a round opens; results appear per team when the round closes, for teams where enough people answered."</p>
            <Transition fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => view! {
                            {survey_list(&overview, set_status, remind, close_round)}
                            {new_survey_form(&overview, create)}
                        }.into_any(),
                        Err(err) => view! { <NotAvailable message=err.message /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn survey_list(
    overview: &SurveysOverview,
    set_status: ServerAction<SetSurveyStatus>,
    remind: ServerAction<RemindRound>,
    close_round: ServerAction<CloseRound>,
) -> AnyView {
    if overview.surveys.is_empty() {
        return view! { <p class="mt-6 text-slate-700">"No surveys yet. Start one below."</p> }.into_any();
    }
    view! {
        <ErrorAlert error=Signal::derive(move || set_status.value().get().and_then(Result::err)) />
        <ErrorAlert error=Signal::derive(move || remind.value().get().and_then(Result::err)) />
        <ErrorAlert error=Signal::derive(move || close_round.value().get().and_then(Result::err)) />
        {move || close_round.value().get().and_then(Result::ok).map(|()| view! {
            <p role="status" class="mt-4 rounded-md border border-teal-200 bg-teal-50 px-4 py-3 text-sm font-medium text-teal-900">
                "Round closed: its results are released."
            </p>
        })}
        {move || remind.value().get().and_then(Result::ok).map(|()| view! {
            <p role="status" class="mt-4 rounded-md border border-teal-200 bg-teal-50 px-4 py-3 text-sm font-medium text-teal-900">
                "Reminder emailed to everyone asked who has not answered yet."
            </p>
        })}
        <ul class="mt-6 space-y-4" aria-label="Surveys">
            {overview.surveys.iter().map(|s| survey_card(s, set_status, remind, close_round)).collect_view()}
        </ul>
    }
    .into_any()
}

fn survey_card(
    survey: &SurveySummary,
    set_status: ServerAction<SetSurveyStatus>,
    remind: ServerAction<RemindRound>,
    close_round: ServerAction<CloseRound>,
) -> AnyView {
    let actions = survey.status.next_steps();
    let id = survey.id.clone();
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h2 class="text-lg font-semibold text-slate-900">{survey.title.clone()}</h2>
                <span class="rounded-full bg-slate-100 px-2.5 py-0.5 text-sm font-medium text-slate-800">{survey.status.label()}</span>
            </div>
            <p class="mt-1 text-sm text-slate-700">{format!("{} · {} · {} questions", survey.schedule, survey.audience, survey.questions.len())}</p>
            {survey.next_round.clone().map(|next| view! { <p class="mt-1 text-sm text-slate-700">{format!("Next round: {next}")}</p> })}
            {(!survey.rounds.is_empty()).then(|| view! {
                <ul class="mt-3 divide-y divide-slate-100 border-t border-slate-100" aria-label=format!("Rounds of {}", survey.title)>
                    {survey.rounds.iter().map(|r| view! {
                        <li class="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                            <span class="text-slate-800">{format!("Round {} · {}{}", r.number, if r.open { "open" } else { "closed" }, r.participation.as_ref().map(|p| format!(" · {p}")).unwrap_or_default())}</span>
                            <span class="flex flex-wrap items-center gap-3">
                                {r.open.then(|| {
                                    let round = r.id.clone();
                                    let closing = r.id.clone();
                                    view! {
                                        <button type="button" class="min-h-11 rounded-md border border-slate-300 px-3 font-medium text-slate-800 hover:bg-slate-100 disabled:opacity-60"
                                            disabled=move || remind.pending().get()
                                            on:click=move |_| { remind.dispatch(RemindRound { round: round.clone() }); }>
                                            {format!("Remind round {}", r.number)}
                                        </button>
                                        <button type="button" class="min-h-11 rounded-md border border-slate-300 px-3 font-medium text-slate-800 hover:bg-slate-100 disabled:opacity-60"
                                            disabled=move || close_round.pending().get()
                                            on:click=move |_| { close_round.dispatch(CloseRound { round: closing.clone() }); }>
                                            {format!("Close round {} now", r.number)}
                                        </button>
                                    }
                                })}
                                <a href=format!("/results/{}", r.id) class="font-medium text-teal-800 underline">{format!("Results of round {}", r.number)}</a>
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <div class="mt-3 flex flex-wrap gap-2">
                {actions.iter().map(|&(status, label)| {
                    let id = id.clone();
                    view! {
                        <button type="button" class=SECONDARY_BUTTON_CLASS
                            on:click=move |_| { set_status.dispatch(SetSurveyStatus { id: id.clone(), status }); }>
                            {label}
                        </button>
                    }
                }).collect_view()}
            </div>
        </li>
    }
    .into_any()
}

fn new_survey_form(overview: &SurveysOverview, create: ServerAction<CreateSurvey>) -> AnyView {
    let title = RwSignal::new(String::new());
    let picked = RwSignal::new(BTreeSet::<String>::new());
    let audience = RwSignal::new(BTreeSet::<String>::new());
    let cadence = RwSignal::new(Cadence::Weekly);
    let start = RwSignal::new(String::new());
    let window = RwSignal::new("3".to_owned());
    let custom = RwSignal::new(Vec::<CustomQuestion>::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateSurvey {
            title: title.get_untracked(),
            questions: picked.get_untracked().into_iter().collect(),
            custom: custom.get_untracked(),
            departments: audience.get_untracked().into_iter().collect(),
            cadence: cadence.get_untracked(),
            start: start.get_untracked(),
            window_days: window.get_untracked().trim().parse().unwrap_or(0),
        });
    };
    let created = move || matches!(create.value().get(), Some(Ok(_)));
    let library = overview.library.clone();
    let departments = overview.departments.clone();
    view! {
        <form class=CARD_CLASS on:submit=on_submit novalidate aria-labelledby="new-survey">
            <h2 id="new-survey" class="text-lg font-semibold text-slate-900">"Start a survey"</h2>
            <ErrorAlert error=Signal::derive(move || create.value().get().and_then(Result::err)) />
            {move || created().then(|| view! { <p role="status" class="mt-2 text-sm font-medium text-teal-800">"Survey created. Its first round opens at the start you chose."</p> })}
            <div class="mt-4">
                <label for="survey-title" class="block text-sm font-medium text-slate-800">"Title"</label>
                <input id="survey-title" type="text" maxlength="120" class=INPUT_CLASS
                    prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
            </div>
            <fieldset class="mt-5">
                <legend class="text-sm font-medium text-slate-800">"Questions"</legend>
                <div class="mt-2 grid gap-2 sm:grid-cols-2">
                    {library.into_iter().map(|q| {
                        let input_id = format!("question-{}", q.key);
                        let key = q.key.clone();
                        view! {
                            <div class="flex min-h-11 items-start gap-3 rounded-md border border-slate-200 p-3">
                                <input type="checkbox" id=input_id.clone() class="mt-0.5 h-5 w-5 shrink-0 accent-teal-700"
                                    on:change=move |ev| { let on = event_target_checked(&ev); let key = key.clone(); picked.update(|set| { if on { set.insert(key); } else { set.remove(&key); } }); } />
                                <label for=input_id class="text-sm text-slate-800"><span class="font-semibold">{q.topic}</span><br />{q.prompt}</label>
                            </div>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <CustomQuestions custom=custom />
            <fieldset class="mt-5">
                <legend class="text-sm font-medium text-slate-800">"Who is asked"</legend>
                <p class="text-sm text-slate-600">"Pick departments (everyone below them is included), or none for the whole workplace."</p>
                <div class="mt-2 grid gap-1 sm:grid-cols-2">
                    {departments.into_iter().map(|d| {
                        let input_id = format!("audience-{}", d.value);
                        let value = d.value.clone();
                        view! {
                            <div class="flex min-h-11 items-center gap-3">
                                <input type="checkbox" id=input_id.clone() class="h-5 w-5 accent-teal-700"
                                    on:change=move |ev| { let on = event_target_checked(&ev); let value = value.clone(); audience.update(|set| { if on { set.insert(value); } else { set.remove(&value); } }); } />
                                <label for=input_id class="text-slate-800">{d.label}</label>
                            </div>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <div class="mt-5 grid gap-4 sm:grid-cols-3">
                <div>
                    <label for="cadence" class="block text-sm font-medium text-slate-800">"How often"</label>
                    <select id="cadence" class=INPUT_CLASS on:change=move |ev| {
                        if let Some(chosen) = Cadence::from_key(&event_target_value(&ev)) {
                            cadence.set(chosen);
                        }
                    }>
                        {Cadence::ALL.iter().map(|c| view! {
                            <option value=c.key() selected=*c == Cadence::Weekly>{c.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="start" class="block text-sm font-medium text-slate-800">"First round (empty: now)"</label>
                    <input id="start" type="date" class=INPUT_CLASS on:input=move |ev| start.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="window" class="block text-sm font-medium text-slate-800">"Days each round is open"</label>
                    <input id="window" type="number" min="1" max="14" class=INPUT_CLASS
                        prop:value=move || window.get() on:input=move |ev| window.set(event_target_value(&ev)) />
                </div>
            </div>
            <button type="submit" class=format!("mt-6 {PRIMARY_BUTTON_CLASS}") disabled=move || create.pending().get()>"Create survey"</button>
        </form>
    }
    .into_any()
}

/// Questions the workplace writes itself: a 1–5 scale with words for both ends, a single
/// choice, or free text. The server checks them like every question.
#[component]
fn CustomQuestions(custom: RwSignal<Vec<CustomQuestion>>) -> impl IntoView {
    let prompt = RwSignal::new(String::new());
    let kind = RwSignal::new(QuestionType::Scale);
    let low = RwSignal::new("Strongly disagree".to_owned());
    let high = RwSignal::new("Strongly agree".to_owned());
    let options = RwSignal::new(String::new());
    let hint = RwSignal::new(None::<&'static str>);
    let add = move |_| {
        let text = prompt.get_untracked().trim().to_owned();
        if text.is_empty() {
            hint.set(Some("Write the question first."));
            return;
        }
        let choices: Vec<String> = options
            .get_untracked()
            .lines()
            .map(|line| line.trim().to_owned())
            .filter(|line| !line.is_empty())
            .collect();
        if kind.get_untracked() == QuestionType::Choice && choices.len() < 2 {
            hint.set(Some("A single choice needs at least two options, one per line."));
            return;
        }
        hint.set(None);
        custom.update(|list| {
            list.push(CustomQuestion {
                prompt: text,
                kind: kind.get_untracked(),
                low: low.get_untracked(),
                high: high.get_untracked(),
                options: choices,
            })
        });
        prompt.set(String::new());
        options.set(String::new());
    };
    view! {
        <fieldset class="mt-5">
            <legend class="text-sm font-medium text-slate-800">"Your own questions"</legend>
            <p class="text-sm text-slate-600">"Optional. Asked after the library questions, in the order added."</p>
            <ol class="mt-2 space-y-2" aria-label="Your own questions">
                {move || custom.get().into_iter().enumerate().map(|(i, q)| {
                    let detail = match q.kind {
                        QuestionType::Scale => format!("1 ({}) to 5 ({})", q.low, q.high),
                        QuestionType::Choice => format!("One of: {}", q.options.join(", ")),
                        QuestionType::Enps => "0 to 10".to_owned(),
                        QuestionType::Text => "Free text".to_owned(),
                    };
                    let label = format!("Remove \u{201c}{}\u{201d}", q.prompt);
                    view! {
                        <li class="flex flex-wrap items-center justify-between gap-2 rounded-md border border-slate-200 p-3">
                            <span class="text-sm text-slate-800"><span class="font-semibold">{q.prompt}</span><br />{detail}</span>
                            <button type="button" class="min-h-11 rounded-md px-3 font-medium text-red-800 underline" aria-label=label
                                on:click=move |_| custom.update(|list| { if i < list.len() { list.remove(i); } })>"Remove"</button>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <div class="mt-3 grid gap-3 rounded-md border border-dashed border-slate-300 p-3 sm:grid-cols-3">
                <div class="sm:col-span-2">
                    <label for="custom-prompt" class="block text-sm font-medium text-slate-800">"Question"</label>
                    <input id="custom-prompt" type="text" maxlength="300" class=INPUT_CLASS
                        prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="custom-kind" class="block text-sm font-medium text-slate-800">"Answered with"</label>
                    <select id="custom-kind" class=INPUT_CLASS on:change=move |ev| {
                            if let Some(chosen) = QuestionType::from_key(&event_target_value(&ev)) {
                                kind.set(chosen);
                            }
                        }>
                        <option value="scale" selected=true>"A scale from 1 to 5"</option>
                        <option value="choice">"One of several options"</option>
                        <option value="text">"Free text"</option>
                    </select>
                </div>
                {move || match kind.get() {
                    QuestionType::Scale => view! {
                        <div>
                            <label for="custom-low" class="block text-sm font-medium text-slate-800">"Words for 1"</label>
                            <input id="custom-low" type="text" maxlength="60" class=INPUT_CLASS
                                prop:value=move || low.get() on:input=move |ev| low.set(event_target_value(&ev)) />
                        </div>
                        <div>
                            <label for="custom-high" class="block text-sm font-medium text-slate-800">"Words for 5"</label>
                            <input id="custom-high" type="text" maxlength="60" class=INPUT_CLASS
                                prop:value=move || high.get() on:input=move |ev| high.set(event_target_value(&ev)) />
                        </div>
                    }.into_any(),
                    QuestionType::Choice => view! {
                        <div class="sm:col-span-2">
                            <label for="custom-options" class="block text-sm font-medium text-slate-800">"Options, one per line"</label>
                            <textarea id="custom-options" rows="4" class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-base text-slate-900 shadow-sm focus:border-teal-600 focus:outline-none focus:ring-2 focus:ring-teal-600"
                                prop:value=move || options.get() on:input=move |ev| options.set(event_target_value(&ev))></textarea>
                        </div>
                    }.into_any(),
                    QuestionType::Enps | QuestionType::Text => ().into_any(),
                }}
                <div class="flex items-end sm:col-span-3">
                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=add>"Add question"</button>
                </div>
                {move || hint.get().map(|text| view! { <p role="alert" class="text-sm text-red-800 sm:col-span-3">{text}</p> })}
            </div>
        </fieldset>
    }
}

//! Check-ins, for everyone: the open ones, the replies to one's own comments (found by the
//! secrets this browser keeps), and the form for one — large touch targets, full keyboard use,
//! a progress indicator, an optional comment per question, and a plain statement of who can see
//! what.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::surveys::{
        comment_inbox, my_check_ins, submit_check_in, AnswerInput, AnswerReply, CheckInView, QuestionView,
        ThreadView,
    },
    components::{
        conversation::MessageForm,
        form::{ErrorAlert, NotAvailable, PRIMARY_BUTTON_CLASS},
    },
};

use crate::components::form::CARD_CLASS;
use crate::error::ApiError;
use crate::{ids::QuestionId, model::QuestionType};

#[component]
pub fn CheckInsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| my_check_ins());
    // Where a check-in form posted without its script lands once the answers are saved.
    let just_sent = use_query_map().with_untracked(|query| query.get("sent").is_some());
    view! {
        <Title text="Check-ins" />
        <section class="max-w-3xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Check-ins"</h1>
            {just_sent.then(|| view! {
                <div role="status" class=CARD_CLASS>
                    <h2 class="text-xl font-semibold text-slate-900">"Thank you"</h2>
                    <p class="mt-1 text-slate-700">"Your answers are saved. They will appear only in group results."</p>
                    <p class="mt-2 text-sm text-slate-700">"If you wrote comments, replies to them cannot reach you in this browser: without JavaScript it could not keep their keys."</p>
                </div>
            })}
            <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(overview) if overview.open.is_empty() => view! {
                            <p class="mt-4 text-slate-700">"Nothing to answer right now. You will get an email when the next check-in opens."</p>
                            <p class="mt-2 text-sm text-slate-600">{answered_so_far(overview.answered)}</p>
                            <Inbox storage_key=overview.storage_key />
                            {history_view(overview.history)}
                        }.into_any(),
                        Ok(overview) => view! {
                            <ul class="mt-6 space-y-4" aria-label="Open check-ins">
                                {overview.open.into_iter().map(|c| view! {
                                    <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
                                        <h2 class="text-lg font-semibold text-slate-900">{c.title.clone()}</h2>
                                        <p class="mt-1 text-sm text-slate-700">{format!("{} questions · open until {}", c.questions.len(), c.closes)}</p>
                                        <a href=format!("/check-ins/{}", c.round) class=format!("mt-3 {PRIMARY_BUTTON_CLASS}")>
                                            {format!("Answer “{}”", c.title)}
                                        </a>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <p class="mt-4 text-sm text-slate-600">{answered_so_far(overview.answered)}</p>
                            <Inbox storage_key=overview.storage_key />
                            {history_view(overview.history)}
                        }.into_any(),
                        Err(err) => view! { <NotAvailable message=err.message /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn answered_so_far(answered: usize) -> String {
    match answered {
        0 => "You have not answered a check-in yet.".to_owned(),
        1 => "You have answered 1 check-in so far.".to_owned(),
        n => format!("You have answered {n} check-ins so far."),
    }
}

/// The rounds the person was asked in and whether they answered — what Candor keeps about
/// their taking part (never their answers).
fn history_view(history: Vec<(String, String, bool)>) -> AnyView {
    if history.is_empty() {
        return ().into_any();
    }
    view! {
        <details class=CARD_CLASS>
            <summary class="min-h-11 cursor-pointer text-lg font-semibold text-slate-900">"Your participation"</summary>
            <p class="mt-2 text-sm text-slate-700">"Candor keeps only whether you took part in each round, to stop double answers — not which answers were yours."</p>
            <ul class="mt-3 divide-y divide-slate-100" aria-label="Your participation">
                {history.into_iter().map(|(round, opened, answered)| view! {
                    <li class="flex flex-wrap items-baseline justify-between gap-2 py-2 text-sm">
                        <span class="text-slate-900">{round}<span class="block text-slate-600">{format!("Opened {opened}")}</span></span>
                        <span class=if answered { "font-medium text-teal-800" } else { "text-slate-600" }>{if answered { "Answered" } else { "Not answered" }}</span>
                    </li>
                }).collect_view()}
            </ul>
        </details>
    }
    .into_any()
}

/// Replies to the person's comments: the browser presents the secrets it keeps (none, for
/// someone who never commented: the call is made all the same), so the list is loaded in the
/// browser only, once the page has hydrated (the server has nothing to render).
#[component]
fn Inbox(storage_key: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| hydrated.set(true));
    let storage_key = StoredValue::new(storage_key);
    view! {
        <div>
            {move || hydrated.get().then(|| view! { <InboxThreads storage_key=storage_key.get_value() /> })}
        </div>
    }
}

#[component]
fn InboxThreads(storage_key: String) -> impl IntoView {
    let answer = ServerAction::<AnswerReply>::new();
    let threads = LocalResource::new(move || {
        let secrets = crate::comment_secrets::load(&storage_key);
        answer.version().track();
        // Asked the same way whether this browser holds secrets or not: that someone calls the
        // inbox must say nothing about whether they ever commented.
        async move { comment_inbox(secrets).await }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match threads.await {
                    Ok(threads) if threads.is_empty() => ().into_any(),
                    Ok(threads) => view! {
                        <section class=CARD_CLASS aria-labelledby="replies-heading">
                            <h2 id="replies-heading" class="text-lg font-semibold text-slate-900">"Replies to your comments"</h2>
                            <p class="mt-1 text-sm text-slate-700">"Whoever replied does not know who you are, and your answers stay anonymous too. Only this browser can open these conversations."</p>
                            <ErrorAlert error=Signal::derive(move || answer.value().get().and_then(Result::err)) />
                            <ul class="mt-3 space-y-4" aria-label="Conversations">
                                {threads.into_iter().enumerate().map(|(i, t)| thread_card(i, t, answer)).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    Err(err) => view! { <p role="alert" class="mt-4 text-slate-700">{err.message}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn thread_card(index: usize, thread: ThreadView, answer: ServerAction<AnswerReply>) -> AnyView {
    let text = RwSignal::new(String::new());
    let input_id = format!("answer-{index}");
    let secret = thread.secret.clone();
    let send = Callback::new(move |()| {
        answer.dispatch(AnswerReply {
            secret: secret.clone(),
            text: text.get_untracked(),
        });
    });
    view! {
        <li class="rounded-md border border-slate-200 p-4">
            <p class="text-xs font-medium uppercase tracking-wide text-slate-600">{format!("{} · round {} · {}", thread.survey, thread.round, thread.question)}</p>
            <p class="mt-1 text-slate-900"><span class="font-semibold">"You wrote: "</span>{thread.comment}</p>
            {crate::components::conversation::conversation(thread.messages)}
            <MessageForm id=input_id label="Answer back (anonymously)" button="Send answer" text=text
                pending=answer.pending().into() on_send=send />
            <p class="mt-2 text-sm text-slate-700">"Readers see your answer from tomorrow: one that appeared the moment you sent it could be matched to who was online then."</p>
        </li>
    }
    .into_any()
}

#[component]
pub fn CheckInPage() -> impl IntoView {
    let params = use_params_map();
    let round = move || params.read().get("round").unwrap_or_default();
    let overview = Resource::new(|| (), |_| my_check_ins());
    let problem = use_query_map().with_untracked(|query| query.get("problem"));
    view! {
        <Title text="Check-in" />
        <section class="max-w-3xl">
            <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                {move || { let problem = problem.clone(); Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => match overview.open.into_iter().find(|c| c.round.as_str() == round()) {
                            Some(check_in) => check_in_form(check_in, overview.minimum, overview.storage_key, problem),
                            None => view! {
                                <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Check-in"</h1>
                                <p class="mt-4 text-slate-700">"This check-in is not open for you: it may be closed, already answered, or meant for another team."</p>
                                <a href="/check-ins" class="mt-4 inline-block font-medium text-teal-800 underline">"See your check-ins"</a>
                            }.into_any(),
                        },
                        Err(err) => view! { <NotAvailable message=err.message /> }.into_any(),
                    }
                })}}
            </Suspense>
        </section>
    }
}

/// What the form says when a post without its script came back refused: the code only travels
/// in the address, never a message (a link cannot make Candor say anything it chooses).
fn posted_form_refusal(code: &str) -> ApiError {
    let message = match code {
        "input.invalid" => "Some answers were missing or not accepted. Please choose an answer for every question and send again.",
        "auth.required" | "auth.mfa_required" => "Your sign-in has ended. Please sign in again and send your answers.",
        _ => "Your answers could not be saved just now. Please try again in a minute.",
    };
    ApiError::new(code, message, 400)
}

fn check_in_form(
    check_in: CheckInView,
    minimum: u32,
    storage_key: String,
    problem: Option<String>,
) -> AnyView {
    let values = RwSignal::new(BTreeMap::<QuestionId, i32>::new());
    let comments = RwSignal::new(BTreeMap::<QuestionId, String>::new());
    let required = check_in
        .questions
        .iter()
        .filter(|q| q.kind != QuestionType::Text)
        .count();
    let answered = move || values.with(BTreeMap::len);
    let round = check_in.round.clone();
    let submit = Action::new(move |answers: &Vec<AnswerInput>| {
        let (round, answers) = (round.clone(), answers.clone());
        async move { submit_check_in(round, answers).await }
    });
    let ids: Vec<QuestionId> = check_in.questions.iter().map(|q| q.id.clone()).collect();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let answers = ids
            .iter()
            .map(|id| AnswerInput {
                question: id.clone(),
                value: values.with(|v| v.get(id).copied()),
                comment: comments
                    .with(|c| c.get(id).cloned())
                    .filter(|c| !c.trim().is_empty()),
            })
            .collect();
        submit.dispatch(answers);
    };
    let posted_refusal = problem.as_deref().map(posted_form_refusal);
    let error = Signal::derive(move || {
        submit
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| posted_refusal.clone())
    });
    // Before hydration the browser checks the required answers itself (the form works without
    // the script); once hydrated, the page's own messages take over.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let done = move || matches!(submit.value().get(), Some(Ok(_)));
    let commented = move || {
        submit
            .value()
            .with(|v| matches!(v, Some(Ok(secrets)) if !secrets.is_empty()))
    };
    // The secrets of the comments just sent stay in this browser, for their replies.
    Effect::new(move |_| {
        if let Some(Ok(secrets)) = submit.value().get() {
            crate::comment_secrets::remember(&storage_key, &secrets);
        }
    });
    let title = check_in.title.clone();
    let round_field = check_in.round.clone();
    view! {
        <h1 class="text-3xl font-bold tracking-tight text-slate-900">{check_in.title.clone()}</h1>
        <p class="mt-1 text-slate-700">{format!("Open until {}", check_in.closes)}</p>
        <aside class="mt-4 rounded-md border border-teal-200 bg-teal-50 p-4 text-sm text-teal-950" aria-label="Who can see what">
            <p class="font-semibold">"Who can see what"</p>
            <ul class="mt-1 list-disc space-y-1 pl-5">
                <li>"Your answers are stored without your name. Candor records only that you took part, to stop double answers."</li>
                <li>{format!("Managers and HR see figures for a team only when at least {minimum} people in it answered; smaller groups show “not enough responses”.")}</li>
                <li>"Comments are shown as you write them, without your name, under the same rule — so leave out details that would identify you."</li>
                <li>"Whoever can read a comment may reply to it; the reply reaches you here, in this browser (with JavaScript on), without them learning who you are."</li>
            </ul>
        </aside>
        <Show when=done fallback=move || {
            let questions = check_in.questions.clone();
            view! {
                // Without its script the form posts itself (never the default GET: answers must not
                // reach the address bar, the history or a proxy's log); hydrated, it is sent by
                // the script and the page thanks the person in place.
                <form class="mt-6" method="post" action="/api/check_ins/send" on:submit=on_submit.clone()
                    novalidate=move || hydrated.get()>
                    <input type="hidden" name="round" value=round_field.clone() />
                    <div class="sticky top-0 z-10 -mx-4 border-b border-slate-200 bg-slate-50/95 px-4 py-3 sm:mx-0 sm:rounded-md sm:border">
                        <label for="progress" class="text-sm font-medium text-slate-800">
                            {move || format!("{} of {required} answered", answered())}
                        </label>
                        <progress id="progress" class="mt-1 block h-2 w-full accent-teal-700" max=required value=answered></progress>
                    </div>
                    <ol class="mt-4 space-y-6">
                        {questions.into_iter().enumerate().map(|(i, q)| question_card(i, q, values, comments)).collect_view()}
                    </ol>
                    <ErrorAlert error=error />
                    <button type="submit" class=format!("mt-6 {PRIMARY_BUTTON_CLASS}") disabled=move || submit.pending().get()>
                        "Send my answers"
                    </button>
                </form>
            }
        }>
            <div role="status" class=CARD_CLASS>
                <h2 class="text-xl font-semibold text-slate-900">"Thank you"</h2>
                <p class="mt-1 text-slate-700">{format!("Your answers to “{title}” are saved. They will appear only in group results.")}</p>
                {move || commented().then(|| view! {
                    <p class="mt-2 text-slate-700">"If someone replies to your comments, the replies appear on your check-ins page in this browser. Nobody who replies learns who you are."</p>
                })}
                <a href="/check-ins" class="mt-3 inline-block font-medium text-teal-800 underline">"Back to your check-ins"</a>
            </div>
        </Show>
    }
    .into_any()
}

fn question_card(
    index: usize,
    question: QuestionView,
    values: RwSignal<BTreeMap<QuestionId, i32>>,
    comments: RwSignal<BTreeMap<QuestionId, String>>,
) -> AnyView {
    let id = question.id.clone();
    let options: Vec<(i32, String)> = match question.kind {
        QuestionType::Scale => (1..=5).map(|v| (v, v.to_string())).collect(),
        QuestionType::Enps => (0..=10).map(|v| (v, v.to_string())).collect(),
        QuestionType::Choice => question
            .labels
            .iter()
            .enumerate()
            .map(|(i, label)| (i32::try_from(i).unwrap_or(0), label.clone()))
            .collect(),
        QuestionType::Text => Vec::new(),
    };
    let is_text = question.kind == QuestionType::Text;
    let has_ends = match question.kind {
        QuestionType::Scale | QuestionType::Enps => true,
        QuestionType::Choice | QuestionType::Text => false,
    };
    let ends = (has_ends && question.labels.len() == 2)
        .then(|| (question.labels[0].clone(), question.labels[1].clone()));
    let comment_id = format!("comment-{index}");
    let comment_label = if is_text {
        "Your answer (optional)".to_owned()
    } else {
        "Add a comment (optional)".to_owned()
    };
    let grid = match question.kind {
        QuestionType::Choice | QuestionType::Text => "mt-3 grid gap-2",
        QuestionType::Enps => "mt-3 grid grid-cols-6 gap-2 sm:grid-cols-11",
        QuestionType::Scale => "mt-3 grid grid-cols-5 gap-2",
    };
    // `q` first: a key of digits only would be read as a list index.
    let name = format!("answers[q{id}]");
    let comment_name = format!("comments[q{id}]");
    let comment_key = id.clone();
    // Words typed before the page hydrated stay in the box; the script sends them too.
    let comment_box = NodeRef::<leptos::html::Textarea>::new();
    let typed_key = id.clone();
    Effect::new(move |_| {
        if let Some(text) = comment_box
            .get()
            .map(|box_| box_.value())
            .filter(|text| !text.is_empty())
        {
            comments.update(|c| {
                c.insert(typed_key.clone(), text);
            });
        }
    });
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <fieldset>
                <legend class="text-base font-semibold text-slate-900">{format!("{}. {}", index + 1, question.prompt)}</legend>
                {(!options.is_empty()).then(|| view! {
                    <div class=grid>
                        {options.into_iter().map(|(value, label)| {
                            let input_id = format!("q-{index}-{value}");
                            let key = id.clone();
                            let chosen_key = id.clone();
                            // A choice made before the page hydrated stays chosen (the browser
                            // keeps it) and is picked up here, so the script sends it too.
                            let radio = NodeRef::<leptos::html::Input>::new();
                            Effect::new(move |_| {
                                if radio.get().is_some_and(|input| input.checked()) {
                                    values.update(|v| { v.insert(chosen_key.clone(), value); });
                                }
                            });
                            view! {
                                <div>
                                    <input type="radio" id=input_id.clone() name=name.clone() value=value.to_string() class="peer sr-only" required=!is_text
                                        node_ref=radio
                                        on:change=move |_| values.update(|v| { v.insert(key.clone(), value); }) />
                                    <label for=input_id class="flex min-h-12 cursor-pointer items-center justify-center rounded-md border border-slate-300 bg-white px-3 text-base font-medium text-slate-800 hover:bg-slate-50 peer-checked:border-teal-700 peer-checked:bg-teal-700 peer-checked:text-white peer-focus-visible:ring-2 peer-focus-visible:ring-teal-600 peer-focus-visible:ring-offset-2">
                                        {label}
                                    </label>
                                </div>
                            }
                        }).collect_view()}
                    </div>
                })}
                {ends.map(|(low, high)| view! {
                    <div class="mt-2 flex justify-between text-sm text-slate-600" aria-hidden="true">
                        <span>{low}</span><span>{high}</span>
                    </div>
                })}
                <div class="mt-4">
                    <label for=comment_id.clone() class="block text-sm font-medium text-slate-800">{comment_label}</label>
                    <textarea id=comment_id name=comment_name rows="3" maxlength="2000" node_ref=comment_box
                        class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base text-slate-900 shadow-sm focus:border-teal-600 focus:outline-none focus:ring-2 focus:ring-teal-600"
                        on:input=move |ev| { let text = event_target_value(&ev); comments.update(|c| { c.insert(comment_key.clone(), text); }); }>
                    </textarea>
                </div>
            </fieldset>
        </li>
    }
    .into_any()
}

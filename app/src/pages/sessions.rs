//! The signed-in person's sessions: where and when each is used, a way to end them, and what to
//! do when the account may be in someone else's hands.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::account::{my_sessions, EndOtherSessions, EndSession, SecureOwnAccount},
    components::form::{
        action_error, ErrorAlert, FormCard, SignInToContinue, CARD_CLASS, PRIMARY_BUTTON_CLASS,
        SECONDARY_BUTTON_CLASS,
    },
};

#[component]
pub fn SessionsPage() -> impl IntoView {
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let secure = ServerAction::<SecureOwnAccount>::new();
    let secured = move || secure.value().get().and_then(Result::ok);
    let sessions = Resource::new(
        move || (end_one.version().get(), end_others.version().get()),
        |_| my_sessions(),
    );
    view! {
        <Title text="Your sessions" />
        <Show when=move || secured().is_some() fallback=move || view! { <SessionList end_one end_others secure sessions /> }>
            <FormCard title="Your account is secured">
                <p role="status" class="text-slate-700">{move || {
                    let ended = secured().unwrap_or_default();
                    format!(
                        "{ended} {} signed out, this one too, and remembered devices forgotten. When you next sign in we email you a link to choose a new password; after that, sign in with it and your second factor.",
                        if ended == 1 { "session was" } else { "sessions were" },
                    )
                }}</p>
                <A href="/login" attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>"Sign in"</A>
            </FormCard>
        </Show>
    }
}

#[component]
fn SessionList(
    end_one: ServerAction<EndSession>,
    end_others: ServerAction<EndOtherSessions>,
    secure: ServerAction<SecureOwnAccount>,
    sessions: Resource<Result<Vec<crate::api::account::SessionView>, crate::error::ApiError>>,
) -> impl IntoView {
    view! {
        <section class="max-w-3xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Your sessions"</h1>
            <p class="mt-3 text-slate-700">
                "Everywhere your account is signed in. If you do not recognise one, sign it out and change your password."
            </p>
            <div class="mt-6">
                <ErrorAlert error=action_error(end_one.value()) />
                <ErrorAlert error=action_error(end_others.value()) />
            </div>
            <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => {
                            let others = list.iter().filter(|s| !s.current).count();
                            view! {
                                <ul class="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white shadow-sm" aria-label="Sessions">
                                    {list.into_iter().map(|s| {
                                        let label = format!("Sign out {} session", s.device);
                                        view! {
                                            <li class="flex flex-col gap-3 px-5 py-4 sm:flex-row sm:items-center sm:justify-between">
                                                <div>
                                                    <p class="font-medium text-slate-900">
                                                        {s.device.clone()}
                                                        {s.current.then(|| view! {
                                                            <span class="ml-2 rounded bg-teal-50 px-2 py-0.5 text-xs font-semibold text-teal-800">"This device"</span>
                                                        })}
                                                    </p>
                                                    <p class="text-sm text-slate-700">{format!("Network {} · last active {} · signed in {}", s.network, s.last_active, s.started)}</p>
                                                </div>
                                                {(!s.current).then(|| view! {
                                                    <ActionForm action=end_one>
                                                        <input type="hidden" name="id" value=s.id.clone() />
                                                        <button type="submit" aria-label=label class="min-h-11 rounded-md border border-slate-300 px-4 text-sm font-medium text-slate-800 hover:bg-slate-100">"Sign out"</button>
                                                    </ActionForm>
                                                })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                                {(others > 0).then(|| view! {
                                    <ActionForm action=end_others attr:class="mt-6">
                                        <button type="submit" class=PRIMARY_BUTTON_CLASS>"Sign out all other sessions"</button>
                                    </ActionForm>
                                })}
                                <section aria-labelledby="compromised" class=CARD_CLASS>
                                    <h2 id="compromised" class="text-lg font-semibold text-slate-900">"My account may be compromised"</h2>
                                    <p class="mt-1 text-sm text-slate-700">"If someone else may know your password or have used your account: every session ends, this one too, remembered devices are forgotten, and your account opens again only after you choose a new password with a link emailed to you. The people who watch your workplace's access log are alerted."</p>
                                    <p class="mt-1 text-sm text-slate-700">"Lost a phone or security key? Remove it under Sign-in methods too."</p>
                                    <ErrorAlert error=action_error(secure.value()) />
                                    <ActionForm action=secure attr:class="mt-3">
                                        <button type="submit" class=SECONDARY_BUTTON_CLASS>"Secure my account"</button>
                                    </ActionForm>
                                </section>
                            }.into_any()
                        }
                        Err(err) => view! { <SignInToContinue message=err.message /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

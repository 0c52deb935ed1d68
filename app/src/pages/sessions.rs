//! The signed-in person's sessions: where and when each is used, and a way to end them.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::account::{my_sessions, EndOtherSessions, EndSession},
    components::form::{action_error, ErrorAlert, SignInToContinue, PRIMARY_BUTTON_CLASS},
};

#[component]
pub fn SessionsPage() -> impl IntoView {
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let sessions = Resource::new(
        move || (end_one.version().get(), end_others.version().get()),
        |_| my_sessions(),
    );
    view! {
        <Title text="Your sessions" />
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
                            }.into_any()
                        }
                        Err(err) => view! { <SignInToContinue message=err.message /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

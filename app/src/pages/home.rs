//! The signed-in start page. Reaching it needs both factors; the server enforces that.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    api::account::{me, LogOut},
    components::form::{FormCard, PRIMARY_BUTTON_CLASS},
};

#[component]
pub fn HomePage() -> impl IntoView {
    let account = Resource::new(|| (), |_| me());
    let log_out = ServerAction::<LogOut>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(log_out.value().get(), Some(Ok(()))) {
            navigate("/", Default::default());
        }
    });
    view! {
        <Title text="Home" />
        <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(account) => view! {
                        <section class="max-w-3xl">
                            <p class="text-sm font-semibold uppercase tracking-wide text-teal-800">{account.workplace_name}</p>
                            <h1 class="mt-2 text-3xl font-bold tracking-tight text-slate-900">{format!("Welcome, {}", account.display_name)}</h1>
                            <p class="mt-3 text-slate-700">{format!("Signed in as {} with two factors.", account.email)}</p>
                            {(account.open_alerts > 0).then(|| view! {
                                <div role="alert" class="mt-6 rounded-lg border border-red-200 bg-red-50 p-5">
                                    <h2 class="text-lg font-semibold text-red-900">{match account.open_alerts {
                                        1 => "1 open security alert".to_owned(),
                                        n => format!("{n} open security alerts"),
                                    }}</h2>
                                    <p class="mt-1 text-red-900">"Candor's monitoring noticed something an Owner or Auditor should look at."</p>
                                    <A href="/audit" attr:class="mt-2 inline-block font-medium text-red-900 underline">"Review alerts in the access log"</A>
                                </div>
                            })}
                            {account.breach_notices.into_iter().map(|notice| view! {
                                <div role="alert" aria-label="Personal-data breach notice" class="mt-6 rounded-lg border-2 border-red-300 bg-white p-5 shadow-sm">
                                    <p class="text-sm font-semibold uppercase tracking-wide text-red-800">"Personal-data breach notice"</p>
                                    <h2 class="mt-1 text-lg font-semibold text-slate-900">{notice.title}</h2>
                                    <p class="mt-1 text-sm text-slate-600">{format!("Sent by Candor's operators on {}", notice.notified)}</p>
                                    <dl class="mt-3 grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[10rem_1fr]">
                                        <dt class="font-medium text-slate-700">"What happened"</dt>
                                        <dd class="whitespace-pre-line text-slate-900">{notice.nature}</dd>
                                        <dt class="font-medium text-slate-700">"Likely impact"</dt>
                                        <dd class="whitespace-pre-line text-slate-900">{notice.likely_impact}</dd>
                                        <dt class="font-medium text-slate-700">"What was done"</dt>
                                        <dd class="whitespace-pre-line text-slate-900">{notice.mitigation}</dd>
                                        <dt class="font-medium text-slate-700">"Contact"</dt>
                                        <dd class="break-words text-slate-900">{notice.contact}</dd>
                                    </dl>
                                </div>
                            }).collect_view()}
                            {account.termination.map(|pending| view! {
                                <div role="alert" aria-label="Workplace deletion" class="mt-6 rounded-lg border-2 border-red-300 bg-white p-5 shadow-sm">
                                    <h2 class="text-lg font-semibold text-red-800">{format!("This workplace is to be deleted on {}", pending.delete_at)}</h2>
                                    <p class="mt-1 text-slate-800">{format!(
                                        "{} asked for it on {}. In {} {} every record and key of it is gone for good.",
                                        pending.requested_by.unwrap_or_else(|| "An Owner".into()),
                                        pending.requested_at,
                                        pending.days_left,
                                        if pending.days_left == 1 { "day" } else { "days" },
                                    )}</p>
                                    <A href="/settings" attr:class="mt-2 inline-block font-medium text-red-900 underline">"Review or cancel in Settings"</A>
                                </div>
                            })}
                            {(!account.subprocessor_changes.is_empty()).then(|| view! {
                                <section aria-labelledby="subprocessor-changes" class="mt-6 rounded-lg border border-amber-300 bg-amber-50 p-5">
                                    <h2 id="subprocessor-changes" class="text-lg font-semibold text-amber-950">"Changes to our subprocessors"</h2>
                                    <ul class="mt-2 space-y-2 text-sm text-amber-950">
                                        {account.subprocessor_changes.clone().into_iter().map(|c| view! {
                                            <li>{c.summary}<span class="text-amber-900">{format!(" — takes effect {} (announced {})", c.effective_on, c.announced)}</span></li>
                                        }).collect_view()}
                                    </ul>
                                    <p class="mt-2 text-sm text-amber-950">
                                        <A href="/subprocessors" attr:class="font-medium underline">"The full list"</A>
                                        " · To object, "
                                        <A href="/help" attr:class="font-medium underline">"write to us"</A>
                                        " before that day."
                                    </p>
                                </section>
                            })}
                            <CheckInsWaiting />
                            <p class="mt-3">
                                <A href="/sessions" attr:class="font-medium text-teal-800 underline">"Your sessions"</A>
                            </p>
                            <ActionForm action=log_out attr:class="mt-6">
                                <button type="submit" class="min-h-11 rounded-md border border-slate-300 px-4 font-medium text-slate-800 hover:bg-slate-100">"Sign out"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(err) => {
                        let (href, label) = if err.code == "auth.mfa_required" {
                            ("/login/code", "Finish signing in")
                        } else {
                            ("/login", "Sign in")
                        };
                        view! {
                            <FormCard title="Sign in to continue">
                                <p role="alert" class="text-slate-700">{err.message}</p>
                                <A href=href attr:class=format!("mt-6 {PRIMARY_BUTTON_CLASS}")>{label}</A>
                            </FormCard>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The check-ins waiting for this person, straight from the start page.
#[component]
fn CheckInsWaiting() -> impl IntoView {
    let waiting = Resource::new(|| (), |_| crate::api::surveys::my_check_ins());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let open = waiting.await.map(|o| o.open).unwrap_or_default();
                (!open.is_empty()).then(|| view! {
                    <div class="mt-6 rounded-lg border border-teal-200 bg-teal-50 p-5">
                        <h2 class="text-lg font-semibold text-teal-950">{format!("{} check-in{} waiting for you", open.len(), if open.len() == 1 { "" } else { "s" })}</h2>
                        <ul class="mt-2 space-y-2">
                            {open.into_iter().map(|c| view! {
                                <li><A href=format!("/check-ins/{}", c.round) attr:class="font-medium text-teal-800 underline">{format!("Answer “{}” (open until {})", c.title, c.closes)}</A></li>
                            }).collect_view()}
                        </ul>
                    </div>
                })
            })}
        </Suspense>
    }
}

//! The public Security page: facts read from the running instance, not marketing copy.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::instance::{operational_facts, security_facts, InstanceFacts, InstanceOperations};

#[component]
pub fn SecurityPage() -> impl IntoView {
    let facts = Resource::new(|| (), |_| security_facts());
    // Only the workplace's Owner gets these; everyone else gets nothing, not an error.
    let operations = Resource::new(|| (), |_| operational_facts());
    view! {
        <Title text="Security" />
        <section class="max-w-3xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Security of this instance"</h1>
            <p class="mt-3 text-slate-700">
                "Every fact below is read from the running Candor instance when you open this page, so it shows what is actually in force here."
            </p>
            <p class="mt-2 text-slate-700">
                "Whom the operator entrusts with processing, and every change to that list: "
                <a href="/subprocessors" class="font-medium text-teal-800 underline">"Subprocessors"</a>
                "."
            </p>
        </section>
        <section aria-labelledby="live-facts" class="mt-8 rounded-lg border border-slate-200 bg-white shadow-sm">
            <div class="flex items-center justify-between gap-4 border-b border-slate-200 px-5 py-4">
                <h2 id="live-facts" class="text-lg font-semibold text-slate-900">"Live facts"</h2>
                <button
                    type="button"
                    class="min-h-11 rounded-md border border-slate-300 px-4 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-teal-600"
                    on:click=move |_| facts.refetch()
                >
                    "Refresh"
                </button>
            </div>
            <Suspense fallback=|| view! { <p class="px-5 py-4 text-slate-600">"Reading facts…"</p> }>
                {move || Suspend::new(async move {
                    match facts.await {
                        Ok(facts) => view! { <FactList facts /> }.into_any(),
                        Err(err) => view! {
                            <p role="alert" class="px-5 py-4 text-red-800">
                                {err.message} " (" <code>{err.code}</code> ")"
                            </p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                operations.await.ok().flatten().map(|facts| view! { <OperationsCard facts /> })
            })}
        </Suspense>
    }
}

/// When backups and restore drills last ran, for the workplace's Owner.
#[component]
fn OperationsCard(facts: InstanceOperations) -> impl IntoView {
    let rows = [
        ("Latest backup", facts.last_backup),
        ("Latest restore drill", facts.last_drill),
    ];
    view! {
        <section aria-labelledby="operations" class="mt-8 rounded-lg border border-slate-200 bg-white shadow-sm">
            <div class="border-b border-slate-200 px-5 py-4">
                <h2 id="operations" class="text-lg font-semibold text-slate-900">"Backups and restores, as they ran"</h2>
                <p class="mt-1 text-sm text-slate-700">"Shown to your workplace's Owner only: when backups and restore drills ran stays off the public page."</p>
            </div>
            {fact_rows(rows)}
        </section>
    }
}

#[component]
fn FactList(facts: InstanceFacts) -> impl IntoView {
    let cipher = facts
        .field_cipher
        .clone()
        .unwrap_or_else(|| "Not configured on this instance yet".to_owned());
    let hsts = if facts.transport.sends_hsts() {
        "Browsers are told to use HTTPS only (HSTS)"
    } else {
        "Not sent on loopback HTTP"
    };
    let rows = [
        ("Connection security", facts.transport.describe().to_owned()),
        ("Strict Transport Security", hsts.to_owned()),
        ("Database", facts.database_backend.clone()),
        ("Separation of workplaces", facts.tenant_separation.clone()),
        ("Encryption of personal fields", cipher),
        ("Password storage", facts.password_hashing.clone()),
        ("Signing in", facts.sign_in.clone()),
        ("Sessions", facts.sessions.clone()),
        ("Backups", facts.backups.clone()),
        ("Restore drills", facts.restore_drills.clone()),
        ("Data retention", facts.retention.clone()),
        ("Anonymity of results", facts.anonymity.clone()),
        ("Benchmarks", facts.benchmarks.clone()),
    ];
    fact_rows(rows)
}

/// Terms and their values, one row each.
fn fact_rows<const N: usize>(rows: [(&'static str, String); N]) -> impl IntoView {
    view! {
        <dl class="divide-y divide-slate-200">
            {rows
                .into_iter()
                .map(|(term, value)| {
                    view! {
                        <div class="grid gap-1 px-5 py-4 sm:grid-cols-3 sm:gap-4">
                            <dt class="text-sm font-medium text-slate-600">{term}</dt>
                            <dd class="text-sm text-slate-900 sm:col-span-2">{value}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}

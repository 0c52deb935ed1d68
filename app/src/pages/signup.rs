//! Create a workplace: the first account becomes its owner. Password strength is checked live
//! (by the same rules the server enforces on submit).

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::account::{password_feedback, SignUp, StrengthFeedback},
    components::form::{action_error, ErrorAlert, FormCard, INPUT_CLASS, PRIMARY_BUTTON_CLASS},
};

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let sent = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Create a workplace" />
        <Show
            when=sent
            fallback=move || view! { <SignupForm action /> }
        >
            <FormCard title="Check your inbox">
                <p role="status" class="text-slate-700">
                    "We sent a link to confirm your email address. Open it to finish creating your workplace. The link works once and expires in 24 hours."
                </p>
            </FormCard>
        </Show>
    }
}

#[component]
fn SignupForm(action: ServerAction<SignUp>) -> impl IntoView {
    let workplace = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let feedback = RwSignal::new(None::<StrengthFeedback>);
    let requests = StoredValue::new(0u64);
    let check_strength = move |password: String| {
        if password.is_empty() {
            feedback.set(None);
            return;
        }
        requests.update_value(|n| *n += 1);
        let this_request = requests.get_value();
        let (name, email, workplace) = (
            name.get_untracked(),
            email.get_untracked(),
            workplace.get_untracked(),
        );
        spawn_local(async move {
            if let Ok(result) = password_feedback(password, name, email, workplace).await {
                // Answers can arrive out of order: keep only the latest one.
                if requests.get_value() == this_request {
                    feedback.set(Some(result));
                }
            }
        });
    };
    view! {
        <FormCard
            title="Create your workplace"
            intro="You become its owner. Every account in Candor sets up a second factor before it can see anything."
        >
            <ErrorAlert error=action_error(action.value()) />
            <ActionForm action attr:class="space-y-5">
                <div>
                    <label for="workplace_name" class="block text-sm font-medium text-slate-800">"Workplace name"</label>
                    <input id="workplace_name" name="workplace_name" required maxlength="200" autocomplete="organization"
                        class=INPUT_CLASS on:input=move |ev| workplace.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="display_name" class="block text-sm font-medium text-slate-800">"Your name"</label>
                    <input id="display_name" name="display_name" required maxlength="200" autocomplete="name"
                        class=INPUT_CLASS on:input=move |ev| name.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="email" class="block text-sm font-medium text-slate-800">"Work email"</label>
                    <input id="email" name="email" type="email" required maxlength="254" autocomplete="email"
                        class=INPUT_CLASS on:input=move |ev| email.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="password" class="block text-sm font-medium text-slate-800">"Password"</label>
                    <input id="password" name="password" type="password" required minlength="8" maxlength="256"
                        autocomplete="new-password" aria-describedby="password-help password-strength"
                        class=INPUT_CLASS on:input=move |ev| check_strength(event_target_value(&ev)) />
                    <p id="password-help" class="mt-1 text-sm text-slate-600">
                        "At least 12 characters. Length beats symbols: a few unrelated words work well."
                    </p>
                    <StrengthMeter feedback=feedback.into() />
                </div>
                <button type="submit" class=PRIMARY_BUTTON_CLASS disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create workplace" }}
                </button>
            </ActionForm>
            <p class="mt-6 text-sm text-slate-600">
                "Already have an account? " <A href="/login" attr:class="font-medium text-teal-800 underline">"Sign in"</A>
            </p>
        </FormCard>
    }
}

#[component]
fn StrengthMeter(feedback: Signal<Option<StrengthFeedback>>) -> impl IntoView {
    view! {
        <div id="password-strength" aria-live="polite" class="mt-2 min-h-6">
            {move || feedback.get().map(|fb| {
                let filled = usize::from(fb.score) + 1;
                let colour = if fb.acceptable { "bg-teal-600" } else { "bg-amber-500" };
                let verdict = if fb.acceptable { "Strong enough".to_owned() } else { "Not strong enough yet".to_owned() };
                view! {
                    <div class="flex gap-1" aria-hidden="true">
                        {(0..5).map(|i| {
                            let class = if i < filled { colour } else { "bg-slate-200" };
                            view! { <span class=format!("h-1.5 flex-1 rounded {class}")></span> }
                        }).collect_view()}
                    </div>
                    <p class="mt-1 text-sm font-medium text-slate-800">{verdict}</p>
                    <ul class="mt-1 list-disc pl-5 text-sm text-slate-700">
                        {fb.problems.into_iter().chain(fb.suggestions).map(|line| view! { <li>{line}</li> }).collect_view()}
                    </ul>
                }
            })}
        </div>
    }
}

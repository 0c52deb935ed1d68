//! The help form: a question to Candor's operators, by email to their support inbox.

use leptos::prelude::*;

use crate::error::ApiError;

/// The topics to choose from: (key, label); empty when this instance has no support inbox.
#[server(prefix = "/api", endpoint = "help/topics")]
pub async fn help_topics() -> Result<Vec<(String, String)>, ApiError> {
    let state = crate::state::app_state()?;
    crate::session::require_identity(&state).await?;
    if state.support_inbox.is_none() {
        return Ok(Vec::new());
    }
    Ok(domain::compliance::help::TOPICS
        .iter()
        .map(|(key, label)| ((*key).to_owned(), (*label).to_owned()))
        .collect())
}

/// Sends the question, with who asks, to the support inbox.
#[server(prefix = "/api", endpoint = "help/ask")]
pub async fn ask_for_help(topic: String, message: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (who, _) = crate::session::require_identity(&state).await?;
    let question = domain::compliance::help::question(&topic, &message)?;
    let inbox = state
        .support_inbox
        .clone()
        .ok_or_else(|| domain::Error::Unavailable("no support inbox is configured".into()))?;
    state
        .sign_in_guard
        .admit_help_question(&state.db, who.user_id.uuid(), state.clock.now())
        .await?;
    let profile = domain::access::accounts::profile(&state.db, who.user_id.uuid()).await?;
    let mail = domain::compliance::help::to_support(
        &inbox,
        &who,
        &profile.display_name,
        &profile.email,
        &profile.workplace_name,
        &question,
        state.clock.now(),
    );
    state
        .mail
        .enqueue(
            None,
            domain::platform::mail_queue::MailKind::SupportQuestion,
            mail,
            state.clock.now(),
        )
        .await?;
    Ok(())
}

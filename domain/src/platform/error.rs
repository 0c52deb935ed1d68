//! The one error type of the domain. Every variant has a stable machine-readable code and an HTTP
//! status; the text a client may see is [`Error::public_message`], never the internal detail.

/// Result alias used throughout the domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request could not be decoded (wrong shape, wrong encoding).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A field failed validation; `reason` is safe to show to the user.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("not signed in")]
    Unauthenticated,
    /// Sign-in failed; deliberately silent about which part was wrong.
    #[error("bad credentials")]
    BadCredentials,
    /// Signed in with a password only: a second factor (or its enrolment) comes first.
    #[error("second factor required")]
    SecondFactorRequired,
    /// A credential change needs the second factor given again within the last few minutes.
    #[error("recent second factor required")]
    ReauthenticationRequired,
    /// The account may be compromised: a new password comes before anything else.
    #[error("new password required")]
    PasswordChangeRequired,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The change conflicts with existing data; the message is safe to show.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Too many sign-ins are waiting for a password check: shed before the request times out.
    #[error("busy for {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    /// The workplace has sent as many invitations as it may in a day.
    #[error("invitation budget of {per_day} a day spent; retry in {retry_after_secs} s")]
    InvitationBudgetSpent { per_day: u32, retry_after_secs: u64 },
    /// A dependency (the database) cannot be reached right now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Stable code that clients, tests and logs may rely on. Never renamed once released.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Malformed(_) => "request.malformed",
            Error::Invalid { .. } => "input.invalid",
            Error::Unauthenticated => "auth.required",
            Error::BadCredentials => "auth.invalid_credentials",
            Error::SecondFactorRequired => "auth.mfa_required",
            Error::ReauthenticationRequired => "auth.reauthentication_required",
            Error::PasswordChangeRequired => "auth.password_change_required",
            Error::Forbidden => "auth.forbidden",
            Error::NotFound => "resource.not_found",
            Error::Conflict(_) => "resource.conflict",
            Error::RateLimited { .. } => "request.rate_limited",
            Error::Busy { .. } => "server.busy",
            Error::InvitationBudgetSpent { .. } => "mail.budget_spent",
            Error::Unavailable(_) => "service.unavailable",
            Error::Database(_) | Error::Internal(_) => "internal",
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Error::Malformed(_) => 400,
            Error::Invalid { .. } => 422,
            Error::Unauthenticated | Error::BadCredentials => 401,
            Error::SecondFactorRequired
            | Error::ReauthenticationRequired
            | Error::PasswordChangeRequired
            | Error::Forbidden => 403,
            Error::NotFound => 404,
            Error::Conflict(_) => 409,
            Error::RateLimited { .. } | Error::Busy { .. } | Error::InvitationBudgetSpent { .. } => 429,
            Error::Unavailable(_) => 503,
            Error::Database(_) | Error::Internal(_) => 500,
        }
    }

    /// A message that is safe to show to anyone: it never contains internal details.
    pub fn public_message(&self) -> String {
        match self {
            Error::Malformed(_) => "The request could not be read.".into(),
            Error::Invalid { field, reason } => format!("{field}: {reason}"),
            Error::Unauthenticated => "Please sign in.".into(),
            Error::BadCredentials => "That email address and password do not match an account.".into(),
            Error::SecondFactorRequired => "Finish signing in with your second factor first.".into(),
            Error::ReauthenticationRequired => {
                "Confirm it is you: use your second factor again to make this change.".into()
            }
            Error::PasswordChangeRequired => {
                "Your account was secured because it may have been compromised. Choose a new password with the link we have emailed you, then sign in with it."
                    .into()
            }
            Error::Forbidden => "You are not allowed to do that.".into(),
            Error::NotFound => "Not found.".into(),
            Error::Conflict(message) => message.clone(),
            Error::RateLimited { retry_after_secs } => {
                let minutes = retry_after_secs.div_ceil(60);
                if *retry_after_secs <= 90 {
                    format!("Too many attempts. Try again in {retry_after_secs} seconds.")
                } else {
                    format!("Too many attempts. Try again in {minutes} minutes.")
                }
            }
            Error::Busy { retry_after_secs } => {
                format!("Candor is checking many sign-ins right now. Try again in {retry_after_secs} seconds.")
            }
            Error::InvitationBudgetSpent {
                per_day,
                retry_after_secs,
            } => {
                let hours = retry_after_secs.div_ceil(3600);
                let when = if hours <= 1 {
                    "within the hour".to_owned()
                } else {
                    format!("in {hours} hours")
                };
                format!(
                    "Your workplace may send {per_day} invitations a day, and this would go past that. \
                     Try again {when}, or ask Candor support for a larger allowance."
                )
            }
            Error::Unavailable(_) => "The service is temporarily unavailable.".into(),
            Error::Database(_) | Error::Internal(_) => {
                "Something went wrong on our side. It has been logged.".into()
            }
        }
    }

    /// Seconds until a refused caller may retry, for the `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_secs }
            | Error::Busy { retry_after_secs }
            | Error::InvitationBudgetSpent { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Whether the error is the server's fault (logged at error level) rather than the caller's.
    pub fn is_server_fault(&self) -> bool {
        self.status() >= 500
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_public_message() {
        let err = Error::Internal("secret table layout".into());
        assert_eq!(err.code(), "internal");
        assert_eq!(err.status(), 500);
        assert!(!err.public_message().contains("secret"));
        let err = Error::Unavailable("postgres://user:pw@host".into());
        assert!(!err.public_message().contains("pw"));
    }

    #[test]
    fn caller_mistakes_are_not_server_faults() {
        for err in [
            Error::Malformed("x".into()),
            Error::Invalid {
                field: "name",
                reason: "too long".into(),
            },
            Error::NotFound,
            Error::Forbidden,
            Error::RateLimited { retry_after_secs: 3 },
        ] {
            assert!(!err.is_server_fault(), "{}", err.code());
            assert!((400..500).contains(&err.status()));
        }
    }
}

//! The error every server function returns. It crosses the wire as JSON with a stable `code`, a
//! message that is safe to show, and the HTTP status the server answers with.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} ({code})")]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub status: u16,
    /// For `request.rate_limited`: seconds until a retry is allowed (also sent as Retry-After).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(code: &str, message: &str, status: u16) -> Self {
        Self {
            code: code.to_owned(),
            message: message.to_owned(),
            status,
            retry_after_secs: None,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    /// Failures of the server-function machinery itself. On the server these are bad requests
    /// (undecodable arguments); on the client they are network or decoding failures.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                ApiError::new("request.malformed", "The request could not be read.", 400)
            }
            ServerFnErrorErr::Request(_) => ApiError::new(
                "network.unreachable",
                "Candor could not be reached. Check your connection and try again.",
                0,
            ),
            // On the server this is the request body failing to arrive whole; in the browser,
            // an answer that could not be decoded.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(detail) if detail.contains("length limit exceeded") => {
                ApiError::new(
                    "request.too_large",
                    "The request is larger than Candor accepts.",
                    413,
                )
            }
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => {
                ApiError::new("request.malformed", "The request could not be read.", 400)
            }
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Deserialization(_) => ApiError::new(
                "response.unreadable",
                "The answer from Candor could not be read. Reload the page and try again.",
                0,
            ),
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failure");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                ApiError::new(
                    "internal",
                    "Something went wrong on our side. It has been logged.",
                    500,
                )
            }
        }
    }
}

/// The one place domain errors become API errors: the code, status and safe message come from
/// [`domain::Error`]; the internal detail goes to the log only.
#[cfg(feature = "ssr")]
impl From<domain::Error> for ApiError {
    fn from(err: domain::Error) -> Self {
        if err.is_server_fault() {
            tracing::error!(code = err.code(), error = %err, "request failed");
        } else {
            tracing::debug!(code = err.code(), "request refused");
        }
        // A page's data loads run in-process: their refusals reach the page's log entry here.
        if let Some(trail) = crate::request::trail() {
            trail.note_status(err.status());
        }
        ApiError {
            code: err.code().to_owned(),
            message: err.public_message(),
            status: err.status(),
            retry_after_secs: err.retry_after_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecodable_arguments_are_a_bad_request() {
        let err = ApiError::from_server_fn_error(ServerFnErrorErr::Args("expected u32".into()));
        assert_eq!((err.code.as_str(), err.status), ("request.malformed", 400));
        assert!(!err.message.contains("u32"));
    }

    #[test]
    fn machinery_failures_hide_their_detail() {
        let err = ApiError::from_server_fn_error(ServerFnErrorErr::ServerError("db password".into()));
        assert_eq!(err.status, 500);
        assert!(!err.message.contains("password"));
    }
}

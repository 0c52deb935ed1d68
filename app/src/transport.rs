//! How connections reach this instance: set by the server's configuration, kept in the state,
//! and described to everyone on the Security page (so compiled for the browser too).

use serde::{Deserialize, Serialize};

/// How connections reach this instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransportMode {
    /// Served by Candor itself with TLS 1.3 only.
    Tls13,
    /// Plain HTTP on the loopback interface (local use; browsers treat it as a secure context).
    LoopbackHttp,
    /// Plain HTTP behind a TLS-terminating proxy that the operator declared.
    BehindTlsProxy,
}

impl TransportMode {
    pub fn describe(self) -> &'static str {
        match self {
            TransportMode::Tls13 => {
                "TLS 1.3 only, with 256-bit ciphers only (TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256), terminated by Candor; older versions and weaker ciphers are refused"
            }
            TransportMode::LoopbackHttp => "Plain HTTP on this machine's loopback interface only",
            TransportMode::BehindTlsProxy => {
                "TLS terminated by a proxy the operator declared in front of Candor"
            }
        }
    }

    /// Whether browsers are told to insist on HTTPS (HSTS).
    pub fn sends_hsts(self) -> bool {
        !matches!(self, TransportMode::LoopbackHttp)
    }
}

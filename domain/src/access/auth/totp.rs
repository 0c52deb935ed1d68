//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30-second steps, which every
//! authenticator app speaks). A code is accepted for the current step or one step either side,
//! and never for a step at or before the last one used (replay guard).

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::{Error, Result};

pub const STEP_SECONDS: u64 = 30;
const DIGITS: u8 = 6;
/// Steps either side of now that still count, for clocks that drift a little.
const SKEW_STEPS: u64 = 1;

/// A fresh 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Result<Vec<u8>> {
    Ok(Secret::generate().as_ref().to_vec())
}

fn totp(secret: &[u8], account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        .with_secret(Secret::from(secret.to_vec()))
        .with_account_name(account)
        .with_issuer(Some("Candor"))
        .build()
        .map_err(|err| Error::Internal(format!("TOTP setup: {err}")))
}

/// What an authenticator app needs: the `otpauth://` URL (for the QR code) and the secret as
/// base32 text (to type in by hand).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub otpauth_url: String,
    pub secret_base32: String,
}

pub fn enrolment(secret: &[u8], account: &str) -> Result<Enrolment> {
    let totp = totp(secret, account)?;
    let otpauth_url = totp
        .to_url()
        .map_err(|err| Error::Internal(format!("TOTP URL: {err}")))?;
    Ok(Enrolment {
        otpauth_url,
        secret_base32: Secret::from(secret.to_vec()).to_base32(),
    })
}

/// The `otpauth://` URL as an inline SVG QR code, labelled for screen readers.
pub fn qr_svg(otpauth_url: &str) -> Result<String> {
    let code = qrcode::QrCode::new(otpauth_url.as_bytes())
        .map_err(|err| Error::Internal(format!("QR code: {err}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg",
        "<svg role=\"img\" aria-label=\"QR code to scan with your authenticator app\"",
        1,
    ))
}

/// The time step a Unix time falls in.
pub fn step_of(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// Checks `code` at `now_unix`. Returns the step it matched, which the caller stores as the new
/// last-used step, or `None` (wrong, malformed, too old or a replay).
pub fn verify(secret: &[u8], code: &str, now_unix: u64, last_used_step: Option<u64>) -> Result<Option<u64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret, "verification")?;
    let now_step = step_of(now_unix);
    let first = now_step.saturating_sub(SKEW_STEPS);
    let mut matched = None;
    // Check every candidate step so the time taken does not depend on which one matched.
    for step in first..=now_step + SKEW_STEPS {
        let expected = totp.generate(step * STEP_SECONDS).to_string();
        let fresh = last_used_step.is_none_or(|last| step > last);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 key.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn code_at(unix: u64) -> String {
        totp(RFC_SECRET, "test")
            .map(|t| t.generate(unix).to_string())
            .unwrap_or_default()
    }

    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        // Appendix B lists 8 digits; the 6-digit code is its last six.
        assert_eq!(code_at(59), "287082");
        assert_eq!(code_at(1_111_111_109), "081804");
        assert_eq!(code_at(2_000_000_000), "279037");
    }

    #[test]
    fn accepts_one_step_of_drift_either_way_and_no_more() {
        let now: u64 = 1_800_000_000;
        for (offset, accepted) in [(-60i64, false), (-30, true), (0, true), (30, true), (60, false)] {
            let code = code_at(now.checked_add_signed(offset).unwrap_or_default());
            let result = verify(RFC_SECRET, &code, now, None).unwrap();
            assert_eq!(result.is_some(), accepted, "offset {offset}s");
        }
    }

    #[test]
    fn a_used_step_is_never_accepted_again() {
        let now = 1_800_000_000;
        let code = code_at(now);
        let step = verify(RFC_SECRET, &code, now, None).unwrap().unwrap();
        assert_eq!(step, step_of(now));
        assert_eq!(
            verify(RFC_SECRET, &code, now, Some(step)).unwrap(),
            None,
            "replay"
        );
        assert_eq!(
            verify(RFC_SECRET, &code, now + 10, Some(step)).unwrap(),
            None,
            "replay later in the window"
        );
        // The previous step's code is older than the last used one: refused too.
        assert_eq!(
            verify(RFC_SECRET, &code_at(now - 30), now, Some(step)).unwrap(),
            None
        );
        // The next step's code is fresh.
        assert!(verify(RFC_SECRET, &code_at(now + 30), now + 30, Some(step))
            .unwrap()
            .is_some());
    }

    #[test]
    fn malformed_codes_are_simply_wrong() {
        for code in ["", "12345", "1234567", "abcdef", "12 34 5x", "１２３４５６"] {
            assert_eq!(
                verify(RFC_SECRET, code, 1_800_000_000, None).unwrap(),
                None,
                "{code}"
            );
        }
        // Spaces as apps display them are fine.
        let code = code_at(1_800_000_000);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify(RFC_SECRET, &spaced, 1_800_000_000, None)
            .unwrap()
            .is_some());
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg = qr_svg("otpauth://totp/Candor:ada?secret=ABC&issuer=Candor").unwrap();
        assert!(svg.starts_with("<svg role=\"img\""), "{}", &svg[..60]);
        assert!(!svg.contains("<?xml"));
    }

    #[test]
    fn enrolment_gives_an_otpauth_url_and_typeable_secret() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 20);
        let enrolment = enrolment(&secret, "ada@example.com").unwrap();
        assert!(
            enrolment
                .otpauth_url
                .starts_with("otpauth://totp/Candor:ada%40example.com?"),
            "{}",
            enrolment.otpauth_url
        );
        assert!(enrolment.otpauth_url.contains("issuer=Candor"));
        assert_eq!(enrolment.secret_base32.len(), 32);
    }
}

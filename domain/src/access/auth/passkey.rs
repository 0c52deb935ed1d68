//! Passkeys and security keys through WebAuthn (webauthn-rs). The relying party is Candor's
//! public address: its host is the RP id and its origin the only one accepted, so an assertion
//! made for another site never verifies here.
//!
//! Options travel to the browser and credentials come back as the W3C JSON forms
//! (`PublicKeyCredential.parseCreationOptionsFromJSON` / `toJSON()`); the ceremony state stays
//! on the server, serialised between the two requests.

use url::Url;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, Webauthn, WebauthnBuilder,
};

use crate::{Error, Result};

/// Candor as a WebAuthn relying party. `None` inside when the public address has no domain name
/// (an IP address): browsers refuse passkeys there, so Candor offers the authenticator app only.
pub struct RelyingParty {
    webauthn: Option<Webauthn>,
}

/// Options for the browser (JSON of `publicKey`) and the state the server keeps.
pub struct Challenge {
    pub options_json: String,
    pub state_json: String,
}

/// A verified new credential, ready to store.
pub struct NewPasskey {
    pub credential_id: String,
    pub credential_json: String,
}

fn rejected(detail: impl std::fmt::Display) -> Error {
    tracing::info!(%detail, "passkey ceremony refused");
    Error::Invalid {
        field: "passkey",
        reason: "The passkey could not be verified. Try again, or use another way to sign in.".into(),
    }
}

fn internal(detail: impl std::fmt::Display) -> Error {
    Error::Internal(format!("passkey: {detail}"))
}

/// base64url without padding: how credential ids are stored and compared.
pub fn credential_id_text(raw: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("available", &self.available())
            .finish()
    }
}

impl RelyingParty {
    pub fn new(public_url: &Url) -> Self {
        let webauthn = public_url.domain().and_then(|host| {
            WebauthnBuilder::new(host, public_url)
                .and_then(|builder| builder.rp_name("Candor").build())
                .map_err(|err| tracing::warn!(%err, "passkeys unavailable for this public address"))
                .ok()
        });
        Self { webauthn }
    }

    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn> {
        self.webauthn.as_ref().ok_or_else(|| Error::Invalid {
            field: "passkey",
            reason: "Passkeys need Candor to be reached by a domain name. Use an authenticator app.".into(),
        })
    }

    /// Starts registering a passkey for `user_handle` (the account id, which holds no personal
    /// data). Existing credentials are excluded so one authenticator is not added twice.
    pub fn start_registration(
        &self,
        user_handle: Uuid,
        user_name: &str,
        display_name: &str,
        existing: &[Passkey],
    ) -> Result<Challenge> {
        let exclude = existing.iter().map(|p| p.cred_id().clone()).collect::<Vec<_>>();
        let (options, state) = self
            .webauthn()?
            .start_passkey_registration(user_handle, user_name, display_name, Some(exclude))
            .map_err(internal)?;
        let mut options = serde_json::to_value(options.public_key).map_err(internal)?;
        // Ask for a discoverable credential where the authenticator can keep one, so the passkey
        // also signs in without typing an email address.
        if let Some(selection) = options
            .get_mut("authenticatorSelection")
            .and_then(|value| value.as_object_mut())
        {
            selection.insert("residentKey".into(), "preferred".into());
        }
        Ok(Challenge {
            options_json: options.to_string(),
            state_json: serde_json::to_string(&state).map_err(internal)?,
        })
    }

    pub fn finish_registration(&self, state_json: &str, response_json: &str) -> Result<NewPasskey> {
        let state: PasskeyRegistration = serde_json::from_str(state_json).map_err(internal)?;
        let response: RegisterPublicKeyCredential = serde_json::from_str(response_json).map_err(rejected)?;
        let passkey = self
            .webauthn()?
            .finish_passkey_registration(&response, &state)
            .map_err(rejected)?;
        Ok(NewPasskey {
            credential_id: credential_id_text(passkey.cred_id()),
            credential_json: serde_json::to_string(&passkey).map_err(internal)?,
        })
    }

    /// Starts proving possession of one of `passkeys` (second factor, or confirming a change).
    pub fn start_authentication(&self, passkeys: &[Passkey]) -> Result<Challenge> {
        if passkeys.is_empty() {
            return Err(Error::Invalid {
                field: "passkey",
                reason: "This account has no passkey. Use your authenticator app or a recovery code.".into(),
            });
        }
        let (options, state) = self
            .webauthn()?
            .start_passkey_authentication(passkeys)
            .map_err(internal)?;
        Ok(Challenge {
            options_json: serde_json::to_value(options.public_key)
                .map_err(internal)?
                .to_string(),
            state_json: serde_json::to_string(&state).map_err(internal)?,
        })
    }

    /// Verifies an assertion; returns the credential id used and the updated credential when
    /// its counter or backup state changed.
    pub fn finish_authentication(
        &self,
        state_json: &str,
        response_json: &str,
        passkeys: &[Passkey],
    ) -> Result<(String, Option<Passkey>)> {
        let state: PasskeyAuthentication = serde_json::from_str(state_json).map_err(internal)?;
        let response: PublicKeyCredential = serde_json::from_str(response_json).map_err(rejected)?;
        let result = self
            .webauthn()?
            .finish_passkey_authentication(&response, &state)
            .map_err(rejected)?;
        Ok(updated_credential(&result, passkeys))
    }

    /// Starts a sign-in where the authenticator names the account (a discoverable credential).
    pub fn start_discoverable(&self) -> Result<Challenge> {
        let (options, state) = self
            .webauthn()?
            .start_discoverable_authentication()
            .map_err(internal)?;
        Ok(Challenge {
            options_json: serde_json::to_value(options.public_key)
                .map_err(internal)?
                .to_string(),
            state_json: serde_json::to_string(&state).map_err(internal)?,
        })
    }

    /// The account and credential a discoverable assertion claims, before it is verified.
    pub fn identify(&self, response_json: &str) -> Result<(Uuid, String)> {
        let response: PublicKeyCredential = serde_json::from_str(response_json).map_err(rejected)?;
        let (user, credential) = self
            .webauthn()?
            .identify_discoverable_authentication(&response)
            .map_err(rejected)?;
        Ok((user, credential_id_text(credential)))
    }

    /// Verifies a discoverable assertion against the one credential [`Self::identify`] named.
    pub fn finish_discoverable(
        &self,
        state_json: &str,
        response_json: &str,
        passkey: &Passkey,
    ) -> Result<Option<Passkey>> {
        let state: DiscoverableAuthentication = serde_json::from_str(state_json).map_err(internal)?;
        let response: PublicKeyCredential = serde_json::from_str(response_json).map_err(rejected)?;
        let result = self
            .webauthn()?
            .finish_discoverable_authentication_v2(&response, state, passkey)
            .map_err(rejected)?;
        Ok(updated_credential(&result, std::slice::from_ref(passkey)).1)
    }
}

fn updated_credential(
    result: &webauthn_rs::prelude::AuthenticationResult,
    passkeys: &[Passkey],
) -> (String, Option<Passkey>) {
    let used = credential_id_text(result.cred_id());
    let updated = passkeys
        .iter()
        .find(|p| p.cred_id() == result.cred_id())
        .and_then(|p| {
            let mut p = p.clone();
            (p.update_credential(result) == Some(true)).then_some(p)
        });
    (used, updated)
}

/// Reads a stored credential.
pub fn parse_stored(credential_json: &str) -> Result<Passkey> {
    serde_json::from_str(credential_json).map_err(internal)
}

pub fn store(passkey: &Passkey) -> Result<String> {
    serde_json::to_string(passkey).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkeys_need_a_domain_name() {
        let by_ip = RelyingParty::new(&Url::parse("http://127.0.0.1:3000").unwrap());
        assert!(!by_ip.available());
        let by_name = RelyingParty::new(&Url::parse("http://localhost:3000").unwrap());
        assert!(by_name.available());
    }

    #[test]
    fn registration_options_ask_for_a_discoverable_credential_with_verification() {
        let rp = RelyingParty::new(&Url::parse("https://candor.example").unwrap());
        let challenge = rp
            .start_registration(Uuid::new_v4(), "ada@example.com", "Ada", &[])
            .unwrap();
        let options: serde_json::Value = serde_json::from_str(&challenge.options_json).unwrap();
        assert_eq!(options["rp"]["id"], "candor.example");
        assert_eq!(options["authenticatorSelection"]["residentKey"], "preferred");
        assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
        assert!(options["challenge"].as_str().is_some_and(|c| c.len() >= 43));
    }

    #[test]
    fn garbage_responses_are_refused_with_a_clear_error() {
        let rp = RelyingParty::new(&Url::parse("https://candor.example").unwrap());
        let challenge = rp
            .start_registration(Uuid::new_v4(), "ada@example.com", "Ada", &[])
            .unwrap();
        for response in [
            "",
            "{}",
            "not json",
            r#"{"id":"x","rawId":"eA","type":"public-key","response":{}}"#,
        ] {
            let err = rp
                .finish_registration(&challenge.state_json, response)
                .err()
                .unwrap();
            assert_eq!(err.code(), "input.invalid", "{response}");
        }
        assert_eq!(rp.identify("{}").err().unwrap().code(), "input.invalid");
    }
}

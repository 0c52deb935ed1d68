//! A sign-in context: the network a request came from (coarsened to a /24 or /48 prefix, which
//! says roughly where without naming the exact address) and the browser and operating system
//! family from the User-Agent.

use std::net::IpAddr;

use crate::platform::ids::{UserId, WorkplaceId};

/// Where a session starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInContext {
    pub network_prefix: String,
    pub device: String,
}

/// The network prefix of an address: /24 for IPv4, /48 for IPv6.
pub fn network_prefix(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// Truncated keyed hashes (16 hex characters) for a network prefix and an account name: equal
/// inputs give equal tags within this instance, and nothing else can be read from one.
pub fn sign_in_tags(
    keyring: &crate::platform::crypto::Keyring,
    network_prefix: &str,
    email: Option<&str>,
) -> (String, Option<String>) {
    let network = keyring.pseudonym("audit/network", network_prefix.as_bytes());
    let account =
        email.map(|email| keyring.pseudonym("audit/account", email.trim().to_lowercase().as_bytes()));
    (
        network.chars().take(16).collect(),
        account.map(|tag| tag.chars().take(16).collect()),
    )
}

/// Prepares a sign-in's trail: the network and the typed account name as tags, and — when the
/// name belongs to an account — that account's workplace, so its auditors see attempts on it.
/// Returns the account it names, if any. Nothing here reaches the person signing in.
pub async fn note_sign_in(
    db: &crate::Database,
    trail: &crate::platform::audit::Trail,
    address: std::net::IpAddr,
    email: &str,
) -> crate::Result<Option<(UserId, WorkplaceId)>> {
    let keyring = db.keyring()?;
    let normalised = email.trim().to_lowercase();
    let (network, account) = sign_in_tags(keyring, &network_prefix(address), Some(&normalised));
    trail.tag(network, account);
    let Some(user) =
        crate::platform::user_fields::find_by_email(keyring, db.connection(), &normalised).await?
    else {
        return Ok(None);
    };
    let workplace = WorkplaceId::from_uuid(user.workplace_id);
    trail.concerns(workplace);
    trail.touch(crate::platform::audit::EntityType::Account, [user.id]);
    Ok(Some((UserId::from_uuid(user.id), workplace)))
}

/// "Firefox on Windows", "Chrome on Android", …: enough to recognise a device, nothing more.
pub fn device_label(user_agent: &str) -> String {
    let browser = if user_agent.contains("Edg/") {
        "Edge"
    } else if user_agent.contains("Firefox/") {
        "Firefox"
    } else if user_agent.contains("Chrome/") || user_agent.contains("Chromium/") {
        "Chrome"
    } else if user_agent.contains("Safari/") {
        "Safari"
    } else {
        "Unknown browser"
    };
    let system = if user_agent.contains("Android") {
        "Android"
    } else if user_agent.contains("iPhone") || user_agent.contains("iPad") {
        "iOS"
    } else if user_agent.contains("Windows") {
        "Windows"
    } else if user_agent.contains("Mac OS X") {
        "macOS"
    } else if user_agent.contains("Linux") {
        "Linux"
    } else {
        "an unknown system"
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_hide_the_host_part() {
        assert_eq!(
            network_prefix("203.0.113.77".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
            "203.0.113.0/24"
        );
        let v6: IpAddr = "2001:db8:abcd:12::1".parse().unwrap_or(IpAddr::from([0u16; 8]));
        assert_eq!(network_prefix(v6), "2001:db8:abcd::/48");
    }

    #[test]
    fn devices_are_named_by_family() {
        let chrome_linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(device_label(chrome_linux), "Chrome on Linux");
        let firefox_windows =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0";
        assert_eq!(device_label(firefox_windows), "Firefox on Windows");
        let safari_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_label(safari_iphone), "Safari on iOS");
        assert_eq!(device_label(""), "Unknown browser on an unknown system");
    }
}

//! Mail about accounts: confirming an address, sign-ins, passwords.

use crate::platform::mail::Mail;

pub fn verify_email(to: &str, name: &str, link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Confirm your email address for Candor".to_owned(),
        body: format!(
            "Hello {name},\n\nplease confirm your email address to finish creating your Candor workplace:\n\n{link}\n\n\
             The link works once and expires in 24 hours. If you did not sign up, ignore this message: \
             no account becomes usable without it.\n\n— Candor\n"
        ),
    }
}

pub fn new_sign_in(to: &str, device: &str, network: &str, at: &str, sessions_link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "New sign-in to your Candor account".to_owned(),
        body: format!(
            "Hello,\n\nyour Candor account was just signed in from a device or network it has not used before:\n\n\
             When: {at}\nDevice: {device}\nNetwork: {network}\n\nIf this was you, there is nothing to do. If not, \
             sign that session out and change your password:\n\n{sessions_link}\n\n— Candor\n"
        ),
    }
}

/// To both the old and the new address after an HR admin corrected someone's address.
pub fn sign_in_address_changed(to: &str, old: &str, new: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Your Candor sign-in address was changed".to_owned(),
        body: format!(
            "Hello,\n\nan HR admin of your workplace corrected the address you sign in to Candor with, \
             from {old} to {new}. Sign in with the new address from now on; your password and second \
             factors stay as they are.\n\nIf you did not expect this, tell your HR team.\n\n— Candor\n"
        ),
    }
}

pub fn reset_password(to: &str, link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Reset your Candor password".to_owned(),
        body: format!(
            "Hello,\n\nsomeone asked to reset the password of the Candor account with this address. To choose a \
             new password, open:\n\n{link}\n\nThe link works once and expires in 30 minutes. Signing in \
             afterwards still needs your authenticator app or a recovery code. If you did not ask, ignore \
             this message: your password stays as it is.\n\n— Candor\n"
        ),
    }
}

pub fn already_registered(to: &str, sign_in_link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Someone tried to sign up to Candor with your address".to_owned(),
        body: format!(
            "Hello,\n\nsomeone tried to create a Candor workplace with this email address, which already has an \
             account. If it was you, sign in instead:\n\n{sign_in_link}\n\nIf it was not you, nothing has \
             changed and you need not do anything.\n\n— Candor\n"
        ),
    }
}

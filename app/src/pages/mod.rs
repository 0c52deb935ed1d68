pub mod authenticator;
pub mod home;
pub mod landing;
pub mod login;
pub mod not_found;
pub mod security;
pub mod signup;
pub mod verify_email;

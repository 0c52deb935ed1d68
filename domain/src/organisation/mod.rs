//! A workplace's shape: departments, the people in them, imports and invitations.

pub mod departments;
pub mod directory;
pub mod invitation_budget;
pub mod messages;
pub mod people;
pub mod people_import;

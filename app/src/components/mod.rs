pub mod conversation;
pub mod factors;
pub mod form;
pub mod layout;

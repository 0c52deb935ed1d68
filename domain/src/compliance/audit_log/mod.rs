//! Reading the access log: the review page's search, export and settings, and the monitor that
//! raises alerts from it.

pub mod monitor;
pub mod review;

//! The token endpoint's grants, one module each.

pub(crate) mod client_credentials;
pub(crate) mod code;
pub(crate) mod device;
pub(crate) mod refresh;

//! Static analyses of a loaded ruleset: facts Wazuh never checks but a
//! ruleset author wants to know (used by `logtest check` and by coverage,
//! which does not count rules that can never fire).

pub mod check;
pub mod decoders;
pub mod patterns;
pub mod reach;

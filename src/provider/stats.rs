//! What the provider reports to the metrics endpoint: registrations by state, transactions
//! and retransmissions (docs/operations.md).

use std::collections::BTreeMap;

use crate::sip::transaction::Retransmissions;

use super::SipProvider;

/// The provider's gauges and counters now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderSnapshot {
    /// Registrations of the configured lines by state (`off` for lines that do not register).
    pub registrations: BTreeMap<&'static str, u64>,
    pub transactions: u64,
    pub calls: u64,
    pub retransmissions: Retransmissions,
    /// What SIP admission refused (floods, untrusted sources, limits, overload).
    pub admission: super::AdmissionStats,
}

impl SipProvider {
    pub fn snapshot(&self) -> ProviderSnapshot {
        let mut registrations = BTreeMap::new();
        let lines = self.lines.iter().zip(&self.registrations);
        for (_, registration) in lines.filter(|(line, _)| !line.removed) {
            *registrations.entry(registration.state_name()).or_default() += 1;
        }
        ProviderSnapshot {
            registrations,
            transactions: self.txl.len() as u64,
            calls: self.calls.len() as u64,
            retransmissions: self.txl.retransmissions(),
            admission: self.admission_stats(),
        }
    }
}

//! The bench's table: one row per step.

use std::time::Duration;

/// One row of the table.
pub struct Row {
    pub phase: &'static str,
    pub rate: u64,
    pub calls: u64,
    pub ok: bool,
    /// CPU time of the process measured in this phase (the gateway; SIPp's uac for the reference).
    pub cpu: Duration,
    pub peak_rss_mb: f64,
    pub detail: String,
}

pub fn print_header() {
    println!(
        "{:<13} {:>6} {:>8} {:>6} {:>8} {:>7} {:>9}  detail",
        "phase", "cps", "calls", "result", "cpu s", "us/call", "gw rss MB"
    );
}

pub fn print_row(r: &Row) {
    println!(
        "{:<13} {:>6} {:>8} {:>6} {:>8.2} {:>7} {:>9.1}  {}",
        r.phase,
        r.rate,
        r.calls,
        if r.ok { "held" } else { "FAIL" },
        r.cpu.as_secs_f64(),
        (r.cpu.as_micros() as u64).checked_div(r.calls).unwrap_or(0),
        r.peak_rss_mb,
        r.detail
    );
}

//! What /proc tells about a process's sockets (shared by the tests and the load bench).

/// Whether a UDP socket is bound to `port` in the network namespace of process `pid` (its
/// /proc/PID/net/udp and udp6 tables).
pub fn udp_port_bound(pid: u32, port: u16) -> bool {
    let needle = format!(":{port:04X}");
    ["udp", "udp6"].iter().any(|table| {
        let table = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        table.lines().skip(1).any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|local| local.ends_with(&needle))
        })
    })
}

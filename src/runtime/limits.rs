//! Process limits a server raises at start-up: the open-file limit (every TCP connection, API
//! client and RTP port pair is a descriptor).

/// Raises RLIMIT_NOFILE's soft limit to its hard limit, as servers do.
pub fn raise_open_file_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        if limit.rlim_cur < limit.rlim_max {
            let wanted = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                tracing::debug!(limit = limit.rlim_max, "raised the open-file limit");
            }
        }
    }
}

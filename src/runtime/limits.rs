//! Process settings a server makes at start-up: the open-file limit (every TCP connection, API
//! client and RTP port pair is a descriptor) and transparent huge pages (off, for latency).

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

/// Turns transparent huge pages off for this process (`prctl(PR_SET_THP_DISABLE)`, Linux 3.15+),
/// as Redis does by default: the allocator asks for huge pages (`MADV_HUGEPAGE`) on its arenas,
/// and the first touch of each 2 MiB page zeroes it inside the core's turn, a stall of several
/// milliseconds under load (docs/performance.md, "Huge pages"). With 4 KiB pages the same
/// memory is faulted in a page at a time, and RSS counts only the pages used.
pub fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes a flag of this process.
    let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if rc != 0 {
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            "cannot turn transparent huge pages off"
        );
    }
}

#[cfg(test)]
mod tests {
    /// `PR_GET_THP_DISABLE` reads the flag back. Run in a child, since the flag is the process's
    /// and would change what other tests measure.
    #[test]
    fn huge_pages_are_turned_off_for_the_process() {
        // SAFETY: fork in a test; the child only calls async-signal-safe prctl and _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            super::disable_transparent_huge_pages();
            // SAFETY: reads a flag of this process.
            let off = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
            // SAFETY: ends the child at once, running no destructors of the parent's state.
            unsafe { libc::_exit(if off == 1 { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }
}

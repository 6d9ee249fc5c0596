//! The USEEVENT `hEvent`: a Linux eventfd kept readable exactly while a message can be fetched
//! with lineGetMessage/phoneGetMessage (level semantics, like TAPI's event).

use std::io;

/// An eventfd owned by one app; closed on drop (lineShutdown).
#[derive(Debug)]
pub struct EventFd(i32);

impl EventFd {
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(EventFd(fd))
    }

    pub fn fd(&self) -> i32 {
        self.0
    }

    /// Makes the descriptor readable iff `ready` (also repairs a counter the app read).
    pub fn set(&self, ready: bool) {
        let mut value: u64 = 0;
        // SAFETY: 8-byte reads and writes on our own non-blocking eventfd.
        unsafe {
            libc::read(self.0, (&mut value as *mut u64).cast(), 8);
            if ready {
                let one: u64 = 1;
                libc::write(self.0, (&one as *const u64).cast(), 8);
            }
        }
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe {
            libc::close(self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(fd: i32) -> bool {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    }

    #[test]
    fn level_follows_set() {
        let e = EventFd::new().unwrap();
        assert!(!readable(e.fd()));
        e.set(true);
        e.set(true);
        assert!(readable(e.fd()));
        e.set(false);
        assert!(!readable(e.fd()));
    }
}

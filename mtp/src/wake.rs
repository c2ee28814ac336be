//! Waiting on a socket *and* on the owner at once, without async and without busy polling.
//!
//! A link thread that owns a socket (STOMP, WebSocket, possibly wrapped in rustls) must react
//! both to bytes from the network and to Records its owner wants sent. [`pair`] gives a
//! [`Waker`] (kept by the owner's handle, cheap to clone, safe from any thread) and a
//! [`WakeReceiver`] (kept by the link thread); [`wait`] blocks on `poll(2)` until the socket is
//! readable, the waker was used, or the timeout passes. The link then drains its outgoing queue
//! and reads its socket in non-blocking mode until `WouldBlock`.
//!
//! Contract for TLS users: rustls may hold decrypted bytes after a read, which `poll` cannot
//! see; read until `WouldBlock` before calling [`wait`] again.
//!
//! A link whose socket refused part of a write (`WouldBlock`) uses [`wait_io`] with
//! `want_write` so that it also wakes when the socket can take more bytes.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Wakes a link thread blocked in [`wait`]. Clone freely.
#[derive(Clone, Debug)]
pub struct Waker(Arc<UnixStream>);

/// The link thread's side of a [`Waker`].
#[derive(Debug)]
pub struct WakeReceiver(UnixStream);

/// A connected waker pair.
pub fn pair() -> io::Result<(Waker, WakeReceiver)> {
    let (tx, rx) = UnixStream::pair()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    Ok((Waker(Arc::new(tx)), WakeReceiver(rx)))
}

impl Waker {
    /// Makes the next (or current) [`wait`] return. Never blocks: when the pipe is full a wake
    /// is already pending, which is all that matters.
    pub fn wake(&self) {
        let _ = (&*self.0).write(&[1]);
    }
}

impl WakeReceiver {
    /// Forgets the wakes received so far.
    fn drain(&self) {
        let mut buf = [0u8; 64];
        // Non-blocking: ends with a short read or WouldBlock once empty (bounded by the pipe's
        // capacity).
        while let Ok(n) = (&self.0).read(&mut buf) {
            if n < buf.len() {
                break;
            }
        }
    }
}

/// What ended a [`wait`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    /// The socket is readable (or closed, or in error: a read will tell).
    pub socket: bool,
    /// The [`Waker`] was used (the wakes are consumed).
    pub woken: bool,
    /// The socket can take more bytes (only reported by [`wait_io`] with `want_write`).
    pub writable: bool,
}

/// Blocks until `socket` is readable, `wake` is woken, or `timeout` passes (`None`: no
/// timeout). When every [`Waker`] has been dropped, every call reports `woken` at once: the
/// link finds its owner's queue disconnected and must stop. Timeouts longer than `i32::MAX` milliseconds are shortened to that; an
/// interrupted call returns an empty [`Ready`].
pub fn wait(
    socket: &impl AsFd,
    wake: &WakeReceiver,
    timeout: Option<Duration>,
) -> io::Result<Ready> {
    wait_io(socket, wake, timeout, false)
}

/// [`wait`], and when `want_write` is set, also until `socket` is writable (reported in
/// [`Ready::writable`]; a socket in error reports `socket` as well, so the next read tells).
pub fn wait_io(
    socket: &impl AsFd,
    wake: &WakeReceiver,
    timeout: Option<Duration>,
    want_write: bool,
) -> io::Result<Ready> {
    let timeout = match timeout {
        None => PollTimeout::NONE,
        Some(d) => PollTimeout::try_from(d).unwrap_or(PollTimeout::MAX),
    };
    let any = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
    let asked = if want_write { any | PollFlags::POLLOUT } else { any };
    let mut fds =
        [PollFd::new(socket.as_fd(), asked), PollFd::new(wake.0.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, timeout) {
        Ok(_) => {}
        Err(nix::errno::Errno::EINTR) => return Ok(Ready::default()),
        Err(e) => return Err(io::Error::from(e)),
    }
    let fired = |fd: &PollFd| fd.revents().is_some_and(|r| r.intersects(any));
    let writable = want_write && fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLOUT));
    let ready = Ready { socket: fired(&fds[0]), woken: fired(&fds[1]), writable };
    if ready.woken {
        wake.drain();
    }
    Ok(ready)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::net::{TcpListener, TcpStream};

    fn connected() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    #[test]
    fn times_out_when_nothing_happens() {
        let (a, _b) = connected();
        let (_w, r) = pair().unwrap();
        let ready = wait(&a, &r, Some(Duration::from_millis(10))).unwrap();
        assert_eq!(ready, Ready::default());
    }

    #[test]
    fn a_wake_from_another_thread_ends_the_wait_once() {
        let (a, _b) = connected();
        let (w, r) = pair().unwrap();
        let keep = w.clone();
        let t = std::thread::spawn(move || {
            for _ in 0..1000 {
                w.wake();
            }
        });
        let ready = wait(&a, &r, Some(Duration::from_secs(10))).unwrap();
        assert!(ready.woken && !ready.socket);
        t.join().unwrap();
        // Wakes coalesce: after draining, a later wait sees nothing new.
        let _ = wait(&a, &r, Some(Duration::from_millis(1))).unwrap();
        let ready = wait(&a, &r, Some(Duration::from_millis(10))).unwrap();
        assert!(!ready.woken);
        // Once every Waker is gone, each wait reports a wake: the link checks its queue, finds
        // the owner gone, and stops.
        drop(keep);
        assert!(wait(&a, &r, Some(Duration::from_secs(10))).unwrap().woken);
    }

    #[test]
    fn write_interest_reports_a_writable_socket_only_when_asked() {
        let (a, _b) = connected();
        let (_w, r) = pair().unwrap();
        let ready = wait_io(&a, &r, Some(Duration::from_secs(10)), true).unwrap();
        assert!(ready.writable && !ready.socket && !ready.woken);
        let ready = wait_io(&a, &r, Some(Duration::from_millis(10)), false).unwrap();
        assert_eq!(ready, Ready::default());
    }

    #[test]
    fn readable_socket_and_peer_close_end_the_wait() {
        let (a, mut b) = connected();
        let (_w, r) = pair().unwrap();
        b.write_all(b"x").unwrap();
        let ready = wait(&a, &r, Some(Duration::from_secs(10))).unwrap();
        assert!(ready.socket && !ready.woken);
        let (c, d) = connected();
        drop(d);
        assert!(wait(&c, &r, Some(Duration::from_secs(10))).unwrap().socket);
    }
}

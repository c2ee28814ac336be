//! The byte stream under a WebSocket session: a non-blocking TCP socket, optionally wrapped in
//! rustls (client or server side), counting the bytes it hands to the socket so that the
//! session can tell a slow peer from a dead one.
//!
//! Owns no WebSocket logic; never blocks (every call may return `WouldBlock`).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, BorrowedFd};

/// A session's transport.
#[derive(Debug)]
pub(crate) enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS as a client.
    #[cfg(feature = "tls")]
    TlsClient(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    /// TLS as a server.
    #[cfg(feature = "tls")]
    TlsServer(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

/// A [`Stream`] and the count of bytes written so far.
#[derive(Debug)]
pub(crate) struct Io {
    stream: Stream,
    written: u64,
}

impl Io {
    /// Wraps a stream whose socket is already non-blocking.
    pub(crate) fn new(stream: Stream) -> Io {
        Io { stream, written: 0 }
    }

    /// The TCP socket under any TLS.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match &self.stream {
            Stream::Plain(s) => s,
            #[cfg(feature = "tls")]
            Stream::TlsClient(s) => &s.sock,
            #[cfg(feature = "tls")]
            Stream::TlsServer(s) => &s.sock,
        }
    }

    /// The Endpoint IDs in the subjectAltName of the certificate the TLS peer presented
    /// (see [`crate::tls::endpoint_ids`]); `None` without TLS or without a peer certificate.
    pub(crate) fn peer_endpoint_ids(&self) -> Option<Vec<String>> {
        let certs = match &self.stream {
            Stream::Plain(_) => None,
            #[cfg(feature = "tls")]
            Stream::TlsClient(s) => s.conn.peer_certificates(),
            #[cfg(feature = "tls")]
            Stream::TlsServer(s) => s.conn.peer_certificates(),
        };
        #[cfg(feature = "tls")]
        return certs.and_then(|c| c.first()).map(crate::tls::endpoint_ids);
        #[cfg(not(feature = "tls"))]
        certs
    }

    /// Bytes accepted by the stream since it was made (plaintext for TLS, which takes more only
    /// once its previous records left on the socket): grows whenever a write makes progress.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Whether decrypted bytes wait inside rustls, where `poll` cannot see them (the session
    /// must read again before waiting). Always `false` for plain TCP.
    pub(crate) fn has_buffered_input(&mut self) -> bool {
        match &mut self.stream {
            Stream::Plain(_) => false,
            #[cfg(feature = "tls")]
            Stream::TlsClient(s) => buffered(&mut s.conn),
            #[cfg(feature = "tls")]
            Stream::TlsServer(s) => buffered(&mut s.conn),
        }
    }

    /// Whether TLS has bytes to send that the socket did not take yet (handshake messages,
    /// records): the wait must include writability.
    pub(crate) fn wants_write(&self) -> bool {
        match &self.stream {
            Stream::Plain(_) => false,
            #[cfg(feature = "tls")]
            Stream::TlsClient(s) => s.conn.wants_write(),
            #[cfg(feature = "tls")]
            Stream::TlsServer(s) => s.conn.wants_write(),
        }
    }

    /// Sends TLS close_notify (best effort) and shuts the socket down.
    pub(crate) fn shutdown(&mut self) {
        match &mut self.stream {
            Stream::Plain(_) => {}
            #[cfg(feature = "tls")]
            Stream::TlsClient(s) => {
                s.conn.send_close_notify();
                let _ = s.conn.write_tls(&mut s.sock);
            }
            #[cfg(feature = "tls")]
            Stream::TlsServer(s) => {
                s.conn.send_close_notify();
                let _ = s.conn.write_tls(&mut s.sock);
            }
        }
        let _ = self.tcp().shutdown(std::net::Shutdown::Both);
    }
}

/// Whether rustls holds plaintext not read yet. Processing pending packets is idempotent; an
/// error is reported as `true` so that the next read surfaces it.
#[cfg(feature = "tls")]
fn buffered<S: rustls::SideData>(
    conn: &mut (impl std::ops::DerefMut<Target = rustls::ConnectionCommon<S>> + ?Sized),
) -> bool {
    conn.process_new_packets().map(|s| s.plaintext_bytes_to_read() > 0).unwrap_or(true)
}

impl AsFd for Io {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.tcp().as_fd()
    }
}

impl Read for Io {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.stream {
            Stream::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::TlsClient(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::TlsServer(s) => s.read(buf),
        }
    }
}

impl Write for Io {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.stream {
            Stream::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::TlsClient(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::TlsServer(s) => s.write(buf),
        }?;
        self.written = self.written.wrapping_add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.stream {
            Stream::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::TlsClient(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::TlsServer(s) => s.flush(),
        }
    }
}

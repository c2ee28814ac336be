//! The byte stream under a client link's session (STOMP, MQTT): TCP with TCP_NODELAY,
//! optionally wrapped in a rustls client connection, connected with a timeout and then left
//! non-blocking for [`crate::wake::wait`].
//!
//! Owns resolving, connecting, the TLS handshake, non-blocking reads, blocking writes of a
//! session's output and the polite close. Never frames or interprets bytes (the sessions do).
//!
//! Writes are blocking (with [`WRITE_TIMEOUT`] per system call): the socket is switched to
//! blocking mode for the duration of one write of the session's output.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The limit on establishing TCP (per resolved address) and on the TLS handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The limit on one blocked write system call.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The byte stream under a session.
pub(crate) enum Transport {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Transport {
    /// The TCP socket under any TLS (what [`crate::wake::wait`] polls).
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(s) => s,
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.get_ref(),
        }
    }

    /// Whether this is plain TCP: a read shorter than the buffer then means the socket is
    /// drained (with TLS, decrypted bytes may wait inside rustls).
    #[cfg(feature = "mqtt")]
    pub(crate) fn is_plain(&self) -> bool {
        matches!(self, Transport::Plain(_))
    }

    /// Reads without blocking (`WouldBlock` when nothing is there).
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.read(buf),
        }
    }

    /// Writes what the socket takes now without blocking; returns how many of `bytes` were
    /// taken (with TLS: taken by rustls, whose records may still wait, see
    /// [`Transport::has_pending`]).
    #[cfg(feature = "mqtt")]
    pub(crate) fn try_write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(bytes),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => {
                let n = s.conn.writer().write(bytes)?;
                while s.conn.wants_write() {
                    match s.conn.write_tls(&mut s.sock) {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                Ok(n)
            }
        }
    }

    /// Whether TLS records wait inside rustls for the socket (a [`Transport::try_write`] of
    /// nothing sends them). Always `false` for plain TCP.
    #[cfg(feature = "mqtt")]
    pub(crate) fn has_pending(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.conn.wants_write(),
        }
    }

    /// Writes everything, blocking (each system call bounded by [`WRITE_TIMEOUT`]).
    #[cfg(feature = "stomp")]
    // Without TLS, `Plain` is the only variant.
    #[allow(irrefutable_let_patterns)]
    pub(crate) fn write_blocking(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        if let Transport::Plain(s) = self {
            // Most writes fit in the socket buffer: try without switching modes first.
            match s.write(bytes) {
                Ok(n) if n == bytes.len() => return Ok(()),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.tcp().set_nonblocking(false)?;
        let result = match self {
            Transport::Plain(s) => s.write_all(bytes),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.write_all(bytes).and_then(|()| s.flush()),
        };
        self.tcp().set_nonblocking(true)?;
        result
    }

    /// Ends the connection: TLS close_notify when there is TLS, then a TCP shutdown.
    pub(crate) fn close(&mut self) {
        #[cfg(feature = "tls")]
        if let Transport::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.sock.set_nonblocking(false);
            let _ = s.conn.complete_io(&mut s.sock);
        }
        let _ = self.tcp().shutdown(Shutdown::Both);
    }
}

/// TLS settings of a connection, `None` for plain TCP (always `None` without the `tls`
/// feature).
#[cfg(feature = "tls")]
pub(crate) type TlsSettings<'a> = Option<&'a crate::tls::ClientTls>;
/// TLS settings of a connection, `None` for plain TCP (always `None` without the `tls`
/// feature).
#[cfg(not(feature = "tls"))]
pub(crate) type TlsSettings<'a> = Option<&'a std::convert::Infallible>;

/// Opens TCP (and TLS) to `host:port`, ready for a session: non-blocking, TCP_NODELAY.
pub(crate) fn connect(host: &str, port: u16, tls: TlsSettings<'_>) -> Result<Transport, String> {
    let addrs = (host, port).to_socket_addrs().map_err(|e| format!("{host}: {e}"))?;
    let mut last = format!("{host}: no address");
    let tcp = addrs
        .into_iter()
        .find_map(|a| {
            TcpStream::connect_timeout(&a, CONNECT_TIMEOUT)
                .map_err(|e| last = format!("{a}: {e}"))
                .ok()
        })
        .ok_or(last)?;
    let setup = |s: &TcpStream| {
        s.set_nodelay(true)?;
        s.set_write_timeout(Some(WRITE_TIMEOUT))?;
        s.set_read_timeout(Some(CONNECT_TIMEOUT))
    };
    setup(&tcp).map_err(|e| e.to_string())?;
    #[cfg(feature = "tls")]
    let transport = match tls {
        None => Transport::Plain(tcp),
        Some(tls) => Transport::Tls(Box::new(handshake(tls, host, tcp)?)),
    };
    #[cfg(not(feature = "tls"))]
    let transport = {
        let _ = tls;
        Transport::Plain(tcp)
    };
    transport.tcp().set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(transport)
}

/// A completed TLS client handshake over `tcp` (blocking, bounded by the socket timeouts).
#[cfg(feature = "tls")]
fn handshake(
    tls: &crate::tls::ClientTls,
    host: &str,
    mut tcp: TcpStream,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, String> {
    let config = crate::tls::client_config(tls).map_err(|e| e.to_string())?;
    let name = crate::tls::server_name(host).map_err(|e| e.to_string())?;
    let mut conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| format!("TLS handshake: {e}"))?;
    }
    Ok(rustls::StreamOwned::new(conn, tcp))
}

//! What TR-143 asks of a Download/Upload test's connection that ureq does not report: the
//! time the TCP open was requested and the time it completed (`TCPOpenRequestTime`,
//! `TCPOpenResponseTime`) and the bytes the test's socket sent and received, HTTP headers and
//! TLS records included (`TotalBytesSent`, `TotalBytesReceived`). A ureq connector chain
//! (stamp, TCP, stamp and count, TLS) records them in a [`Probe`].
//!
//! The totals are the socket's, not the interface's counters before and after: other traffic
//! on the interface is not counted.
//!
//! Never does: any I/O of its own; proxies (a diagnostics test measures the path to its server).

use std::sync::{Arc, Mutex};

use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, NextTimeout, RustlsConnector, TcpConnector, Transport,
};
use usp_datamodel::value::DateTime;

use super::http::now;

/// What one test's connection saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Seen {
    /// When the TCP open was requested.
    pub open_request: Option<DateTime>,
    /// When the TCP open completed.
    pub open_response: Option<DateTime>,
    /// Bytes read from the socket.
    pub received: u64,
    /// Bytes written to the socket.
    pub sent: u64,
}

/// Shared between the connector chain and the test that reads it afterwards.
#[derive(Clone, Debug, Default)]
pub struct Probe(Arc<Mutex<Seen>>);

impl Probe {
    /// What was recorded so far.
    pub fn seen(&self) -> Seen {
        self.0.lock().map(|s| *s).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut Seen)) {
        if let Ok(mut s) = self.0.lock() {
            f(&mut s);
        }
    }

    /// A ureq agent for `config` whose connections this probe records.
    pub fn agent(&self, config: ureq::config::Config) -> ureq::Agent {
        let chain = Stamp(self.clone())
            .chain(TcpConnector::default())
            .chain(Count(self.clone()))
            .chain(RustlsConnector::default());
        ureq::Agent::with_parts(config, chain, DefaultResolver::default())
    }
}

/// Stamps the TCP open request (first in the chain).
#[derive(Debug)]
struct Stamp(Probe);

impl Connector<()> for Stamp {
    type Out = ();

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<()>, ureq::Error> {
        self.0.update(|s| s.open_request = Some(now()));
        Ok(chained)
    }
}

/// Stamps the TCP open response and counts the socket's bytes (right after the TCP connector).
#[derive(Debug)]
struct Count(Probe);

impl<In: Transport> Connector<In> for Count {
    type Out = Counted<In>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Counted<In>>, ureq::Error> {
        if chained.is_some() {
            self.0.update(|s| s.open_response = Some(now()));
        }
        Ok(chained.map(|inner| Counted { inner, probe: self.0.clone() }))
    }
}

/// A transport that counts what passes through it.
#[derive(Debug)]
struct Counted<T> {
    inner: T,
    probe: Probe,
}

impl<T: Transport> Transport for Counted<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.inner.transmit_output(amount, timeout)?;
        self.probe.update(|s| s.sent += amount as u64);
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let before = self.inner.buffers().input().len();
        let progress = self.inner.await_input(timeout)?;
        let got = self.inner.buffers().input().len().saturating_sub(before);
        self.probe.update(|s| s.received += got as u64);
        Ok(progress)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }
}

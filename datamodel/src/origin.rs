//! Who serves and who asks: [`PluginId`] names the plugin that owns a part of the schema,
//! [`Requester`] the party an access is made for. A leaf module, so that the schema can record
//! both without depending on the plugin API (which depends on the schema).

/// Index of a plugin in the registration table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginId(pub(crate) u16);

/// Who asks: every access carries it so that permissions (ControllerTrust roles) apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requester {
    /// The agent itself (defaults file, CLI, plugins): never restricted.
    Internal,
    /// A controller, by Endpoint ID.
    Controller(Box<str>),
}

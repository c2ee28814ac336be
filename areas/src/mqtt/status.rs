//! The TR-181 enumerations the MQTT links write: a client's and a subscription's `Status`.

/// `Client.{i}.Status` (TR-181 enumeration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientStatus {
    /// `Disabled`.
    Disabled,
    /// `Connecting`.
    Connecting,
    /// `Connected`.
    Connected,
    /// `Error_Misconfigured`.
    ErrorMisconfigured,
    /// `Error_BrokerUnreachable`.
    ErrorBrokerUnreachable,
    /// `Error`.
    Error,
}

impl ClientStatus {
    /// The TR-181 text.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Disabled => "Disabled",
            ClientStatus::Connecting => "Connecting",
            ClientStatus::Connected => "Connected",
            ClientStatus::ErrorMisconfigured => "Error_Misconfigured",
            ClientStatus::ErrorBrokerUnreachable => "Error_BrokerUnreachable",
            ClientStatus::Error => "Error",
        }
    }
}

/// `Client.{i}.Subscription.{i}.Status` (TR-181 enumeration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// `Unsubscribed`.
    Unsubscribed,
    /// `Subscribed`.
    Subscribed,
    /// `Subscribing`.
    Subscribing,
    /// `Unsubscribing`.
    Unsubscribing,
    /// `Error`.
    Error,
}

impl SubscriptionStatus {
    /// The TR-181 text.
    pub const fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Unsubscribed => "Unsubscribed",
            SubscriptionStatus::Subscribed => "Subscribed",
            SubscriptionStatus::Subscribing => "Subscribing",
            SubscriptionStatus::Unsubscribing => "Unsubscribing",
            SubscriptionStatus::Error => "Error",
        }
    }
}

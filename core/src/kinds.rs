//! What a notification is about, shared by the notification engine (`notify`) and the message
//! handlers that trigger notifications (`operate`): the subscription kind and the item inside
//! an object instance. A leaf module, so that neither imports the other.

use usp_datamodel::schema::{CmdId, EventId, ParamId};

/// A subscription's `NotifType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// `ValueChange`.
    ValueChange,
    /// `ObjectCreation`.
    ObjectCreation,
    /// `ObjectDeletion`.
    ObjectDeletion,
    /// `OperationComplete`.
    OperationComplete,
    /// `Event`.
    Event,
}

impl Kind {
    /// The kind named by a `NotifType` value.
    pub(crate) fn parse(text: &str) -> Option<Kind> {
        Some(match text {
            "ValueChange" => Kind::ValueChange,
            "ObjectCreation" => Kind::ObjectCreation,
            "ObjectDeletion" => Kind::ObjectDeletion,
            "OperationComplete" => Kind::OperationComplete,
            "Event" => Kind::Event,
            _ => return None,
        })
    }

    /// The index of this kind in per-kind tables.
    pub(crate) fn slot(self) -> usize {
        self as usize
    }
}

/// The item a change is about, inside its object instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Leaf {
    /// A parameter (ValueChange).
    Param(ParamId),
    /// A command (OperationComplete).
    Command(CmdId),
    /// An event (Event).
    Event(EventId),
}

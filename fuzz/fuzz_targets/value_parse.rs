//! TR-106 value parsing: any text under every type, as a single value and as a list with
//! constraints; an accepted value prints to text that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usp_datamodel::value::{Constraints, DateTime, ParamType, list_items};
use usp_util::base64::{decode as base64_decode, encode as base64_encode};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let ty = ParamType::ALL[usize::from(selector) % ParamType::ALL.len()];
    if let Ok(value) = ty.parse(&text) {
        let printed = value.to_string();
        let again = ty.parse(&printed);
        assert_eq!(again.as_ref(), Ok(&value), "{ty:?} {text:?} printed {printed:?}");
        assert_eq!(value.compare(&value).map(|o| o.is_eq()), value.compare(&value).map(|_| true));
        assert!(value.loose_eq(&value) || matches!(value.param_type(), ParamType::Decimal));
    }
    if let Some(dt) = DateTime::parse(&text) {
        let _ = dt.is_unknown();
    }
    if let Some(bytes) = base64_decode(&text) {
        assert_eq!(base64_decode(&base64_encode(&bytes)), Some(bytes));
    }
    let _ = list_items(&text).count();
    let mut constraints = Constraints::default();
    if selector & 0x80 != 0 {
        constraints.list = Some(Default::default());
    }
    let _ = constraints.parse(ty, &text);
});

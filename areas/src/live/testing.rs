//! Test support shared by the live areas: finding a row by a parameter's value.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::testutil::Lab;

/// The instance path of the row of `table` (`Device.IP.Interface.`) whose `param` is `value`.
pub fn row_where(t: &mut Lab, table: &str, param: &str, value: &str) -> String {
    let mut seen = Vec::new();
    for n in 1..=256 {
        let Ok(v) = t.try_get(&format!("{table}{n}.{param}")) else { continue };
        if v == value {
            return format!("{table}{n}.");
        }
        seen.push(v);
    }
    panic!("no {table} row with {param} {value} among {seen:?}")
}

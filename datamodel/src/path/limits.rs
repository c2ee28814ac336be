//! Bounds on the shape of a path, beyond its length (4,096 bytes): what a hostile controller
//! could otherwise pack into one path to make its resolution expensive. Checked after parsing;
//! a path beyond a bound is invalid syntax (7008).
//!
//! Real TR-181 paths stay far below: the deepest supported object is about a dozen segments,
//! search expressions use one to three conditions, and reference following is used a step or
//! two at a time.

use super::{Path, PathError, Segment};

/// The most segments a path may have (its depth), the root name included.
pub const MAX_SEGMENTS: usize = 64;

/// The most search conditions in one path, all search expressions together.
pub const MAX_CONDITIONS: usize = 32;

/// The most reference-following steps in one path, those inside search conditions included.
pub const MAX_REFERENCE_STEPS: usize = 32;

/// Checks `path` against the bounds above; `at` is the offset reported (the path's length).
pub(super) fn check(path: &Path, at: usize) -> Result<(), PathError> {
    if path.segments.len() > MAX_SEGMENTS {
        return Err(PathError { at, reason: "path too deep" });
    }
    let mut conditions = 0usize;
    let mut follows = 0usize;
    for segment in &path.segments {
        match segment {
            Segment::Follow(_) => follows += 1,
            Segment::Search(conds) => {
                conditions += conds.len();
                for c in conds {
                    let steps = &c.param.steps;
                    follows += steps.iter().filter(|s| matches!(s, Segment::Follow(_))).count();
                }
            }
            _ => {}
        }
    }
    if conditions > MAX_CONDITIONS {
        return Err(PathError { at, reason: "too many search conditions" });
    }
    if follows > MAX_REFERENCE_STEPS {
        return Err(PathError { at, reason: "too many reference-following steps" });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> &'static str {
        Path::parse(text).expect_err(text).reason
    }

    #[test]
    fn depth_is_bounded() {
        let at_max = format!("Device.{}X", "A.".repeat(MAX_SEGMENTS - 1));
        Path::parse(&at_max).expect("at the bound");
        let beyond = format!("Device.{}X", "A.".repeat(MAX_SEGMENTS));
        assert_eq!(reason(&beyond), "path too deep");
    }

    #[test]
    fn search_conditions_are_bounded_across_the_path() {
        let conds = |n: usize| vec!["A==1"; n].join("&&");
        let at_max = format!("Device.T.[{}].U.[{}].", conds(16), conds(16));
        Path::parse(&at_max).expect("at the bound");
        let beyond = format!("Device.T.[{}].U.[{}].", conds(16), conds(17));
        assert_eq!(reason(&beyond), "too many search conditions");
    }

    #[test]
    fn reference_steps_are_bounded_in_path_and_conditions() {
        let at_max = format!("Device.T.1.{}Name", "R+.".repeat(MAX_REFERENCE_STEPS));
        Path::parse(&at_max).expect("at the bound");
        let beyond = format!("Device.T.1.{}Name", "R+.".repeat(MAX_REFERENCE_STEPS + 1));
        assert_eq!(reason(&beyond), "too many reference-following steps");
        let half = "R#*+.".repeat(MAX_REFERENCE_STEPS / 2);
        let mixed = format!("Device.T.[{half}N==1].{half}R+.Name");
        assert_eq!(reason(&mixed), "too many reference-following steps");
    }
}

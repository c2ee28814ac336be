//! The whole core handling a Record from a known controller: a valid Record whose Msg is
//! built from the structured input, under `FUZZ_LIMITS` (`uspagent_fuzz::request`, or raw Msg bytes). The core is
//! built once per process (it costs 0.6 ms) and rebuilt every 20,000 inputs so that rows the
//! inputs add do not pile up; time advances one second per input and timers run every 16.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use usp_core::Core;
use uspagent_fuzz::{CTRL, FUZZ_LIMITS, VIEWER, agent, kind, now, record, sender};

const REBUILD_EVERY: u64 = 20_000;

thread_local! {
    static AGENT: RefCell<(Core, u64)> = RefCell::new((agent(), 0));
}

fuzz_target!(|data: &[u8]| {
    AGENT.with(|cell| {
        let mut state = cell.borrow_mut();
        let (core, step) = &mut *state;
        *step += 1;
        if *step % REBUILD_EVERY == 0 {
            *core = agent();
        }
        let out = core.handle_record(now(*step), &record(data)).outgoing();
        for o in &out {
            // The answer goes back to the sender, notifications to a controller, and every
            // Record fits what a link may send.
            if o.in_reply {
                assert_eq!(o.to, sender(data));
            } else {
                assert!(o.to == CTRL || o.to == VIEWER, "{}", o.to);
            }
            let size = o.record.to_bytes().len();
            assert!(size <= 2 << 20, "a Record of {size} bytes");
            let read = matches!(kind(data), Some(0 | 5 | 6));
            if o.in_reply && read {
                // A Get, GetSupportedDM or GetInstances answer stays within the budget (plus
                // the Record's envelope).
                assert!(size <= FUZZ_LIMITS.max_response_bytes + 4096, "an answer of {size} bytes");
            }
        }
        if *step % 16 == 0 {
            let _ = core.handle_timeout(now(*step));
        }
        let _ = core.take_system_requests();
        let _ = core.take_config_changed();
    });
});

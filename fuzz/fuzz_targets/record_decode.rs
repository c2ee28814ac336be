//! Record decode: any bytes; a decoded Record (and its Msg) re-encodes to bytes that decode to
//! the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usp_proto::msg::Msg;
use usp_proto::record::Record;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = Record::from_bytes(data) {
        let again = Record::from_bytes(&record.to_bytes());
        assert_eq!(again.as_ref(), Ok(&record));
        if let Ok(msg) = record.decode_no_session_context_msg() {
            assert_eq!(Msg::from_bytes(&msg.to_bytes()).as_ref(), Ok(&msg));
            let _ = (msg.msg_id(), msg.msg_type(), msg.body_msg_type());
        }
    }
    if let Ok(msg) = Msg::from_bytes(data) {
        assert_eq!(Msg::from_bytes(&msg.to_bytes()).as_ref(), Ok(&msg));
    }
});

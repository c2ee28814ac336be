//! The encoders against TR-369's examples, byte for byte.

use super::spec;
use crate::bulkdata::encode::*;
use crate::bulkdata::names::report_name;
use usp_datamodel::value::{DateTime, Value};

const T: i64 = 1_364_529_149;

/// The MoCA statistics of the JSON examples: interfaces 1 and 2, named by their paths.
fn moca(collected: i64) -> Report {
    let mut items = Vec::new();
    for (n, sent, received) in [(1, 25248u64, 200_543_250u64), (2, 93247, 900_543_250)] {
        for (name, v) in [
            ("BroadPktSent", sent),
            ("BytesReceived", received),
            ("BytesSent", sent),
            ("MultiPktReceived", received),
        ] {
            let path = format!("Device.MoCA.Interface.{n}.Stats.{name}");
            items.push(Item { name: path, value: Value::UnsignedLong(v) });
        }
    }
    Report { collected: DateTime::from_unix(collected), items }
}

fn json(format: JsonFormat, timestamp: Timestamp) -> Encoding {
    Encoding::Json { format, timestamp }
}

#[test]
fn json_object_hierarchy_is_the_spec_example() {
    let e = json(JsonFormat::ObjectHierarchy, Timestamp::UnixEpoch);
    assert_eq!(e.encode(&[moca(T)]), spec::JSON_HIERARCHY);
    let e = json(JsonFormat::ObjectHierarchy, Timestamp::None);
    assert_eq!(e.encode(&[moca(T)]), spec::JSON_HIERARCHY_NO_TIME);
}

#[test]
fn json_name_value_pair_is_the_spec_example() {
    let e = json(JsonFormat::NameValuePair, Timestamp::UnixEpoch);
    assert_eq!(e.encode(&[moca(T)]), spec::JSON_NVP);
    let e = json(JsonFormat::NameValuePair, Timestamp::None);
    assert_eq!(e.encode(&[moca(T)]), spec::JSON_NVP_NO_TIME);
}

#[test]
fn json_iso_times_types_escapes_and_retained_reports() {
    let e = json(JsonFormat::NameValuePair, Timestamp::Iso8601);
    let r = |t, items| Report { collected: DateTime::from_unix(t), items };
    let items = vec![
        Item { name: "A.s".into(), value: Value::String("a\"b\\c\nd".into()) },
        Item { name: "A.b".into(), value: Value::Boolean(true) },
        Item { name: "A.i".into(), value: Value::Int(-3) },
        Item { name: "A.t".into(), value: Value::DateTime(DateTime::from_unix(0)) },
    ];
    let text = e.encode(&[r(0, Vec::new()), r(T, items)]);
    let want = r#"{
    "Report": [
        {
            "CollectionTime": "1970-01-01T00:00:00Z"
        },
        {
            "CollectionTime": "2013-03-29T03:52:29Z",
            "A.s": "a\"b\\c\nd",
            "A.b": true,
            "A.i": -3,
            "A.t": "1970-01-01T00:00:00Z"
        }
    ]
}"#;
    assert_eq!(text, want);
    let empty = json(JsonFormat::ObjectHierarchy, Timestamp::None).encode(&[r(0, Vec::new())]);
    assert_eq!(empty, "{\n    \"Report\": [\n        {}\n    ]\n}");
}

fn spec_csv(format: CsvFormat) -> Csv {
    // The spec's configuration: ",", "&#13;&#10;", "&quot;", Unix-Epoch.
    Csv {
        field_separator: decode_separator(","),
        row_separator: decode_separator("&#13;&#10;"),
        escape: decode_separator("&quot;"),
        format,
        timestamp: Timestamp::UnixEpoch,
    }
}

/// The spec's lines with its row separator (CR LF) after each.
fn rows(text: &str) -> String {
    text.lines().map(|l| format!("{l}\r\n")).collect()
}

#[test]
fn csv_parameter_per_row_is_the_spec_example() {
    let stats = [
        ("BroadPktSent", 25248u64),
        ("BytesReceived", 200_543_250),
        ("BytesSent", 7_682_161),
        ("MultiPktReceived", 890_682_272),
    ];
    let items = stats
        .iter()
        .map(|(n, v)| {
            let path = format!("Device.MoCA.Interface.1.Stats.{n}");
            // Name "" in the spec's profile: the report uses the Reference.
            Item { name: report_name("", &path, &path), value: Value::UnsignedLong(*v) }
        })
        .collect();
    let report = Report { collected: DateTime::from_unix(T), items };
    let text = Encoding::Csv(spec_csv(CsvFormat::ParameterPerRow)).encode(&[report]);
    // The spec's third row reads ", Device.MoCA.Interface.1.Stats.Stats.BytesSent": a typo
    // (a space and a doubled "Stats." no Reference of its profile can produce). Only that is
    // corrected.
    let printed = spec::CSV_PER_ROW_AS_PRINTED;
    let corrected = printed.replace(
        ", Device.MoCA.Interface.1.Stats.Stats.BytesSent",
        ",Device.MoCA.Interface.1.Stats.BytesSent",
    );
    assert_ne!(corrected, printed);
    assert_eq!(text, rows(&corrected));
}

#[test]
fn csv_parameter_per_column_with_three_retained_reports_is_the_spec_example() {
    let data: [(i64, [u64; 4]); 4] = [
        (1_364_529_149, [25248, 200_543_250, 7_682_161, 890_682_272]),
        (1_464_639_150, [25249, 200_553_250, 7_683_161, 900_683_272]),
        (1_564_749_151, [25255, 200_559_350, 7_684_133, 910_682_272]),
        (1_664_859_152, [25252, 200_653_267, 7_685_167, 9_705_982_277]),
    ];
    let names = ["BroadPktSent", "BytesReceived", "BytesSent", "MultiPktReceived"];
    let reports: Vec<Report> = data
        .iter()
        .map(|(t, values)| Report {
            collected: DateTime::from_unix(*t),
            items: names
                .iter()
                .zip(values)
                .map(|(n, v)| {
                    let path = format!("Device.MoCA.Interface.1.Stats.{n}");
                    Item { name: report_name(n, &path, &path), value: Value::UnsignedLong(*v) }
                })
                .collect(),
        })
        .collect();
    let text = Encoding::Csv(spec_csv(CsvFormat::ParameterPerColumn)).encode(&reports);
    assert_eq!(text, rows(spec::CSV_PER_COLUMN));
}

#[test]
fn csv_fields_are_escaped_as_rfc_4180_says_with_the_profile_characters() {
    let items = vec![
        Item { name: "a;b".into(), value: Value::String("say 'hi'".into()) },
        Item { name: "c".into(), value: Value::String("two\nlines".into()) },
    ];
    let report = Report { collected: DateTime::from_unix(T), items };
    let csv = Csv {
        field_separator: ";".into(),
        row_separator: "\n".into(),
        escape: "'".into(),
        format: CsvFormat::ParameterPerRow,
        timestamp: Timestamp::Iso8601,
    };
    let text = Encoding::Csv(csv).encode(&[report]);
    let want = "ReportTimestamp;ParameterName;ParameterValue;ParameterType\n\
                2013-03-29T03:52:29Z;'a;b';'say ''hi''';string\n\
                2013-03-29T03:52:29Z;c;'two\nlines';string\n";
    assert_eq!(text, want);
}

#[test]
fn separators_decode_xml_character_references() {
    assert_eq!(decode_separator("&#13;&#10;"), "\r\n");
    assert_eq!(decode_separator("&quot;"), "\"");
    assert_eq!(decode_separator("&#x9;|&amp;"), "\t|&");
    assert_eq!(decode_separator("a&b;&#zz;"), "a&b;&#zz;");
}

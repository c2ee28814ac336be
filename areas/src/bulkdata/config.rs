//! A profile's settings, read from the values the engine stores for `Profile.{i}.` and its
//! sub-objects, and the checks a controller's Set gets before anything is stored.
//!
//! Never does: I/O; reads only stored values through the plugin's `Ctx`.

use std::path::PathBuf;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{Ctx, Instance};
use usp_datamodel::schema::Schema;
use usp_datamodel::value::{DateTime, Value};

use super::encode::{Csv, CsvFormat, Encoding, JsonFormat, Timestamp, decode_separator};
use super::http::{self, HttpTarget};
use super::pipeline::Target;
use super::schema::{Ids, PARAMETER, PROFILE, URI_PARAMETER};

const CSV: &str = "Device.BulkData.Profile.{i}.CSVEncoding.";
const JSON: &str = "Device.BulkData.Profile.{i}.JSONEncoding.";
const HTTP: &str = "Device.BulkData.Profile.{i}.HTTP.";
const MQTT: &str = "Device.BulkData.Profile.{i}.MQTT.";

/// The query parameters every upload carries (R-BULK.1): name and data-model path.
pub const DEVICE_QUERY: &[(&str, &str)] = &[
    ("oui", "Device.DeviceInfo.ManufacturerOUI"),
    ("pc", "Device.DeviceInfo.ProductClass"),
    ("sn", "Device.DeviceInfo.SerialNumber"),
];

/// One profile's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Its instance number.
    pub number: u32,
    /// `Enable`.
    pub enable: bool,
    /// `Protocol`.
    pub protocol: String,
    /// `EncodingType`.
    pub encoding_type: String,
    /// `ReportingInterval`, seconds.
    pub interval: u32,
    /// `TimeReference`.
    pub time_reference: DateTime,
    /// `NumberOfRetainedFailedReports`.
    pub retain: i32,
    /// The `Parameter.{i}` rows with a Reference: Name, Reference, Exclude.
    pub params: Vec<(String, String, bool)>,
    /// The encoding.
    pub encoding: Encoding,
    /// The HTTP settings.
    pub http: HttpTarget,
    /// The `RequestURIParameter.{i}` rows with a Reference: Name, Reference.
    pub uri: Vec<(String, String)>,
    /// `MQTT.Reference`, `PublishTopic`, `PublishQoS`, `PublishRetain`.
    pub mqtt: (String, String, u8, bool),
}

/// Reads stored values of one instance.
struct Reader<'a, 'b> {
    ctx: &'a Ctx<'b>,
    ids: &'a Ids,
    numbers: &'a [u32],
}

impl Reader<'_, '_> {
    fn value(&self, obj: &'static str, name: &'static str) -> Option<Value> {
        let id = self.ids.param(obj, name)?;
        let o = self.ids.obj(obj)?;
        let depth = self.ctx.schema().depth(o);
        let numbers = self.numbers.get(..depth)?.to_vec();
        let inst = Instance { obj: o, keys: vec![None; numbers.len()], numbers };
        self.ctx.stored(&inst, id).cloned()
    }
    fn text(&self, obj: &'static str, name: &'static str) -> String {
        self.value(obj, name).map(|v| v.to_string()).unwrap_or_default()
    }
    fn flag(&self, obj: &'static str, name: &'static str) -> bool {
        self.value(obj, name).and_then(|v| v.as_bool()).unwrap_or(false)
    }
    fn number(&self, obj: &'static str, name: &'static str) -> i64 {
        match self.value(obj, name) {
            Some(Value::Int(n)) => i64::from(n),
            Some(Value::UnsignedInt(n)) => i64::from(n),
            _ => 0,
        }
    }
}

impl Profile {
    /// Reads profile `number`; `ca_file` is the agent's CA bundle for HTTPS.
    pub fn read(ctx: &Ctx, ids: &Ids, number: u32, ca_file: Option<PathBuf>) -> Profile {
        let numbers = [number];
        let r = Reader { ctx, ids, numbers: &numbers };
        let rows = |table: &'static str| -> Vec<u32> {
            ids.obj(table).map(|t| ctx.rows(t, &[number])).unwrap_or_default()
        };
        let params = rows(PARAMETER)
            .into_iter()
            .map(|n| {
                let numbers = [number, n];
                let p = Reader { ctx, ids, numbers: &numbers };
                (
                    p.text(PARAMETER, "Name"),
                    p.text(PARAMETER, "Reference"),
                    p.flag(PARAMETER, "Exclude"),
                )
            })
            .filter(|(_, reference, _)| !reference.is_empty())
            .collect();
        let uri = rows(URI_PARAMETER)
            .into_iter()
            .map(|n| {
                let numbers = [number, n];
                let p = Reader { ctx, ids, numbers: &numbers };
                (p.text(URI_PARAMETER, "Name"), p.text(URI_PARAMETER, "Reference"))
            })
            .filter(|(_, reference)| !reference.is_empty())
            .collect();
        let encoding_type = r.text(PROFILE, "EncodingType");
        Profile {
            number,
            enable: r.flag(PROFILE, "Enable"),
            protocol: r.text(PROFILE, "Protocol"),
            encoding: encoding(&r, &encoding_type),
            encoding_type,
            interval: u32::try_from(r.number(PROFILE, "ReportingInterval")).unwrap_or(1).max(1),
            time_reference: match r.value(PROFILE, "TimeReference") {
                Some(Value::DateTime(t)) => t,
                _ => DateTime::UNKNOWN,
            },
            retain: i32::try_from(r.number(PROFILE, "NumberOfRetainedFailedReports")).unwrap_or(0),
            params,
            http: HttpTarget {
                url: r.text(HTTP, "URL"),
                username: r.text(HTTP, "Username"),
                password: r.text(HTTP, "Password"),
                put: r.text(HTTP, "Method") == "PUT",
                gzip: r.text(HTTP, "Compression") == "GZIP",
                date_header: r.flag(HTTP, "UseDateHeader"),
                retry: r.flag(HTTP, "RetryEnable"),
                retry_min_wait: u32::try_from(r.number(HTTP, "RetryMinimumWaitInterval"))
                    .unwrap_or(5),
                retry_multiplier: u32::try_from(r.number(HTTP, "RetryIntervalMultiplier"))
                    .unwrap_or(2000),
                ca_file,
                persist: r.flag(HTTP, "PersistAcrossReboot"),
            },
            uri,
            mqtt: (
                r.text(MQTT, "Reference"),
                r.text(MQTT, "PublishTopic"),
                u8::try_from(r.number(MQTT, "PublishQoS")).unwrap_or(0),
                r.flag(MQTT, "PublishRetain"),
            ),
        }
    }

    /// Where this profile's reports go, or why they cannot be sent (for `Status`-like logs).
    pub fn target(&self) -> Result<Target, String> {
        match self.protocol.as_str() {
            "HTTP" => {
                http::check_url(&self.http.url).map_err(|e| e.to_string())?;
                let mut query: Vec<String> =
                    DEVICE_QUERY.iter().map(|(n, _)| (*n).to_owned()).collect();
                query.extend(self.uri.iter().map(|(n, _)| n.clone()));
                Ok(Target::Http { target: self.http.clone(), query })
            }
            "USPEventNotif" => Ok(Target::Push),
            "MQTT" => {
                let (client, topic, qos, retain) = self.mqtt.clone();
                if !client.starts_with("Device.MQTT.Client.") {
                    return Err(format!("MQTT.Reference '{client}' is no Device.MQTT.Client"));
                }
                if topic.is_empty() {
                    return Err("MQTT.PublishTopic is empty".into());
                }
                let client = if client.ends_with('.') { client } else { format!("{client}.") };
                Ok(Target::Mqtt { client, topic, qos, retain })
            }
            other => Err(format!("protocol '{other}' is not supported")),
        }
    }

    /// The URI references (R-BULK.1's, then the profile's), in query order.
    pub fn uri_references(&self) -> Vec<String> {
        if self.protocol != "HTTP" {
            return Vec::new();
        }
        let mut refs: Vec<String> = DEVICE_QUERY.iter().map(|(_, p)| (*p).to_owned()).collect();
        refs.extend(self.uri.iter().map(|(_, r)| r.clone()));
        refs
    }
}

fn encoding(r: &Reader, encoding_type: &str) -> Encoding {
    let ts = |obj, name| Timestamp::parse(&r.text(obj, name)).unwrap_or(Timestamp::UnixEpoch);
    if encoding_type == "CSV" {
        let format = if r.text(CSV, "ReportFormat") == "ParameterPerRow" {
            CsvFormat::ParameterPerRow
        } else {
            CsvFormat::ParameterPerColumn
        };
        Encoding::Csv(Csv {
            field_separator: decode_separator(&r.text(CSV, "FieldSeparator")),
            row_separator: decode_separator(&r.text(CSV, "RowSeparator")),
            escape: decode_separator(&r.text(CSV, "EscapeCharacter")),
            format,
            timestamp: ts(CSV, "RowTimestamp"),
        })
    } else {
        let format = if r.text(JSON, "ReportFormat") == "NameValuePair" {
            JsonFormat::NameValuePair
        } else {
            JsonFormat::ObjectHierarchy
        };
        Encoding::Json { format, timestamp: ts(JSON, "ReportTimestamp") }
    }
}

/// Checks a new value of a stored parameter (`obj` and `name` as declared): URLs parse,
/// references are paths of the right kind, the interval is not below the minimum, the protocol
/// and compression are ones this agent sends.
pub fn check(
    schema: &Schema,
    obj: &str,
    name: &str,
    value: &Value,
    protocols: &[&str],
) -> Result<(), UspError> {
    let text = value.to_string();
    let bad = |why: String| Err(UspError::new(ErrorCode::InvalidValue, why));
    match (obj, name) {
        (HTTP, "URL") if !text.is_empty() => http::check_url(&text)
            .map_err(|e| UspError::new(ErrorCode::InvalidValue, e.to_string())),
        (PARAMETER | URI_PARAMETER, "Reference") if !text.is_empty() => {
            if !text.starts_with("Device.") || Path::parse(&text).is_err() {
                return bad(format!("'{text}' is not a parameter or object path"));
            }
            if !supported(schema, &text) {
                return bad(format!("'{text}' is not in the supported data model"));
            }
            Ok(())
        }
        (MQTT, "Reference") if !text.is_empty() => {
            let n = text.strip_prefix("Device.MQTT.Client.").map(|n| n.trim_end_matches('.'));
            if n.is_some_and(|n| n.parse::<u32>().is_ok()) {
                Ok(())
            } else {
                bad(format!("'{text}' is not a Device.MQTT.Client.{{i}} instance"))
            }
        }
        (PROFILE, "ReportingInterval") if value.as_u64().unwrap_or(0) < super::MIN_INTERVAL => bad(
            format!("ReportingInterval is below MinReportingInterval ({})", super::MIN_INTERVAL),
        ),
        (PROFILE, "Protocol") if !protocols.contains(&text.as_str()) => {
            bad(format!("protocol '{text}' is not supported (Protocols: {})", protocols.join(",")))
        }
        (HTTP, "Compression") if !matches!(text.as_str(), "None" | "GZIP") => {
            bad(format!("compression '{text}' is not supported (GZIP or None)"))
        }
        _ => Ok(()),
    }
}

/// Whether `text` (an instance path, possibly with wildcards) names an object or parameter of
/// the supported model (TR-369: a profile is validated against the Supported Data Model when it
/// is created or updated; instances are looked for only when a report is made). Paths with
/// search expressions are taken as they are.
fn supported(schema: &Schema, text: &str) -> bool {
    if text.contains('[') {
        return true;
    }
    let generic: Vec<&str> = text
        .split('.')
        .map(|s| if s == "*" || s.parse::<u32>().is_ok() { "{i}" } else { s })
        .collect();
    let joined = generic.join(".");
    if joined.ends_with('.') {
        return schema.obj_by_path(&joined).is_some()
            || schema.obj_by_path(&format!("{joined}{{i}}.")).is_some();
    }
    let Some((obj, param)) = joined.rsplit_once('.') else { return false };
    schema.obj_by_path(&format!("{obj}.")).is_some_and(|o| schema.param_by_name(o, param).is_some())
}

//! The USP-specific text of the WebSocket opening handshake, as pure functions: the client's
//! request URI with its `eid` query parameter (R-WS.10b/c), the `Sec-WebSocket-Protocol` list
//! (R-WS.9), and the `bbf-usp-protocol` extension (`Sec-WebSocket-Extensions`, R-WS.11a).
//!
//! Owns no I/O and no HTTP parsing (tungstenite does that); never decides whether a session is
//! accepted (the server's handshake callback does, using these helpers).

/// The subprotocol of USP Records in protocol buffers (R-WS.9).
pub const SUBPROTOCOL: &str = "v1.usp";

/// The WebSocket extension that carries an Endpoint ID (`eid` parameter).
pub const EXTENSION: &str = "bbf-usp-protocol";

/// Bytes left as they are in the `eid` query value: RFC 3986 unreserved characters and the
/// query characters that no common server reads specially (`:` keeps `os::012345-SN` readable).
/// Everything else is `%XX`: `%` itself (R-WS.10c), `&`, `=`, `+` (form decoders turn it into a
/// space), `#`, spaces, controls and non-ASCII bytes.
fn kept_in_query(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:@!$'()*,;/".contains(&b)
}

/// Percent-encodes an Endpoint ID for the `eid` query parameter, treating it as opaque data
/// (R-WS.10c: `doc::agent%21` becomes `doc::agent%2521`).
pub fn encode_eid(eid: &str) -> String {
    let mut out = String::with_capacity(eid.len() + 8);
    for &b in eid.as_bytes() {
        if kept_in_query(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` sequences (and nothing else: `+` stays `+`). `None` on a truncated or
/// non-hex escape, or when the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `eid` value of a request's query component (`a=1&eid=x`), percent-decoded. `None` when
/// absent, empty or badly escaped.
pub fn eid_from_query(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.strip_prefix("eid="))
        .find_map(percent_decode)
        .filter(|eid| !eid.is_empty())
}

/// The request URI of a client: `ws[s]://host:port/path?eid=...`. `path` may lack its leading
/// `/` and may carry a query of its own (the `eid` pair is then appended with `&`). IPv6
/// literals are bracketed.
pub fn client_uri(tls: bool, host: &str, port: u16, path: &str, eid: &str) -> String {
    let scheme = if tls { "wss" } else { "ws" };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let slash = if path.starts_with('/') { "" } else { "/" };
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{scheme}://{host}:{port}{slash}{path}{sep}eid={}", encode_eid(eid))
}

/// Whether a `Sec-WebSocket-Protocol` header value (a comma-separated list) offers `v1.usp`.
pub fn offers_subprotocol(header: &str) -> bool {
    header.split(',').any(|p| p.trim() == SUBPROTOCOL)
}

/// The `Sec-WebSocket-Extensions` value announcing `eid`: `bbf-usp-protocol; eid="..."`.
/// `None` when the Endpoint ID cannot be carried in a header (controls, non-ASCII): the
/// extension is optional, so it is then simply left out.
pub fn extension_header(eid: &str) -> Option<String> {
    if eid.is_empty() || !eid.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    let quoted = eid.replace('\\', "\\\\").replace('"', "\\\"");
    Some(format!("{EXTENSION}; eid=\"{quoted}\""))
}

/// What a `Sec-WebSocket-Extensions` header value says of `bbf-usp-protocol`: `None` when the
/// extension is not there, `Some(eid)` when it is (`eid` is `None` without a usable parameter).
/// Understands several extensions separated by commas, parameters separated by `;`, and
/// quoted-string values with `\` escapes.
pub fn extension_eid(header: &str) -> Option<Option<String>> {
    for ext in split_unquoted(header, ',') {
        let mut parts = split_unquoted(&ext, ';').into_iter();
        let name = parts.next().unwrap_or_default();
        if !name.trim().eq_ignore_ascii_case(EXTENSION) {
            continue;
        }
        let eid = parts.find_map(|param| {
            let (key, value) = param.split_once('=')?;
            key.trim().eq_ignore_ascii_case("eid").then(|| unquote(value.trim()))?
        });
        return Some(eid.filter(|e| !e.is_empty()));
    }
    None
}

/// Splits on `sep` outside double quotes (a `\` inside quotes escapes the next character).
fn split_unquoted(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    parts.push(cur);
    parts
}

/// A token as is, or a quoted-string without its quotes and escapes. `None` for an
/// unterminated quoted-string.
fn unquote(v: &str) -> Option<String> {
    let Some(inner) = v.strip_prefix('"') else {
        return Some(v.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next()? } else { c });
    }
    Some(out)
}

/// The request path a server accepts: `configured` with a leading `/`; empty accepts any.
pub fn path_matches(configured: &str, requested: &str) -> bool {
    let configured = configured.trim();
    if configured.is_empty() {
        return true;
    }
    let configured = configured.strip_prefix('/').unwrap_or(configured);
    let requested = requested.strip_prefix('/').unwrap_or(requested);
    configured == requested
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eid_escaping_round_trips_and_escapes_percent() {
        assert_eq!(encode_eid("doc::agent%21"), "doc::agent%2521");
        assert_eq!(encode_eid("os::012345-SN 1&x=y+z#"), "os::012345-SN%201%26x%3Dy%2Bz%23");
        for eid in ["proto::a%b", "os::00D09E-Router-42", "ü::é&=+?%%", ""] {
            assert_eq!(percent_decode(&encode_eid(eid)).as_deref(), Some(eid));
        }
    }

    #[test]
    fn bad_escapes_are_refused() {
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert_eq!(percent_decode("%ff%fe"), None, "not UTF-8");
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
    }

    #[test]
    fn the_eid_is_found_among_other_query_pairs() {
        assert_eq!(eid_from_query(Some("eid=os%3A%3Ax")).as_deref(), Some("os::x"));
        assert_eq!(
            eid_from_query(Some("a=1&eid=doc::agent%2521&b")).as_deref(),
            Some("doc::agent%21")
        );
        assert_eq!(eid_from_query(Some("xeid=1")), None);
        assert_eq!(eid_from_query(Some("eid=")), None);
        assert_eq!(eid_from_query(Some("eid=%")), None);
        assert_eq!(eid_from_query(None), None);
    }

    #[test]
    fn client_uris() {
        assert_eq!(
            client_uri(false, "10.0.0.1", 8080, "/ws/agent", "os::1"),
            "ws://10.0.0.1:8080/ws/agent?eid=os::1"
        );
        assert_eq!(client_uri(true, "::1", 443, "usp", "a%"), "wss://[::1]:443/usp?eid=a%25");
        assert_eq!(client_uri(false, "h", 1, "/p?token=x", "e"), "ws://h:1/p?token=x&eid=e");
        assert_eq!(client_uri(false, "h", 1, "", "e"), "ws://h:1/?eid=e");
    }

    #[test]
    fn subprotocol_lists() {
        assert!(offers_subprotocol("v1.usp"));
        assert!(offers_subprotocol("chat, v1.usp "));
        assert!(!offers_subprotocol("v1.usp2, usp"));
    }

    #[test]
    fn extension_headers_round_trip() {
        let h = extension_header("os::a\"b\\c").expect("printable");
        assert_eq!(h, r#"bbf-usp-protocol; eid="os::a\"b\\c""#);
        assert_eq!(extension_eid(&h), Some(Some("os::a\"b\\c".to_owned())));
        assert_eq!(extension_header("tab\there"), None);
        assert_eq!(extension_header(""), None);
    }

    #[test]
    fn extension_parsing() {
        let h = r#"permessage-deflate; client_max_window_bits, bbf-usp-protocol; eid="a,b;c""#;
        assert_eq!(extension_eid(h), Some(Some("a,b;c".to_owned())));
        assert_eq!(extension_eid("BBF-USP-PROTOCOL;EID=tok"), Some(Some("tok".to_owned())));
        assert_eq!(extension_eid("bbf-usp-protocol"), Some(None));
        assert_eq!(extension_eid(r#"bbf-usp-protocol; eid="unterminated"#), Some(None));
        assert_eq!(extension_eid("permessage-deflate"), None);
    }

    #[test]
    fn paths() {
        assert!(path_matches("", "/anything"));
        assert!(path_matches("/usp", "/usp"));
        assert!(path_matches("usp", "/usp"));
        assert!(!path_matches("/usp", "/usp/x"));
        assert!(!path_matches("/usp", "/"));
    }
}

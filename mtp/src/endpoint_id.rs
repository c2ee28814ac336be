//! Whether an Endpoint ID a certificate names (in its subjectAltName) stands for the Endpoint
//! ID a peer claims (TR-369 R-SEC.0a, R-SEC.11/12, R-ARC.4a).
//!
//! - A `urn:bbf:usp:id:<id>` URI names `<id>` exactly; a `dNSName` names `fqdn::<name>`
//!   (R-SEC.0a: the `fqdn` authority-scheme's instance-id; DNS names compare without case).
//! - A `*` in the instance-id of a named ID is a wildcard for any run of characters (a
//!   certificate shared by several endpoints, R-SEC.11). It is honoured only where R-SEC.12
//!   allows it: authority-scheme `oui`, `cid`, `pen`, `os` or `ops`, never in the
//!   authority-scheme or authority-id, and for `os`/`ops` never in the part naming the
//!   assigning entity (the OUI before the first `-`). `fqdn` IDs take no wildcard (R-ARC:
//!   "wildcards are not permitted"), so neither does a `*.example.org` dNSName.
//!
//! Never does: read certificates (the `tls` module hands over the names) or decide what an
//! authenticated endpoint may do.

/// The authority-schemes whose certificate Endpoint IDs may carry a wildcard (R-SEC.12).
pub const WILDCARD_SCHEMES: &[&str] = &["oui", "cid", "pen", "os", "ops"];

/// The Endpoint ID a `dNSName` of a certificate stands for (`fqdn::<name>`), `None` for a
/// wildcard DNS name, which no `fqdn` Endpoint ID can be.
pub fn fqdn_endpoint_id(dns_name: &str) -> Option<String> {
    let name = dns_name.trim_end_matches('.');
    (!name.is_empty() && !name.contains('*')).then(|| format!("fqdn::{name}"))
}

/// Whether the certificate name `named` (an Endpoint ID, perhaps wildcarded) covers the
/// Endpoint ID `claimed`.
pub fn covers(named: &str, claimed: &str) -> bool {
    if named == claimed {
        return true;
    }
    let (Some(n), Some(c)) = (split(named), split(claimed)) else { return false };
    if n.scheme != c.scheme || n.authority != c.authority {
        return false;
    }
    if n.scheme == "fqdn" {
        return n.authority.is_empty()
            && !n.instance.contains('*')
            && n.instance.eq_ignore_ascii_case(c.instance);
    }
    wildcard_allowed(&n) && glob(n.instance.as_bytes(), c.instance.as_bytes())
}

/// Whether any of `names` covers `claimed` (see [`covers`]).
pub fn any_covers(names: &[String], claimed: &str) -> bool {
    names.iter().any(|n| covers(n, claimed))
}

/// The three parts of an Endpoint ID: `authority-scheme ":" [authority-id] ":" instance-id`.
struct Parts<'a> {
    scheme: &'a str,
    authority: &'a str,
    instance: &'a str,
}

fn split(id: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = id.split_once(':')?;
    let (authority, instance) = rest.split_once(':')?;
    (!scheme.is_empty() && !instance.is_empty()).then_some(Parts { scheme, authority, instance })
}

/// R-SEC.12: where a wildcard in a certificate's Endpoint ID is acceptable at all.
fn wildcard_allowed(p: &Parts<'_>) -> bool {
    if !p.instance.contains('*') || !WILDCARD_SCHEMES.contains(&p.scheme) {
        return false;
    }
    if p.scheme.contains('*') || p.authority.contains('*') {
        return false;
    }
    match p.scheme {
        "os" | "ops" => {
            p.instance.split_once('-').is_some_and(|(oui, _)| !oui.is_empty() && !oui.contains('*'))
        }
        _ => true,
    }
}

/// `*` matches any run of bytes (possibly empty); everything else matches itself. Linear
/// backtracking over the last star: at most `pattern.len() * text.len()` steps.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_sec_0a_an_exact_endpoint_id_covers_itself_only() {
        assert!(covers("os::012345-ctrl", "os::012345-ctrl"));
        assert!(!covers("os::012345-ctrl", "os::012345-ctrl2"));
        assert!(!covers("self::ctrl", "self::other"));
    }

    #[test]
    fn r_sec_11_a_wildcarded_instance_id_covers_the_endpoints_sharing_it() {
        assert!(covers("os::00256D-*", "os::00256D-0123456789"));
        assert!(covers("ops::00256D-STB-*", "ops::00256D-STB-0123456789"));
        assert!(!covers("ops::00256D-STB-*", "ops::00256D-GW-0123456789"));
        assert!(covers("oui:00256D:box-*-a", "oui:00256D:box-17-a"));
        assert!(!covers("oui:00256D:box-*-a", "oui:00256D:box-17-b"));
        assert!(covers("pen:3561:*", "pen:3561:anything"));
        assert!(covers("cid:3AA3F8:*", "cid:3AA3F8:x"));
        // The scheme and authority-id must be identical.
        assert!(!covers("oui:00256D:*", "oui:00256E:x"));
        assert!(!covers("os::00256D-*", "ops::00256D-x"));
    }

    #[test]
    fn r_sec_12_wildcards_only_where_the_assigning_entity_is_named() {
        for scheme in ["self", "user", "uuid", "imei", "proto", "doc"] {
            assert!(!covers(&format!("{scheme}::*"), &format!("{scheme}::ctrl")), "{scheme}");
        }
        // os/ops: the OUI (the assigning entity) is never wildcarded.
        assert!(!covers("os::*-0123", "os::00256D-0123"));
        assert!(!covers("os::0025*-0123", "os::00256D-0123"));
        assert!(!covers("ops::*", "ops::00256D-STB-1"));
        // Nor the authority-id.
        assert!(!covers("oui:*:x", "oui:00256D:x"));
    }

    #[test]
    fn r_sec_0a_a_dns_name_names_the_fqdn_endpoint_id() {
        let named = fqdn_endpoint_id("ctrl.example.org").expect("an fqdn ID");
        assert!(covers(&named, "fqdn::ctrl.example.org"));
        assert!(covers(&named, "fqdn::CTRL.Example.org"));
        assert!(!covers(&named, "fqdn::other.example.org"));
        assert!(!covers(&named, "os::ctrl.example.org"));
        // No wildcard in fqdn IDs (TR-369's Endpoint ID table): a wildcard DNS name names none.
        assert_eq!(fqdn_endpoint_id("*.example.org"), None);
        assert!(!covers("fqdn::*.example.org", "fqdn::a.example.org"));
    }

    #[test]
    fn glob_is_bounded_and_exact() {
        assert!(glob(b"a*b*c", b"aXXbYYc"));
        assert!(!glob(b"a*b*c", b"aXXbYY"));
        assert!(glob(b"**", b""));
        let text = vec![b'a'; 2000];
        assert!(!glob(b"*a*a*a*b", &text));
    }
}

//! HTTP Digest access authentication (RFC 7616) for the transfer client: reading a
//! `WWW-Authenticate: Digest ...` challenge and answering it with an `Authorization` header.
//!
//! Algorithms MD5, SHA-256 and SHA-512-256, each also in its `-sess` form; `qop=auth` (or no
//! qop, RFC 2069's form). `auth-int` alone and `userhash=true` are not supported: such a
//! challenge is not answered (the transfer fails with the server's 401). When a server offers
//! several challenges the strongest supported algorithm is used.
//!
//! Never does: send anything; the caller puts the header on its request.

use sha2::Digest as _;

/// A Digest algorithm of RFC 7616 (section 6.1's registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Algorithm {
    /// MD5 (the default when a challenge names none).
    Md5,
    /// SHA-256.
    Sha256,
    /// SHA-512/256.
    Sha512_256,
}

/// One parsed `Digest` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `opaque`, echoed back.
    pub opaque: Option<String>,
    /// `algorithm`.
    pub algorithm: Algorithm,
    /// Whether `algorithm` is a `-sess` variant.
    pub session: bool,
    /// Whether `qop=auth` is offered (else RFC 2069's form is used).
    pub qop_auth: bool,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512_256 => "SHA-512-256",
        }
    }

    /// Lowercase hex of the hash of `text`.
    fn hash(self, text: &str) -> String {
        let bytes = text.as_bytes();
        match self {
            Algorithm::Md5 => super::sum::hex(&md5::Md5::digest(bytes)),
            Algorithm::Sha256 => {
                super::sum::hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
            }
            Algorithm::Sha512_256 => {
                super::sum::hex(ring::digest::digest(&ring::digest::SHA512_256, bytes).as_ref())
            }
        }
    }
}

/// The strongest supported `Digest` challenge among the `WWW-Authenticate` values `headers`.
pub fn best_challenge<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    headers.into_iter().filter_map(parse).max_by_key(|c| c.algorithm)
}

/// Parses one `WWW-Authenticate` value if it is a supported `Digest` challenge.
pub fn parse(value: &str) -> Option<Challenge> {
    let (scheme, rest) = value.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let params = auth_params(rest);
    let get = |k: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v);
    if get("userhash").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    let algo = get("algorithm").map_or("MD5", |s| s.as_str()).to_ascii_uppercase();
    let (base, session) = match algo.strip_suffix("-SESS") {
        Some(b) => (b.to_owned(), true),
        None => (algo, false),
    };
    let algorithm = match base.as_str() {
        "MD5" => Algorithm::Md5,
        "SHA-256" => Algorithm::Sha256,
        "SHA-512-256" => Algorithm::Sha512_256,
        _ => return None,
    };
    let qops: Vec<&str> =
        get("qop").map(|q| q.split(',').map(str::trim).collect()).unwrap_or_default();
    let qop_auth = qops.iter().any(|q| q.eq_ignore_ascii_case("auth"));
    if !qops.is_empty() && !qop_auth {
        return None;
    }
    Some(Challenge {
        realm: get("realm")?.clone(),
        nonce: get("nonce")?.clone(),
        opaque: get("opaque").cloned(),
        algorithm,
        session,
        qop_auth,
    })
}

/// `name=token` and `name="quoted string"` pairs separated by commas.
fn auth_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    for _ in 0..64 {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.trim().is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect::<String>().trim().to_owned();
        }
        out.push((name.trim().to_owned(), value));
    }
    out
}

/// The `Authorization` value answering `ch` for a `method` request of `uri` (its path and
/// query), with client nonce `cnonce` and nonce count `nc`.
pub fn authorization(
    ch: &Challenge,
    (user, password): (&str, &str),
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> String {
    let h = |s: &str| ch.algorithm.hash(s);
    let mut ha1 = h(&format!("{user}:{}:{password}", ch.realm));
    if ch.session {
        ha1 = h(&format!("{ha1}:{}:{cnonce}", ch.nonce));
    }
    let ha2 = h(&format!("{method}:{uri}"));
    let nc = format!("{nc:08x}");
    let response = if ch.qop_auth {
        h(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", ch.nonce))
    } else {
        h(&format!("{ha1}:{}:{ha2}", ch.nonce))
    };
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let algo = format!("{}{}", ch.algorithm.name(), if ch.session { "-sess" } else { "" });
    let mut out = format!(
        "Digest username=\"{}\", realm=\"{}\", uri=\"{}\", algorithm={algo}, nonce=\"{}\"",
        q(user),
        q(&ch.realm),
        q(uri),
        q(&ch.nonce)
    );
    if ch.qop_auth {
        out.push_str(&format!(", nc={nc}, cnonce=\"{}\", qop=auth", q(cnonce)));
    }
    out.push_str(&format!(", response=\"{response}\""));
    if let Some(o) = &ch.opaque {
        out.push_str(&format!(", opaque=\"{}\"", q(o)));
    }
    out
}

/// A fresh client nonce: 16 random bytes in hex.
pub fn cnonce() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    super::sum::hex(&b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn challenge(algorithm: &str) -> String {
        format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={algorithm}, nonce=\"{NONCE}\", opaque=\"{OPAQUE}\""
        )
    }

    /// RFC 7616 section 3.9.1: Mufasa's request, with MD5 and with SHA-256.
    #[test]
    fn the_rfc_7616_examples() {
        for (algorithm, response) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ] {
            let ch = parse(&challenge(algorithm)).expect("parsed");
            assert_eq!(ch.opaque.as_deref(), Some(OPAQUE));
            let creds = ("Mufasa", "Circle of Life");
            let auth = authorization(&ch, creds, "GET", "/dir/index.html", CNONCE, 1);
            assert!(auth.contains(&format!("response=\"{response}\"")), "{algorithm}: {auth}");
            assert!(auth.contains("nc=00000001") && auth.contains("qop=auth"), "{auth}");
            assert!(auth.contains(&format!("algorithm={algorithm},")), "{auth}");
        }
    }

    #[test]
    fn the_strongest_challenge_wins_and_unsupported_ones_are_skipped() {
        let md5 = challenge("MD5");
        let sha = challenge("SHA-256");
        let best = best_challenge([md5.as_str(), "Basic realm=\"x\"", sha.as_str()]).unwrap();
        assert_eq!(best.algorithm, Algorithm::Sha256);
        assert!(parse("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1").is_none());
        assert!(parse("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"").is_none());
        assert!(parse("Digest realm=\"r\", nonce=\"n\", userhash=true").is_none());
        assert!(parse("Digest realm=\"r\"").is_none(), "a nonce is needed");
        // RFC 2069's form: no qop, MD5 by default; a quoted comma and escape survive.
        let old = parse("Digest realm=\"a, \\\"b\\\"\", nonce=abc").unwrap();
        assert_eq!(
            (old.realm.as_str(), old.qop_auth, old.algorithm),
            ("a, \"b\"", false, Algorithm::Md5)
        );
        let auth = authorization(&old, ("u", "p"), "GET", "/", "c", 1);
        assert!(!auth.contains("qop") && auth.contains("realm=\"a, \\\"b\\\"\""), "{auth}");
        let sess =
            parse("Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=SHA-256-sess").unwrap();
        assert!(sess.session);
        assert!(authorization(&sess, ("u", "p"), "GET", "/", "c", 1).contains("SHA-256-sess"));
    }
}

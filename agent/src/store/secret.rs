//! Secret values (passwords, passphrases, pre-shared keys) are obfuscated in the database file,
//! so that a plain `sqlite3 usp.db .dump` or `strings usp.db` does not show them.
//!
//! Owns which stored values are secret ([`is_secret`]), the device-local key file next to the
//! database, and the sealing format; never decides what a value means, never logs one.
//!
//! # Format and key
//!
//! A sealed value is `$uspobf1$` followed by the hex of a random 12-byte nonce and of the
//! ChaCha20 (RFC 8439) encryption of [`MAGIC`] then the value's UTF-8 bytes. The key is 32
//! random bytes from `/dev/urandom`, created on first use in `<database>.key` (mode 0600) and
//! never changed. obuspa XORs with a key compiled into the binary (the same on every device);
//! here the key is per device and each value has its own nonce, so equal passwords do not look
//! equal either.
//!
//! # Threat model
//!
//! Protects against a copy of the database file alone (a backup, a support bundle, a dump
//! printed in a bug report, a flash image read without the key file). Does NOT protect against
//! anyone who can read the key file too (root on the router, a copy of the whole directory):
//! the agent must be able to recover the plaintext unattended at boot, with no user secret and
//! no hardware key store, so the key is on the same device. There is no integrity protection
//! beyond [`MAGIC`] (a wrong key is detected, a crafted value is not).

use std::fmt;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use usp_datamodel::store::StoreError;

/// What a sealed value starts with.
pub(super) const PREFIX: &str = "$uspobf1$";
/// Encrypted in front of every value: a value opened with the wrong key does not start with it.
const MAGIC: &[u8; 4] = b"usp:";
/// The name endings of the parameters whose values are sealed (TR-181's hidden credentials:
/// `MQTT.Client.{i}.Password`, `STOMP.Connection.{i}.Password`, `Users.User.{i}.Password`,
/// Wi-Fi `KeyPassphrase`, `PreSharedKey`, `SAEPassphrase`, `RadiusSecret`, `WEPKey`, …).
const SECRET_ENDINGS: &[&str] = &["Password", "Passphrase", "Secret", "PreSharedKey", "WEPKey"];

/// Why a sealed value could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SecretError {
    /// The text after the prefix is not hex, or too short for a nonce and [`MAGIC`].
    Malformed,
    /// It decrypts to garbage: sealed with another key (the key file was replaced or lost).
    WrongKey,
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::Malformed => write!(f, "malformed sealed value"),
            SecretError::WrongKey => write!(f, "sealed with another key (was the key file lost?)"),
        }
    }
}

/// True when the value stored at `path` is a secret (its parameter name ends with one of
/// [`SECRET_ENDINGS`]).
pub(super) fn is_secret(path: &str) -> bool {
    let name = path.rsplit('.').next().unwrap_or_default();
    SECRET_ENDINGS.iter().any(|end| name.ends_with(end))
        || (name == "Value" && path.starts_with(CHALLENGE))
}

/// The ControllerTrust challenges, whose `Value` (the passphrase) is secret too.
const CHALLENGE: &str = "Device.LocalAgent.ControllerTrust.Challenge.";

/// The device-local key.
pub(super) struct Secrets {
    key: [u8; 32],
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// The key file of the database at `db`: `<db>.key`.
pub(super) fn key_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push(".key");
    PathBuf::from(s)
}

impl Secrets {
    /// Reads the key file, or creates it (32 random bytes, mode 0600) when it does not exist.
    /// A key file of the wrong size is an error: replacing it would lose every sealed value.
    pub(super) fn load_or_create(path: &Path) -> Result<Secrets, StoreError> {
        let err = |what: &str, e: std::io::Error| {
            StoreError(format!("{what} the key file {}: {e}", path.display()))
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                    StoreError(format!(
                        "the key file {} holds {} bytes, not 32; move it away to start a new \
                         key (stored passwords are then lost)",
                        path.display(),
                        bytes.len()
                    ))
                })?;
                Ok(Secrets { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                random(&mut key).map_err(|e| err("making", e))?;
                let tmp = path.with_extension("key-new");
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&tmp)
                    .map_err(|e| err("creating", e))?;
                file.write_all(&key)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| err("writing", e))?;
                std::fs::rename(&tmp, path).map_err(|e| err("installing", e))?;
                log::info!("created the key file {} for stored passwords", path.display());
                Ok(Secrets { key })
            }
            Err(e) => Err(err("reading", e)),
        }
    }

    /// A key given as is (tests).
    #[cfg(test)]
    pub(super) fn from_key(key: [u8; 32]) -> Secrets {
        Secrets { key }
    }

    /// The sealed form of `value`.
    pub(super) fn seal(&self, value: &str) -> String {
        let nonce = nonce();
        let mut data = Vec::with_capacity(MAGIC.len() + value.len());
        data.extend_from_slice(MAGIC);
        data.extend_from_slice(value.as_bytes());
        chacha20_xor(&self.key, &nonce, &mut data);
        let mut out = String::with_capacity(PREFIX.len() + 2 * (nonce.len() + data.len()));
        out.push_str(PREFIX);
        for b in nonce.iter().chain(&data) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// The plaintext of a stored value: `None` when it is not sealed (a plaintext row written
    /// before sealing existed), else the opened value or why it could not be opened.
    pub(super) fn open(&self, stored: &str) -> Option<Result<String, SecretError>> {
        let hex = stored.strip_prefix(PREFIX)?;
        Some(self.open_hex(hex))
    }

    fn open_hex(&self, hex: &str) -> Result<String, SecretError> {
        let bytes = unhex(hex).ok_or(SecretError::Malformed)?;
        if bytes.len() < 12 + MAGIC.len() {
            return Err(SecretError::Malformed);
        }
        let (nonce, data) = bytes.split_at(12);
        let nonce = <[u8; 12]>::try_from(nonce).map_err(|_| SecretError::Malformed)?;
        let mut data = data.to_vec();
        chacha20_xor(&self.key, &nonce, &mut data);
        let text = data.strip_prefix(MAGIC.as_slice()).ok_or(SecretError::WrongKey)?;
        String::from_utf8(text.to_vec()).map_err(|_| SecretError::WrongKey)
    }
}

fn unhex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// Fills `buf` from the kernel's random source.
fn random(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read as _;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// A fresh nonce: random, else (no `/dev/urandom`) the clock and a counter, which still never
/// repeats within one process and is unlikely to across restarts.
fn nonce() -> [u8; 12] {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut n = [0u8; 12];
    if random(&mut n).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        n[..8].copy_from_slice(&nanos.to_le_bytes());
        n[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    n
}

fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

fn word(bytes: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[4 * i..4 * i + 4]);
    u32::from_le_bytes(w)
}

/// One ChaCha20 block (RFC 8439 §2.3).
fn block(key: &[u8; 32], counter: u32, nonce: &[u8; 12]) -> [u8; 64] {
    let mut state = [0u32; 16];
    state[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    for i in 0..8 {
        state[4 + i] = word(key, i);
    }
    state[12] = counter;
    for i in 0..3 {
        state[13 + i] = word(nonce, i);
    }
    let mut w = state;
    for _ in 0..10 {
        quarter(&mut w, 0, 4, 8, 12);
        quarter(&mut w, 1, 5, 9, 13);
        quarter(&mut w, 2, 6, 10, 14);
        quarter(&mut w, 3, 7, 11, 15);
        quarter(&mut w, 0, 5, 10, 15);
        quarter(&mut w, 1, 6, 11, 12);
        quarter(&mut w, 2, 7, 8, 13);
        quarter(&mut w, 3, 4, 9, 14);
    }
    let mut out = [0u8; 64];
    for i in 0..16 {
        out[4 * i..4 * i + 4].copy_from_slice(&w[i].wrapping_add(state[i]).to_le_bytes());
    }
    out
}

/// XORs `data` with the ChaCha20 keystream of `key` and `nonce` (block counter from 1).
fn chacha20_xor(key: &[u8; 32], nonce: &[u8; 12], data: &mut [u8]) {
    for (i, chunk) in data.chunks_mut(64).enumerate() {
        let stream = block(key, 1 + i as u32, nonce);
        for (b, k) in chunk.iter_mut().zip(stream) {
            *b ^= k;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// RFC 8439 §2.3.2: the block function's test vector.
    #[test]
    fn chacha20_block_matches_rfc_8439() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let nonce = [0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let out = block(&key, 1, &nonce);
        let want = [
            0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20,
            0x71, 0xc4,
        ];
        assert_eq!(out[..16], want);
    }

    #[test]
    fn sealing_round_trips_and_hides_the_value() {
        let s = Secrets::from_key([7; 32]);
        let long = "p".repeat(300);
        for value in ["", "hunter2", "päss wörd", long.as_str()] {
            let sealed = s.seal(value);
            assert!(sealed.starts_with(PREFIX));
            assert!(value.is_empty() || !sealed.contains(value), "{sealed}");
            assert_eq!(s.open(&sealed), Some(Ok(value.to_owned())));
        }
        assert_ne!(s.seal("same"), s.seal("same"), "each value has its own nonce");
        assert_eq!(s.open("plain"), None);
        assert_eq!(s.open("$uspobf1$zz"), Some(Err(SecretError::Malformed)));
        let other = Secrets::from_key([8; 32]);
        assert_eq!(other.open(&s.seal("hunter2")), Some(Err(SecretError::WrongKey)));
    }

    #[test]
    fn secret_paths_are_the_credentials() {
        assert!(is_secret("Device.MQTT.Client.1.Password"));
        assert!(is_secret("Device.STOMP.Connection.2.Password"));
        assert!(is_secret("Device.WiFi.AccessPoint.1.Security.KeyPassphrase"));
        assert!(is_secret("Device.WiFi.AccessPoint.1.Security.RadiusSecret"));
        assert!(is_secret("Device.LocalAgent.ControllerTrust.Challenge.1.Value"));
        assert!(!is_secret("Device.MQTT.Client.1.Username"));
        assert!(!is_secret("Device.Test.Value"));
        assert!(!is_secret("Device.LocalAgent.EndpointID"));
    }

    #[test]
    fn the_key_file_is_created_once_private_and_checked() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir.path().join("usp.db"));
        let a = Secrets::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = Secrets::load_or_create(&path).unwrap();
        assert_eq!(b.open(&a.seal("x")), Some(Ok("x".into())), "the same key the second time");
        std::fs::write(&path, b"short").unwrap();
        let e = Secrets::load_or_create(&path).unwrap_err();
        assert!(e.0.contains("not 32"), "{e}");
    }
}

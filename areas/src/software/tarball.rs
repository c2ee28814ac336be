//! Unpacks a Linux/lab deployment unit: a POSIX (ustar) tar archive, optionally gzip-compressed.
//! The tar format is read here (a few dozen lines, no crate); gzip is undone by the system's
//! `gzip -dc` (busybox has it on OpenWrt), so the agent carries no inflate code.
//!
//! Only regular files and directories are extracted, below the destination: absolute names,
//! `..`, links and devices are refused (the archive is rejected as corrupt). Sizes are checked
//! against a limit so that a small archive cannot fill the disk.
//!
//! Never does: run anything from the archive (the environment does, later).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use super::backend::SwError;

const BLOCK: usize = 512;

/// Extracts `archive` into `dest` (which must exist), at most `limit` bytes of file content;
/// returns the bytes written.
pub fn unpack(archive: &Path, dest: &Path, limit: u64) -> Result<u64, SwError> {
    let mut head = [0u8; 2];
    let mut f = File::open(archive).map_err(|e| SwError::io(archive, e))?;
    let n = f.read(&mut head).map_err(|e| SwError::io(archive, e))?;
    if n == 2 && head == [0x1f, 0x8b] {
        let mut child = Command::new("gzip")
            .arg("-dc")
            .arg(archive)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| SwError::Failed(format!("cannot run gzip: {e}")))?;
        let Some(out) = child.stdout.take() else {
            return Err(SwError::Failed("gzip gave no output".into()));
        };
        let r = extract(out, dest, limit);
        let status = child.wait().map_err(|e| SwError::Failed(format!("gzip: {e}")))?;
        let written = r?;
        if !status.success() {
            return Err(SwError::Corrupt("the gzip stream is broken".into()));
        }
        return Ok(written);
    }
    let f = File::open(archive).map_err(|e| SwError::io(archive, e))?;
    extract(f, dest, limit)
}

/// The names of the regular files in the (gzip-compressed or plain) tar `archive`, without
/// extracting anything.
pub fn file_names(archive: &Path) -> Result<Vec<String>, SwError> {
    let mut names = Vec::new();
    let mut input: Box<dyn Read> =
        Box::new(File::open(archive).map_err(|e| SwError::io(archive, e))?);
    let mut child = None;
    let mut head = [0u8; 2];
    let mut f = File::open(archive).map_err(|e| SwError::io(archive, e))?;
    if f.read(&mut head).map_err(|e| SwError::io(archive, e))? == 2 && head == [0x1f, 0x8b] {
        let mut c = Command::new("gzip")
            .arg("-dc")
            .arg(archive)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| SwError::Failed(format!("cannot run gzip: {e}")))?;
        if let Some(out) = c.stdout.take() {
            input = Box::new(out);
        }
        child = Some(c);
    }
    let mut header = [0u8; BLOCK];
    while read_block(&mut input, &mut header)? && header.iter().any(|b| *b != 0) {
        let size = octal(&header[124..136])?;
        if matches!(header[156], b'0' | 0) {
            names.push(entry_name(&header)?);
        }
        skip(&mut input, size)?;
    }
    drop(input);
    if let Some(mut c) = child {
        let _ = c.wait();
    }
    Ok(names)
}

/// Reads a tar stream from `input` into `dest`.
fn extract(mut input: impl Read, dest: &Path, limit: u64) -> Result<u64, SwError> {
    let mut header = [0u8; BLOCK];
    let mut total = 0u64;
    let mut entries = 0usize;
    loop {
        if !read_block(&mut input, &mut header)? {
            break;
        }
        if header.iter().all(|b| *b == 0) {
            break;
        }
        if !checksum_ok(&header) {
            return Err(SwError::Corrupt("bad tar header checksum".into()));
        }
        entries += 1;
        let size = octal(&header[124..136])?;
        let name = entry_name(&header)?;
        let target = safe_join(dest, &name)?;
        match header[156] {
            b'0' | 0 => {
                total = total.saturating_add(size);
                if total > limit {
                    return Err(SwError::NoResources(format!(
                        "the DU unpacks to over {limit} bytes"
                    )));
                }
                let mode = octal(&header[100..108]).unwrap_or(0o644) as u32;
                write_file(&mut input, &target, size, mode)?;
            }
            b'5' => std::fs::create_dir_all(&target).map_err(|e| SwError::io(&target, e))?,
            b'x' | b'g' => skip(&mut input, size)?,
            t => {
                return Err(SwError::Corrupt(format!(
                    "unsupported tar entry type {:?}",
                    t as char
                )));
            }
        }
    }
    if entries == 0 {
        return Err(SwError::Corrupt("not a tar archive".into()));
    }
    Ok(total)
}

fn read_block(input: &mut impl Read, buf: &mut [u8; BLOCK]) -> Result<bool, SwError> {
    let mut got = 0;
    while got < BLOCK {
        match input.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(SwError::Corrupt("the archive ends inside a block".into())),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(SwError::Corrupt(format!("cannot read the archive: {e}"))),
        }
    }
    Ok(true)
}

fn checksum_ok(h: &[u8; BLOCK]) -> bool {
    let want = octal(&h[148..156]).ok();
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, b)| if (148..156).contains(&i) { 32 } else { u64::from(*b) })
        .sum();
    want == Some(sum)
}

fn octal(field: &[u8]) -> Result<u64, SwError> {
    let text: String =
        field.iter().take_while(|b| **b != 0).map(|b| *b as char).collect::<String>();
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|_| SwError::Corrupt(format!("bad tar number {text:?}")))
}

fn entry_name(h: &[u8; BLOCK]) -> Result<String, SwError> {
    let field = |r: std::ops::Range<usize>| -> String {
        h[r].iter().take_while(|b| **b != 0).map(|b| *b as char).collect()
    };
    let name = field(0..100);
    let prefix = if &h[257..262] == b"ustar" { field(345..500) } else { String::new() };
    let full = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
    if full.is_empty() {
        return Err(SwError::Corrupt("an entry has no name".into()));
    }
    Ok(full)
}

/// `dest/name`, refusing names that leave `dest`.
fn safe_join(dest: &Path, name: &str) -> Result<PathBuf, SwError> {
    let mut out = dest.to_path_buf();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return Err(SwError::Corrupt(format!("unsafe entry name {name:?}"))),
        }
    }
    Ok(out)
}

fn write_file(input: &mut impl Read, target: &Path, size: u64, mode: u32) -> Result<(), SwError> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| SwError::io(parent, e))?;
    }
    let mut out = File::create(target).map_err(|e| SwError::io(target, e))?;
    let mut left = size;
    let mut block = [0u8; BLOCK];
    while left > 0 {
        if !read_block(input, &mut block)? {
            return Err(SwError::Corrupt("the archive ends inside a file".into()));
        }
        let n = left.min(BLOCK as u64) as usize;
        out.write_all(&block[..n]).map_err(|e| SwError::io(target, e))?;
        left -= n as u64;
    }
    out.sync_all().map_err(|e| SwError::io(target, e))?;
    use std::os::unix::fs::PermissionsExt;
    let perms = std::fs::Permissions::from_mode(mode & 0o755);
    std::fs::set_permissions(target, perms).map_err(|e| SwError::io(target, e))
}

fn skip(input: &mut impl Read, size: u64) -> Result<(), SwError> {
    let mut block = [0u8; BLOCK];
    for _ in 0..size.div_ceil(BLOCK as u64) {
        if !read_block(input, &mut block)? {
            return Err(SwError::Corrupt("the archive ends inside an entry".into()));
        }
    }
    Ok(())
}

/// A ustar archive of `files` (name, mode, content; a name ending in `/` is a directory): for
/// tests and tools that build DUs.
pub fn pack(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, mode, data) in files {
        let mut h = [0u8; BLOCK];
        h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
        let put = |h: &mut [u8; BLOCK], at: usize, len: usize, v: u64| {
            let s = format!("{v:0w$o}\0", w = len - 1);
            h[at..at + len].copy_from_slice(s.as_bytes());
        };
        put(&mut h, 100, 8, u64::from(*mode));
        put(&mut h, 108, 8, 0);
        put(&mut h, 116, 8, 0);
        put(&mut h, 124, 12, data.len() as u64);
        put(&mut h, 136, 12, 0);
        h[156] = if name.ends_with('/') { b'5' } else { b'0' };
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    out
}

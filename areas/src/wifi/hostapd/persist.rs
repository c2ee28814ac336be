//! Persistent hostapd writes: a transaction's edits written to the BSSes' configuration files
//! (`conf.rs`) before its commands run, the files put back when hostapd refuses, and BSSes
//! their file keeps disabled stopped again after a `RELOAD` restarted them.
//!
//! Never does: decide the commands (`write.rs`) or parse the files (`conf.rs`).

use std::path::PathBuf;

use super::{HostapdWifi, conf, read_conf, retune, write};
use crate::wifi::model::WifiError;

impl HostapdWifi {
    /// Writes the plan's edits to the BSSes' configuration files; returns each changed file's
    /// previous text (to put back when hostapd refuses the change).
    pub(super) fn write_files(
        &mut self,
        plan: &[write::BssPlan],
    ) -> Result<Vec<(PathBuf, String)>, WifiError> {
        self.confs = conf::index(&self.conf_dir);
        let mut texts: Vec<(PathBuf, String, String)> = Vec::new();
        for p in plan.iter().filter(|p| !p.edits.is_empty()) {
            let Some(path) = self.confs.get(&p.ifname).cloned() else {
                let msg = format!(
                    "no hostapd configuration file in {} names {} (interface= or bss=)",
                    self.conf_dir.display(),
                    p.ifname
                );
                if p.needs_file {
                    return Err(WifiError::Unavailable(msg));
                }
                self.warn_once(&format!("{msg}: its changes are not persistent"));
                continue;
            };
            if !texts.iter().any(|(q, _, _)| *q == path) {
                let old = std::fs::read_to_string(&path)
                    .map_err(|e| WifiError::Io(format!("{}: {e}", path.display())))?;
                texts.push((path.clone(), old.clone(), old));
            }
            let op = self.radios.iter().find(|r| r.bsses.contains(&p.ifname));
            let op = op.map(|r| r.operating.clone()).unwrap_or_default();
            if let Some((_, _, text)) = texts.iter_mut().find(|(q, _, _)| *q == path) {
                for (key, value) in &p.edits {
                    *text = conf::set(text, &p.ifname, key, value)?;
                    if key == "channel" {
                        let channel = value.parse().unwrap_or(0);
                        for (k, v) in retune::file_edits(text, &p.ifname, &op, channel) {
                            *text = conf::set(text, &p.ifname, &k, &v)?;
                        }
                    }
                }
            }
        }
        let mut saved: Vec<(PathBuf, String)> = Vec::new();
        for (path, old, new) in texts.into_iter().filter(|(_, old, new)| old != new) {
            if let Err(e) = conf::write_atomic(&path, &new) {
                for (p, o) in &saved {
                    let _ = conf::write_atomic(p, o);
                }
                return Err(e);
            }
            saved.push((path, old));
        }
        Ok(saved)
    }

    /// Sends the plan's commands, then its beacon commands (`STOP_AP`, `UPDATE_BEACON`); after
    /// a `RELOAD` (which restarts every BSS of the radio) stops again the other BSSes of that
    /// radio that their file keeps disabled.
    pub(super) fn run_plan(&mut self, plan: &[write::BssPlan]) -> Result<(), WifiError> {
        let mut reloaded: Vec<String> = Vec::new();
        for p in plan {
            if write::run(&self.open(&p.ifname)?, &p.cmds)? {
                reloaded.push(p.ifname.clone());
            }
        }
        let mut beacon_set: Vec<&str> = Vec::new();
        for p in plan {
            for cmd in p.cmds.iter().filter(|c| write::is_beacon(c)) {
                self.open(&p.ifname)?.command(cmd)?;
                beacon_set.push(&p.ifname);
            }
        }
        let siblings: Vec<String> = self
            .radios
            .iter()
            .filter(|r| r.bsses.iter().any(|b| reloaded.contains(b)))
            .flat_map(|r| r.bsses.clone())
            .filter(|b| !beacon_set.contains(&b.as_str()))
            .collect();
        for ifname in siblings {
            let text = self.confs.get(&ifname).and_then(|p| read_conf(p));
            let off = text.and_then(|t| conf::get(&t, &ifname, "start_disabled"));
            if off.is_some_and(|v| v.trim() == "1") {
                self.open(&ifname)?.command("STOP_AP")?;
            }
        }
        Ok(())
    }
}

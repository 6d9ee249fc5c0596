//! A configuration reload (SIGHUP): the `[[lines]]` of the new configuration, matched with ours
//! by `user`. A line that stays keeps its device ID and its calls, and takes the new settings
//! for its next requests (re-registering when its registration settings changed); a new line
//! gets the next device ID (LINE_CREATE); a line that is gone has its calls dropped and its
//! registration removed (LINE_REMOVE), and its device ID is never reused.

use std::time::Instant;

use crate::config::LineConfig;
use crate::tapi::{CallId, DeviceId, ProviderEvent};

use super::line::Line;
use super::registration::Registration;
use super::SipProvider;

impl SipProvider {
    /// Applies the lines of a reloaded configuration.
    pub fn reload_lines(&mut self, now: Instant, lines: &[LineConfig]) {
        for index in 0..self.lines.len() {
            let line = &self.lines[index];
            if line.removed {
                continue;
            }
            match lines.iter().find(|l| l.user == line.cfg.user) {
                Some(new) => self.update_line(now, index, new.clone()),
                None => self.remove_line(now, index),
            }
        }
        for new in lines {
            let known = self
                .lines
                .iter()
                .any(|l| !l.removed && l.user_is(&new.user));
            if !known {
                self.add_line(now, new.clone());
            }
        }
    }

    fn update_line(&mut self, now: Instant, index: usize, cfg: LineConfig) {
        let old = &self.lines[index].cfg;
        let reregister = old.register != cfg.register
            || old.registrar != cfg.registrar
            || old.outbound_proxy != cfg.outbound_proxy
            || old.auth_user != cfg.auth_user
            || old.password != cfg.password
            || old.transport != cfg.transport
            || old.expires != cfg.expires
            || old.domain != cfg.domain;
        if !reregister && old.proxy == cfg.proxy && old.name == cfg.name {
            self.lines[index].cfg = cfg;
            return;
        }
        tracing::info!(line = %cfg.user, reregister, "line settings changed");
        // A new REGISTER replaces the binding; only a binding at a registrar we leave (or no
        // registration any more) is removed first.
        if reregister && (old.registrar != cfg.registrar || !cfg.register) {
            self.with_registration(now, index, |reg, env| reg.stop(env));
        }
        self.lines[index].cfg = cfg;
        self.lines[index].public_address = None;
        if reregister {
            let fresh = Registration::new(DeviceId(index as u32), &self.lines[index]);
            self.registrations[index] = fresh;
            self.with_registration(now, index, |reg, env| reg.start(env));
        }
    }

    fn remove_line(&mut self, now: Instant, index: usize) {
        tracing::info!(line = %self.lines[index].cfg.user, device = index, "line removed");
        let mut calls: Vec<CallId> = self
            .calls
            .values()
            .filter(|c| c.line == index && c.is_live())
            .map(|c| c.id)
            .collect();
        calls.sort();
        for call in calls {
            self.with_call(now, call, |c, env| c.hang_up(env));
        }
        self.with_registration(now, index, |reg, env| reg.stop(env));
        self.lines[index].removed = true;
        self.events.push_back(ProviderEvent::LineRemoved {
            device: DeviceId(index as u32),
        });
    }

    fn add_line(&mut self, now: Instant, cfg: LineConfig) {
        let index = self.lines.len();
        tracing::info!(line = %cfg.user, device = index, "line added");
        let line = Line::new(cfg);
        self.registrations
            .push(Registration::new(DeviceId(index as u32), &line));
        self.lines.push(line);
        self.events.push_back(ProviderEvent::LineCreated {
            device: DeviceId(index as u32),
        });
        self.with_registration(now, index, |reg, env| reg.start(env));
    }
}

impl Line {
    /// Lines are matched across reloads by their user part.
    pub fn user_is(&self, user: &str) -> bool {
        self.cfg.user == user
    }
}

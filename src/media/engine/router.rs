//! The router task: which shard holds which call. Opens go to the least loaded shard; a
//! conference's members are moved (session and sockets) onto the shard of the conference so it
//! mixes them in one pass. Commands for a call keep their order: the router forwards them one
//! at a time and waits for a move to finish before forwarding anything else.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use super::shard::{ShardCommand, ShardTx};
use super::MediaCommand;

pub struct Router {
    shards: Vec<ShardTx>,
    load: Vec<usize>,
    home: HashMap<u64, usize>,
    conferences: HashMap<u64, usize>,
}

impl Router {
    pub fn new(shards: Vec<ShardTx>) -> Self {
        let load = vec![0; shards.len()];
        Router {
            shards,
            load,
            home: HashMap::new(),
            conferences: HashMap::new(),
        }
    }

    pub async fn run(mut self, mut rx: mpsc::Receiver<MediaCommand>) {
        while let Some(cmd) = rx.recv().await {
            self.route(cmd).await;
        }
        // Dropping the shard senders closes every session.
    }

    async fn route(&mut self, cmd: MediaCommand) {
        match cmd {
            MediaCommand::Open { call, .. } => {
                let shard = match self.home.get(&call) {
                    Some(&s) => s,
                    None => self.least_loaded(),
                };
                if self.home.insert(call, shard).is_none() {
                    self.load[shard] += 1;
                }
                self.forward(shard, cmd).await;
            }
            MediaCommand::Close { call } => {
                if let Some(shard) = self.home.remove(&call) {
                    self.load[shard] -= 1;
                    self.forward(shard, cmd).await;
                }
            }
            MediaCommand::Conference { conf, members } => self.conference(conf, members).await,
            other => {
                let home = other.call().and_then(|c| self.home.get(&c).copied());
                match home {
                    Some(shard) => self.forward(shard, other).await,
                    None => tracing::debug!(?other, "media command for a call without a session"),
                }
            }
        }
    }

    fn least_loaded(&self) -> usize {
        (0..self.load.len())
            .min_by_key(|&i| self.load[i])
            .unwrap_or(0)
    }

    async fn forward(&self, shard: usize, cmd: MediaCommand) {
        // A shard only stops when the router does; a send error means the runtime is ending.
        let _ = self.shards[shard].send(ShardCommand::Media(cmd)).await;
    }

    async fn conference(&mut self, conf: u64, members: Vec<u64>) {
        let present: Vec<u64> = members
            .iter()
            .copied()
            .filter(|c| self.home.contains_key(c))
            .collect();
        let target = match (self.conferences.get(&conf), present.first()) {
            (Some(&s), _) => s,
            (None, Some(first)) => self.home[first],
            (None, None) => return,
        };
        for &call in &present {
            let from = self.home[&call];
            if from != target {
                self.move_call(call, from, target).await;
            }
        }
        if present.is_empty() {
            self.conferences.remove(&conf);
        } else {
            self.conferences.insert(conf, target);
        }
        self.forward(
            target,
            MediaCommand::Conference {
                conf,
                members: present,
            },
        )
        .await;
    }

    async fn move_call(&mut self, call: u64, from: usize, to: usize) {
        let (reply, answer) = oneshot::channel();
        if self.shards[from]
            .send(ShardCommand::Detach { call, reply })
            .await
            .is_err()
        {
            return;
        }
        let Ok(Some(detached)) = answer.await else {
            return;
        };
        if self.shards[to]
            .send(ShardCommand::Attach(detached))
            .await
            .is_ok()
        {
            self.home.insert(call, to);
            self.load[from] -= 1;
            self.load[to] += 1;
        }
    }
}

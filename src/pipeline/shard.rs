//! Which records a run takes: upstream's sharding, with Slurm array variables as the default.

/// `--num_shards`/`--shard_id`, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub id: u32,
    pub count: u32,
    /// Where the values came from, for the run's first line.
    pub from_slurm: bool,
}

impl Shard {
    pub const ALL: Shard = Shard {
        id: 0,
        count: 1,
        from_slurm: false,
    };

    /// Flags win; without them a Slurm array (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`,
    /// offset by `SLURM_ARRAY_TASK_MIN`) spreads the work; else one shard.
    pub fn resolve(num_shards: Option<u32>, shard_id: Option<u32>) -> Result<Shard, String> {
        let shard = match (num_shards, shard_id) {
            (Some(n), id) => Shard {
                id: id.unwrap_or(0),
                count: n.max(1),
                from_slurm: false,
            },
            (None, Some(id)) => Shard {
                id,
                count: 1,
                from_slurm: false,
            },
            (None, None) => match slurm() {
                Some(s) => s,
                None => Shard::ALL,
            },
        };
        if shard.id >= shard.count {
            return Err(format!(
                "shard id {} is not below the shard count {}",
                shard.id, shard.count
            ));
        }
        Ok(shard)
    }

    /// `shard{ii:02d}of{nn:02d}`, as upstream names per-shard logs.
    pub fn suffix(&self) -> String {
        format!("shard{:02}of{:02}", self.id, self.count)
    }
}

fn slurm() -> Option<Shard> {
    let var = |k: &str| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    let id = var("SLURM_ARRAY_TASK_ID")?;
    let count = var("SLURM_ARRAY_TASK_COUNT")?;
    let min = var("SLURM_ARRAY_TASK_MIN").unwrap_or(0);
    Some(Shard {
        id: id.checked_sub(min)?,
        count: count.max(1),
        from_slurm: true,
    })
}

//! Foreign CPU load: what processes outside the benchmark (this process, its control plane and the tool
//! under test) burn while a step runs. The machine may be shared (builds, other test suites): a step is
//! started once the machine is quiet, and the load that still came in during it is reported.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A point in time: all CPU time the machine spent, and what this process tree spent.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    busy: u64,
    ours: u64,
    at: Instant,
}

impl Mark {
    pub fn now() -> Mark {
        Mark {
            busy: machine_busy_ticks(),
            ours: tree_ticks(std::process::id()),
            at: Instant::now(),
        }
    }

    /// Cores used by other processes since `self`, given the CPU time of tool processes that exited in
    /// between (their ticks left the tree with them).
    pub fn foreign_cores(&self, exited: Duration) -> f64 {
        let now = Mark::now();
        let busy = now.busy.saturating_sub(self.busy) as f64 / ticks_per_second();
        let ours = now.ours.saturating_sub(self.ours) as f64 / ticks_per_second();
        let wall = now.at.duration_since(self.at).as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        ((busy - ours - exited.as_secs_f64()) / wall).max(0.0)
    }
}

/// Waits (up to `patience`) until other processes use less than `threshold` cores over one second;
/// returns the last load seen.
pub async fn wait_quiet(threshold: f64, patience: Duration) -> f64 {
    let started = Instant::now();
    let mut warned = false;
    loop {
        let mark = Mark::now();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let load = mark.foreign_cores(Duration::ZERO);
        if load < threshold || started.elapsed() > patience {
            return load;
        }
        if !warned {
            eprintln!(
                "bench:   waiting for the machine to be quiet ({load:.2} foreign cores busy)"
            );
            warned = true;
        }
    }
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// user + nice + system + irq + softirq + steal, from the first line of /proc/stat.
fn machine_busy_ticks() -> u64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().next() else {
        return 0;
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| v.get(i)).sum()
}

/// utime + stime of `root` and every live descendant.
fn tree_ticks(root: u32) -> u64 {
    let mut parent: HashMap<u32, u32> = HashMap::new();
    let mut ticks: HashMap<u32, u64> = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The command name is in parentheses and may hold spaces: split after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        // rest starts at field 3 (state): ppid is field 4, utime 14, stime 15.
        let num = |i: usize| {
            f.get(i - 3)
                .and_then(|x| x.parse::<u64>().ok())
                .unwrap_or(0)
        };
        parent.insert(pid, u32::try_from(num(4)).unwrap_or(0));
        ticks.insert(pid, num(14) + num(15));
    }
    ticks
        .iter()
        .filter(|(pid, _)| {
            let mut p = **pid;
            // Walk up to init; depth-bounded against a pid table that changed while read.
            for _ in 0..64 {
                if p == root {
                    return true;
                }
                match parent.get(&p) {
                    Some(&pp) if pp != 0 && pp != p => p = pp,
                    _ => return false,
                }
            }
            false
        })
        .map(|(_, t)| t)
        .sum()
}

//! The scheduling state machine over the DAG (pure): which nodes may start now, which are unblocked by a
//! completion, and which are blocked by a failure. No wave barriers: a node starts as soon as every one of
//! its own dependencies is satisfied.
//!
//! A dependency is satisfied when the dependency is *ready* ([`Need::Ready`], the general rule), or, for
//! the webhooks-last rule, as soon as it is *applied* ([`Need::Applied`]): a webhook configuration only
//! needs the rest of its layer to exist, not to be ready (ingress-nginx's certificate Job patches the
//! webhook configuration, so it cannot complete before it exists).

/// What a dependent needs of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Ready,
    Applied,
}

/// What became of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Waiting for dependencies.
    Waiting,
    /// Handed out, not finished yet.
    Running,
    Done,
    Failed,
    /// A dependency failed (directly or transitively): never started.
    Blocked,
}

/// Dependency counting over a DAG given as `deps[node] = (dependency, need)`.
#[derive(Debug, Clone)]
pub struct Schedule {
    remaining: Vec<usize>,
    on_ready: Vec<Vec<usize>>,
    on_applied: Vec<Vec<usize>>,
    applied: Vec<bool>,
    state: Vec<NodeState>,
}

impl Schedule {
    /// `deps[n]` lists what node `n` waits for; out-of-range indices and self-edges are ignored.
    pub fn new(deps: &[Vec<(usize, Need)>]) -> Schedule {
        let n = deps.len();
        let mut on_ready = vec![Vec::new(); n];
        let mut on_applied = vec![Vec::new(); n];
        let mut remaining = vec![0; n];
        for (node, ds) in deps.iter().enumerate() {
            let mut ds: Vec<(usize, Need)> = ds
                .iter()
                .copied()
                .filter(|&(d, _)| d < n && d != node)
                .collect();
            // One edge per dependency; the stronger need (ready) wins.
            ds.sort_unstable_by_key(|&(d, need)| (d, need == Need::Applied));
            ds.dedup_by_key(|&mut (d, _)| d);
            remaining[node] = ds.len();
            for (d, need) in ds {
                match need {
                    Need::Ready => on_ready[d].push(node),
                    Need::Applied => on_applied[d].push(node),
                }
            }
        }
        Schedule {
            remaining,
            on_ready,
            on_applied,
            applied: vec![false; n],
            state: vec![NodeState::Waiting; n],
        }
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    pub fn state(&self, node: usize) -> NodeState {
        self.state[node]
    }

    /// Nodes with no dependencies, in index order; they are marked running.
    pub fn initial(&mut self) -> Vec<usize> {
        let ready: Vec<usize> = (0..self.len())
            .filter(|&n| self.remaining[n] == 0 && self.state[n] == NodeState::Waiting)
            .collect();
        for &n in &ready {
            self.state[n] = NodeState::Running;
        }
        ready
    }

    /// `node` was written (not yet ready): returns the dependents that only needed that and may start now.
    pub fn applied(&mut self, node: usize) -> Vec<usize> {
        if std::mem::replace(&mut self.applied[node], true) {
            return Vec::new();
        }
        let dependents = std::mem::take(&mut self.on_applied[node]);
        self.release(&dependents)
    }

    /// Marks `node` done (ready) and returns the dependents that may start now, in index order.
    pub fn complete(&mut self, node: usize) -> Vec<usize> {
        if self.state[node] == NodeState::Done {
            return Vec::new();
        }
        self.state[node] = NodeState::Done;
        let mut ready = self.applied(node);
        let dependents = std::mem::take(&mut self.on_ready[node]);
        ready.extend(self.release(&dependents));
        ready.sort_unstable();
        ready
    }

    fn release(&mut self, dependents: &[usize]) -> Vec<usize> {
        let mut ready = Vec::new();
        for &d in dependents {
            self.remaining[d] = self.remaining[d].saturating_sub(1);
            if self.remaining[d] == 0 && self.state[d] == NodeState::Waiting {
                self.state[d] = NodeState::Running;
                ready.push(d);
            }
        }
        ready.sort_unstable();
        ready
    }

    /// Marks `node` failed and returns every node now blocked by it (transitively), in index order.
    /// Dependents that only needed it applied, and already got that, are not blocked.
    pub fn fail(&mut self, node: usize) -> Vec<usize> {
        self.state[node] = NodeState::Failed;
        let mut blocked = Vec::new();
        let mut stack: Vec<usize> = self.blocked_by(node);
        while let Some(d) = stack.pop() {
            if self.state[d] == NodeState::Waiting {
                self.state[d] = NodeState::Blocked;
                blocked.push(d);
                stack.extend(self.blocked_by(d));
            }
        }
        blocked.sort_unstable();
        blocked
    }

    fn blocked_by(&self, node: usize) -> Vec<usize> {
        let mut out = self.on_ready[node].clone();
        if !self.applied[node] {
            out.extend(self.on_applied[node].iter().copied());
        }
        out
    }

    /// True when no node is waiting or running.
    pub fn finished(&self) -> bool {
        self.state
            .iter()
            .all(|s| !matches!(s, NodeState::Waiting | NodeState::Running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(deps: &[&[usize]]) -> Vec<Vec<(usize, Need)>> {
        deps.iter()
            .map(|ds| ds.iter().map(|&d| (d, Need::Ready)).collect())
            .collect()
    }

    #[test]
    fn diamond_runs_without_barriers() {
        // 0 <- 1, 0 <- 2, {1,2} <- 3, and 4 independent.
        let mut s = Schedule::new(&ready(&[&[], &[0], &[0], &[1, 2], &[]]));
        assert_eq!(s.initial(), vec![0, 4]);
        assert_eq!(s.complete(0), vec![1, 2]);
        assert_eq!(s.complete(1), Vec::<usize>::new());
        assert_eq!(s.complete(2), vec![3]);
        assert!(!s.finished());
        s.complete(3);
        s.complete(4);
        assert!(s.finished());
    }

    #[test]
    fn failure_blocks_only_dependents() {
        let mut s = Schedule::new(&ready(&[&[], &[0], &[1], &[]]));
        assert_eq!(s.initial(), vec![0, 3]);
        assert_eq!(s.fail(0), vec![1, 2]);
        assert_eq!(
            s.state(3),
            NodeState::Running,
            "independent branch carries on"
        );
        s.complete(3);
        assert!(s.finished());
    }

    #[test]
    fn duplicate_and_self_edges_are_ignored() {
        let mut s = Schedule::new(&ready(&[&[0], &[0, 0]]));
        assert_eq!(s.initial(), vec![0]);
        assert_eq!(s.complete(0), vec![1]);
    }

    #[test]
    fn applied_needs_start_before_readiness() {
        // 1 needs 0 applied; 2 needs 0 ready.
        let deps = vec![vec![], vec![(0, Need::Applied)], vec![(0, Need::Ready)]];
        let mut s = Schedule::new(&deps);
        assert_eq!(s.initial(), vec![0]);
        assert_eq!(s.applied(0), vec![1]);
        assert_eq!(s.applied(0), Vec::<usize>::new(), "once");
        assert_eq!(s.complete(0), vec![2]);
    }

    #[test]
    fn a_failure_after_apply_does_not_block_what_only_needed_it_applied() {
        let deps = vec![vec![], vec![(0, Need::Applied)], vec![(0, Need::Ready)]];
        let mut s = Schedule::new(&deps);
        s.initial();
        assert_eq!(s.applied(0), vec![1]);
        assert_eq!(s.fail(0), vec![2]);
        assert_eq!(s.state(1), NodeState::Running);
    }

    #[test]
    fn a_failure_before_apply_blocks_everything_downstream() {
        let deps = vec![vec![], vec![(0, Need::Applied)], vec![(1, Need::Ready)]];
        let mut s = Schedule::new(&deps);
        s.initial();
        assert_eq!(s.fail(0), vec![1, 2]);
    }

    #[test]
    fn the_stronger_need_wins_for_a_repeated_dependency() {
        let deps = vec![vec![], vec![(0, Need::Applied), (0, Need::Ready)]];
        let mut s = Schedule::new(&deps);
        s.initial();
        assert_eq!(s.applied(0), Vec::<usize>::new());
        assert_eq!(s.complete(0), vec![1]);
    }
}

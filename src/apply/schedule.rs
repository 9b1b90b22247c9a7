//! The scheduling state machine over the DAG (pure): which nodes may start now, which are unblocked by a
//! completion, and which are blocked by a failure. No wave barriers: a node starts as soon as every one of
//! its own dependencies is done.

/// What became of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Waiting for dependencies.
    Waiting,
    /// Handed out by [`Schedule::initial`] or [`Schedule::complete`], not finished yet.
    Running,
    Done,
    Failed,
    /// A dependency failed (directly or transitively): never started.
    Blocked,
}

/// Dependency counting over a DAG given as `deps[node] = nodes it waits for`.
#[derive(Debug, Clone)]
pub struct Schedule {
    remaining: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    state: Vec<NodeState>,
}

impl Schedule {
    /// `deps[n]` lists what node `n` waits for; indices out of range are ignored (the graph guarantees none).
    pub fn new(deps: &[Vec<usize>]) -> Schedule {
        let n = deps.len();
        let mut dependents = vec![Vec::new(); n];
        let mut remaining = vec![0; n];
        for (node, ds) in deps.iter().enumerate() {
            let mut ds: Vec<usize> = ds.iter().copied().filter(|&d| d < n && d != node).collect();
            ds.sort_unstable();
            ds.dedup();
            remaining[node] = ds.len();
            for d in ds {
                dependents[d].push(node);
            }
        }
        Schedule {
            remaining,
            dependents,
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

    /// Marks `node` done and returns the dependents that may start now (marked running), in index order.
    pub fn complete(&mut self, node: usize) -> Vec<usize> {
        if self.state[node] == NodeState::Done {
            return Vec::new();
        }
        self.state[node] = NodeState::Done;
        let mut ready = Vec::new();
        for i in 0..self.dependents[node].len() {
            let d = self.dependents[node][i];
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
    pub fn fail(&mut self, node: usize) -> Vec<usize> {
        self.state[node] = NodeState::Failed;
        let mut blocked = Vec::new();
        let mut stack = self.dependents[node].clone();
        while let Some(d) = stack.pop() {
            if self.state[d] == NodeState::Waiting {
                self.state[d] = NodeState::Blocked;
                blocked.push(d);
                stack.extend(self.dependents[d].iter().copied());
            }
        }
        blocked.sort_unstable();
        blocked
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

    #[test]
    fn diamond_runs_without_barriers() {
        // 0 <- 1, 0 <- 2, {1,2} <- 3, and 4 independent.
        let deps = vec![vec![], vec![0], vec![0], vec![1, 2], vec![]];
        let mut s = Schedule::new(&deps);
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
        let deps = vec![vec![], vec![0], vec![1], vec![]];
        let mut s = Schedule::new(&deps);
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
        let deps = vec![vec![0], vec![0, 0]];
        let mut s = Schedule::new(&deps);
        assert_eq!(s.initial(), vec![0]);
        assert_eq!(s.complete(0), vec![1]);
    }
}

//! Cycles: strongly connected components (Tarjan, iterative), and one concrete cycle per component,
//! printed `A -> B -> A` with the rule of each edge. Deterministic: nodes and edges are visited in order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use super::dag::Graph;
use super::model::{Edge, NodeId};

/// One cycle: `steps[i]` goes from `nodes[i]` to `nodes[i + 1]`, and the last back to `nodes[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub nodes: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub from: String,
    pub to: String,
    pub rule: super::Rule,
    pub detail: String,
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dependency cycle: ")?;
        for n in &self.nodes {
            write!(f, "{n} -> ")?;
        }
        write!(f, "{}", self.nodes.first().map_or("", String::as_str))?;
        for s in &self.steps {
            write!(f, "\n  {} -> {}: {}", s.from, s.to, s.rule)?;
            if !s.detail.is_empty() {
                write!(f, " ({})", s.detail)?;
            }
        }
        Ok(())
    }
}

/// The graph has cycles: one per strongly connected component, in node order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CycleError {
    pub cycles: Vec<Cycle>,
}

impl fmt::Display for CycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.cycles.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// # Errors
/// [`CycleError`] when some component has more than one node or a node depends on itself.
pub fn check(graph: &Graph) -> Result<(), CycleError> {
    let mut cycles: Vec<Cycle> = components(graph)
        .into_iter()
        .filter(|c| {
            c.len() > 1
                || graph
                    .dependencies(NodeId(c[0]))
                    .iter()
                    .any(|e| e.to.0 == c[0])
        })
        .map(|c| shortest_cycle(graph, &c))
        .collect();
    if cycles.is_empty() {
        return Ok(());
    }
    cycles.sort_by(|a, b| a.nodes.cmp(&b.nodes));
    Err(CycleError { cycles })
}

/// Strongly connected components, each sorted; iterative so that long chains cannot overflow the stack.
fn components(graph: &Graph) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let len = graph.nodes().len();
    let (mut index, mut low, mut on_stack) = (vec![UNSEEN; len], vec![0; len], vec![false; len]);
    let (mut stack, mut out, mut next) = (Vec::new(), Vec::new(), 0);
    for root in 0..len {
        if index[root] != UNSEEN {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(top) = call.last_mut() {
            let (v, pos) = *top;
            let deps = graph.dependencies(NodeId(v));
            if pos < deps.len() {
                top.1 += 1;
                let w = deps[pos].to.0;
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(u, _)) = call.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                out.push(component);
            }
        }
    }
    out
}

/// The shortest cycle through the component's first node (breadth-first inside the component).
fn shortest_cycle(graph: &Graph, component: &[usize]) -> Cycle {
    let members: HashSet<usize> = component.iter().copied().collect();
    let start = component[0];
    let mut parent: HashMap<usize, &Edge> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    let mut closing: Option<&Edge> = None;
    'search: while let Some(v) = queue.pop_front() {
        for e in graph.dependencies(NodeId(v)) {
            let w = e.to.0;
            if w == start {
                closing = Some(e);
                break 'search;
            }
            if members.contains(&w) && !parent.contains_key(&w) {
                parent.insert(w, e);
                queue.push_back(w);
            }
        }
    }
    // Walk back from the closing edge to the start.
    let mut path: Vec<&Edge> = closing.into_iter().collect();
    let mut at = path.first().map_or(start, |e| e.from.0);
    while at != start {
        let Some(e) = parent.get(&at) else { break };
        path.push(e);
        at = e.from.0;
    }
    path.reverse();
    let label = |n: NodeId| graph.node(n).label();
    Cycle {
        nodes: path.iter().map(|e| label(e.from)).collect(),
        steps: path
            .iter()
            .map(|e| Step {
                from: label(e.from),
                to: label(e.to),
                rule: e.rule,
                detail: e.detail.clone(),
            })
            .collect(),
    }
}

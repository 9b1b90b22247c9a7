//! Progress of an apply: which objects are ready of how many per layer, and what is being waited on.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

use crate::apply::{Action, ApplyEvent};
use crate::object::Object;

/// Renders [`ApplyEvent`]s to the writer it is given (the commands give stderr): redrawn in place on a
/// terminal, one line per object otherwise. Write errors are ignored: progress never fails a run.
pub struct Progress<'a> {
    out: Box<dyn Write + 'a>,
    objects: &'a [Object],
    layers: Vec<String>,
    totals: Vec<usize>,
    done: Vec<usize>,
    running: BTreeSet<usize>,
    start: Instant,
    terminal: bool,
    drawn_lines: usize,
    last_draw: Option<Instant>,
    /// Object → why it is not ready yet.
    reasons: HashMap<usize, String>,
}

impl<'a> Progress<'a> {
    pub fn new(
        objects: &'a [Object],
        layer_order: &[String],
        terminal: bool,
        out: impl Write + 'a,
    ) -> Progress<'a> {
        let layers: Vec<String> = layer_order.to_vec();
        let totals = layers
            .iter()
            .map(|l| objects.iter().filter(|o| &o.source.layer == l).count())
            .collect();
        Progress {
            out: Box::new(out),
            objects,
            done: vec![0; layers.len()],
            layers,
            totals,
            running: BTreeSet::new(),
            start: Instant::now(),
            terminal,
            drawn_lines: 0,
            last_draw: None,
            reasons: HashMap::new(),
        }
    }

    fn layer_index(&self, i: usize) -> Option<usize> {
        self.layers
            .iter()
            .position(|l| *l == self.objects[i].source.layer)
    }

    /// Takes one event.
    pub fn event(&mut self, event: ApplyEvent) {
        match event {
            ApplyEvent::Started(i) => {
                self.running.insert(i);
            }
            ApplyEvent::Waiting(i, why) => self.waiting(i, why),
            ApplyEvent::Resumed { skipped, journal } => {
                let _ = writeln!(
                    self.out,
                    "resuming: {skipped} object(s) finished by the interrupted run are skipped ({})",
                    journal.display()
                );
            }
            ApplyEvent::Hook { change, what } => {
                // Hooks are runs, not objects of a layer: a line of their own, even on a terminal.
                if !self.terminal {
                    let error = change.error.map(|e| format!(": {e}")).unwrap_or_default();
                    let _ = writeln!(
                        self.out,
                        "[{:>6.1}s] {:<10} {what}{error}",
                        self.start.elapsed().as_secs_f64(),
                        change.action.as_str(),
                    );
                }
            }
            ApplyEvent::Finished(i, action) => {
                self.running.remove(&i);
                self.reasons.remove(&i);
                if !self.terminal {
                    let o = &self.objects[i];
                    let _ = writeln!(
                        self.out,
                        "[{:>6.1}s] {:<10} {} ({})",
                        self.start.elapsed().as_secs_f64(),
                        action.as_str(),
                        o.id,
                        o.source
                    );
                }
                if let Some(l) = self.layer_index(i) {
                    self.done[l] += 1;
                    if !self.terminal && self.done[l] == self.totals[l] {
                        let _ = writeln!(
                            self.out,
                            "[{:>6.1}s] layer {} done ({} objects)",
                            self.start.elapsed().as_secs_f64(),
                            self.layers[l],
                            self.totals[l]
                        );
                    }
                }
            }
        }
        if self.terminal {
            let now = Instant::now();
            let due = self
                .last_draw
                .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(100));
            let finished = self.done.iter().sum::<usize>() == self.objects.len();
            if due || finished {
                self.draw();
                self.last_draw = Some(now);
            }
        }
    }

    /// Records why object `i` is not ready (each reason arrives once, when it changes); off a
    /// terminal, prints it.
    fn waiting(&mut self, i: usize, why: String) {
        if !self.terminal {
            let _ = writeln!(
                self.out,
                "[{:>6.1}s] waiting    {}: {why}",
                self.start.elapsed().as_secs_f64(),
                self.objects[i].id,
            );
        }
        self.reasons.insert(i, why);
    }

    /// The status block: one line per layer, then what is being waited on.
    fn draw(&mut self) {
        let mut out = String::new();
        if self.drawn_lines > 0 {
            out.push_str(&format!("\x1b[{}A", self.drawn_lines));
        }
        let mut lines = Vec::new();
        for (l, name) in self.layers.iter().enumerate() {
            let mark = if self.done[l] == self.totals[l] {
                "✓"
            } else {
                " "
            };
            lines.push(format!(
                "{mark} {name:<16} {:>5}/{:<5}",
                self.done[l], self.totals[l]
            ));
        }
        let waiting: Vec<String> = self
            .running
            .iter()
            .take(3)
            .map(|&i| match self.reasons.get(&i) {
                Some(why) => format!("{} ({why})", self.objects[i].id),
                None => self.objects[i].id.to_string(),
            })
            .collect();
        let more = self.running.len().saturating_sub(waiting.len());
        let mut w = format!(
            "  {:.1}s  waiting on: {}",
            self.start.elapsed().as_secs_f64(),
            if waiting.is_empty() {
                "-".to_string()
            } else {
                waiting.join(", ")
            }
        );
        if more > 0 {
            w.push_str(&format!(" (+{more} more)"));
        }
        lines.push(w);
        for line in &lines {
            out.push_str("\x1b[2K");
            out.push_str(line);
            out.push('\n');
        }
        self.drawn_lines = lines.len();
        let _ = self.out.write_all(out.as_bytes());
        let _ = self.out.flush();
    }

    /// Whether an action is worth a line in the final list (failures and blocks always are).
    pub fn is_problem(action: Action) -> bool {
        matches!(action, Action::Failed | Action::Blocked)
    }
}

//! Diagnostics: every problem found in the repository, pointing at file, line, column and object.

use std::fmt;

use serde::Serialize;

/// One problem (or warning) in the repository, rendered `path:line:col: Kind/ns/name: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// File (or Kustomize folder) relative to the repository root, `/`-separated.
    pub path: String,
    /// 1-based line in `path`, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// `Kind/namespace/name` (or `Kind/name`) of the object concerned, when known.
    pub object: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            path: path.into(),
            line: None,
            column: None,
            object: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, line: usize, column: Option<usize>) -> Diagnostic {
        self.line = Some(line);
        self.column = column;
        self
    }

    pub fn object(mut self, object: impl Into<String>) -> Diagnostic {
        self.object = Some(object.into());
        self
    }

    fn sort_key(&self) -> (&str, usize, usize) {
        (&self.path, self.line.unwrap_or(0), self.column.unwrap_or(0))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(object) = &self.object {
            write!(f, ": {object}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Sorts diagnostics by file, line and column, keeping discovery order among equals (deterministic).
pub(crate) fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// The error of [`load`](super::load): every problem found, so that one run reports them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "invalid repository ({n} error{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_a_compiler() {
        let cases = [
            (Diagnostic::new("a.yaml", "bad"), "a.yaml: bad"),
            (
                Diagnostic::new("a.yaml", "bad").at(3, None),
                "a.yaml:3: bad",
            ),
            (
                Diagnostic::new("a.yaml", "bad")
                    .at(3, Some(7))
                    .object("Deployment/web/api"),
                "a.yaml:3:7: Deployment/web/api: bad",
            ),
        ];
        for (d, want) in cases {
            assert_eq!(d.to_string(), want);
        }
    }

    #[test]
    fn sorts_by_place() {
        let mut v = vec![
            Diagnostic::new("b.yaml", "x").at(1, None),
            Diagnostic::new("a.yaml", "y").at(9, Some(2)),
            Diagnostic::new("a.yaml", "z").at(2, None),
        ];
        sort(&mut v);
        let order: Vec<_> = v.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(order, ["z", "y", "x"]);
    }
}

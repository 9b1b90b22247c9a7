//! Field paths inside an object (`spec.template.spec.containers[0].image`) and positions in a file.

use std::fmt;

/// One step of a field path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path to a field, displayed the way kubectl and serde_path_to_error print it: `a.b[0].c`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn child(&self, segment: Segment) -> FieldPath {
        let mut v = self.0.clone();
        v.push(segment);
        FieldPath(v)
    }

    pub fn key(&self, key: &str) -> FieldPath {
        self.child(Segment::Key(key.to_string()))
    }

    pub fn index(&self, index: usize) -> FieldPath {
        self.child(Segment::Index(index))
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Converts serde_path_to_error's path (enum and unknown segments are dropped: they add nothing).
    pub fn from_serde(path: &serde_path_to_error::Path) -> FieldPath {
        use serde_path_to_error::Segment as S;
        FieldPath(
            path.iter()
                .filter_map(|s| match s {
                    S::Seq { index } => Some(Segment::Index(*index)),
                    S::Map { key } => Some(Segment::Key(key.clone())),
                    S::Enum { .. } | S::Unknown => None,
                })
                .collect(),
        )
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A position in a file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Finds where a field is written in the source, for documents that keep positions (YAML).
pub trait Locate {
    /// Position of the deepest existing node along `path` (the key for mapping entries).
    fn locate(&self, path: &FieldPath) -> Option<Pos>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_kubectl() {
        let p = FieldPath::default()
            .key("spec")
            .key("containers")
            .index(0)
            .key("imagee");
        assert_eq!(p.to_string(), "spec.containers[0].imagee");
        assert_eq!(FieldPath::default().to_string(), "");
    }
}

//! Renderings of a [`Plan`]: text for people, JSON for tools (stable schema), DOT and Mermaid for pictures.
//! Each is a pure function of the plan, so golden files catch any change of ordering.

mod diagram;
mod json;
mod text;

use super::Plan;

pub use diagram::{dot, mermaid};
pub use json::json;
pub use text::text;

/// Output formats of `rekube plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Dot,
    Mermaid,
}

/// Renders `plan` in `format`; every rendering ends with a newline.
pub fn render(plan: &Plan, format: Format) -> String {
    match format {
        Format::Text => text(plan),
        Format::Json => json(plan),
        Format::Dot => dot(plan),
        Format::Mermaid => mermaid(plan),
    }
}

#[cfg(test)]
mod tests;

//! Error rendering shared by every stage, so that library code and commands print causes the same way.

/// `outer: inner: root`, the way Go and kubectl chain causes; a cause already contained in the message
/// so far is not repeated.
pub fn render(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner(#[source] std::io::Error);

    #[test]
    fn chains_causes_once() {
        let e = Outer(Inner(std::io::Error::other("root")));
        assert_eq!(super::render(&e), "outer: inner: root");
        let same = Outer(Inner(std::io::Error::other("outer")));
        assert_eq!(super::render(&same), "outer: inner");
    }
}

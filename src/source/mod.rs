//! Source: a local folder or a Git commit, turned into a snapshot of files.

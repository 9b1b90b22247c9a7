//! Manifest: load layers and files, parse, validate.

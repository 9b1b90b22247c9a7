//! Diff: normalise, compare, mask, render. Pure.

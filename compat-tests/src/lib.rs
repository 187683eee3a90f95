//! Differential test helpers.

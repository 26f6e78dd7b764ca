//! Runtime-agnostic text edits: marker blocks in shell/.bat files and whatap.conf merges.
//! Everything here is pure (bytes in, bytes out); only `apply` touches disk.

pub mod conf;
pub mod ecosystem;
pub mod eol;
pub mod heredoc;
pub mod lines;
pub mod marker;
pub mod template;
pub mod unit;
pub mod wrap;
pub mod xml;

pub use eol::Eol;
pub use marker::MarkerStyle;

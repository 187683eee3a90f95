//! The HAProxy half of the IR. (Being written.)
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Config {}

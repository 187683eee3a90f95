//! A snapshot of environment variables.
//!
//! Both config languages expand variables (HAProxy `"${NAME}"`, keepalived `$NAME` defines
//! fall back to nothing). Parsers read them from an [`Env`] so tests can give exact values and
//! the CLI gives the process environment once.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// No variables at all.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The current process environment (variables whose name or value is not UTF-8 are
    /// skipped, as they cannot appear in a UTF-8 config anyway).
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Env { vars }
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), value.to_string());
    }

    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }
}

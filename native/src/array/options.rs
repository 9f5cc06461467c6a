//! Per-handle options: settings that one handle uses in place of the process-wide ones.
//!
//! Hosts that embed the engine under their own configuration (zarr-python's codec pipeline maps
//! an array's `write_empty_chunks` and zarr's `threading.max_workers` onto them) need settings
//! per array, not per process: two arrays in one process may differ.

use serde_json::Value;

use super::ArrayHandle;
use crate::config::Settings;
use crate::error::{Error, Result};

/// Settings a handle overrides; `None` keeps the process-wide one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArrayOptions {
    pub store_empty_chunks: Option<bool>,
    pub validate_checksums: Option<bool>,
    pub concurrent_target: Option<usize>,
}

impl ArrayOptions {
    /// Parse a JSON object of options; `null` for a key keeps the process-wide setting, and
    /// an unknown key or a value of the wrong type is an error that names it.
    pub fn parse(options_json: &str) -> Result<Self> {
        let map = match serde_json::from_str::<Value>(options_json) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(Error::invalid_argument(
                    "array options must be a JSON object",
                ));
            }
            Err(err) => {
                return Err(Error::invalid_argument(format!(
                    "array options are not valid JSON: {err}"
                )));
            }
        };
        let mut options = Self::default();
        for (key, value) in &map {
            match key.as_str() {
                "store_empty_chunks" => options.store_empty_chunks = flag(key, value)?,
                "validate_checksums" => options.validate_checksums = flag(key, value)?,
                "concurrent_target" => options.concurrent_target = count(key, value)?,
                _ => {
                    return Err(Error::invalid_argument(format!(
                        "unknown array option {key:?} (the options are store_empty_chunks, \
                         validate_checksums and concurrent_target)"
                    )));
                }
            }
        }
        Ok(options)
    }

    /// `settings` with these options in place of the process-wide values.
    pub fn apply(&self, settings: Settings) -> Settings {
        Settings {
            store_empty_chunks: self
                .store_empty_chunks
                .unwrap_or(settings.store_empty_chunks),
            validate_checksums: self
                .validate_checksums
                .unwrap_or(settings.validate_checksums),
            concurrent_target: self.concurrent_target.unwrap_or(settings.concurrent_target),
            ..settings
        }
    }
}

fn flag(key: &str, value: &Value) -> Result<Option<bool>> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(on) => Ok(Some(*on)),
        other => Err(wrong_type(key, "a bool", other)),
    }
}

fn count(key: &str, value: &Value) -> Result<Option<usize>> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| wrong_type(key, "a non-negative integer", value)),
        other => Err(wrong_type(key, "a non-negative integer", other)),
    }
}

fn wrong_type(key: &str, expected: &str, value: &Value) -> Error {
    Error::invalid_argument(format!(
        "array option {key:?} must be {expected}, not {value}"
    ))
}

impl ArrayHandle {
    /// The same array on the same store, with `options` in place of this handle's.
    pub fn with_options(&self, options: ArrayOptions) -> Result<ArrayHandle> {
        let mut handle = ArrayHandle::with_doc(
            self.store.clone(),
            self.array.path().clone(),
            self.doc.clone(),
        )?;
        handle.options = options;
        Ok(handle)
    }

    pub fn options(&self) -> ArrayOptions {
        self.options
    }
}

#[cfg(test)]
mod tests {
    use super::ArrayOptions;

    #[test]
    fn options_parse_and_unknown_ones_are_named() {
        let options = ArrayOptions::parse(
            r#"{"store_empty_chunks": false, "concurrent_target": 2, "validate_checksums": null}"#,
        )
        .unwrap();
        assert_eq!(options.store_empty_chunks, Some(false));
        assert_eq!(options.concurrent_target, Some(2));
        assert_eq!(options.validate_checksums, None);
        let err = ArrayOptions::parse(r#"{"write_empty_chunks": true}"#).unwrap_err();
        assert!(err.to_string().contains("write_empty_chunks"), "{err}");
        assert!(ArrayOptions::parse(r#"{"concurrent_target": -1}"#).is_err());
        assert!(ArrayOptions::parse("[]").is_err());
    }
}

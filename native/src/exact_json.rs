//! JSON kept as its exact text where parsing would change it.
//!
//! serde_json parses a number into a 64-bit integer or a double, so an integer beyond 64 bits
//! (zarr-python keeps Python's integers whole: `{"n": 2**70}` is stored as
//! `1180591620717411303424`) comes out as a rounded double. Documents that may hold one (node
//! metadata: attributes above all) keep the text of the members that hold one and splice it
//! back into every document they write or hand out. This is done on text, with serde_json only
//! validating and decoding names, rather than by turning on serde_json's `arbitrary_precision`
//! (a crate-wide feature that changes how zarrs parses numbers in its own metadata) or
//! `raw_value` (which would rebuild zarrs and gains nothing here).
//!
//! Python's json module (zarr-python writes attributes with it, `allow_nan` on) writes the
//! non-finite floats as the bare tokens `NaN`, `Infinity` and `-Infinity`, which are not JSON:
//! serde_json refuses them. Such text is parsed with each token read as `null` (`parseable`),
//! and the members that hold one are kept as text the same way, so the tokens reach hosts as
//! stored (Python's `json.loads` reads them back as floats).
//!
//! Every function here takes text serde_json has accepted as JSON, or would once its bare
//! non-finite tokens were `null`.

use std::borrow::Cow;

/// Where a scan of JSON text stands with respect to strings, byte by byte: inside one or not,
/// and just after a backslash inside one. (Every byte of a multi-byte UTF-8 character is above
/// 0x7f, so none is taken for a quote or a backslash.)
#[derive(Default)]
struct Strings {
    inside: bool,
    escaped: bool,
}

impl Strings {
    /// Step over byte `b`: whether it belongs to a string, its quotes included.
    fn step(&mut self, b: u8) -> bool {
        if self.inside {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.inside = false;
            }
            return true;
        }
        self.inside = b == b'"';
        self.inside
    }

    /// As `step`, for a character of a `str`.
    fn step_char(&mut self, c: char) -> bool {
        self.step(u8::try_from(c).unwrap_or(0x80))
    }
}

/// The first integer literal in the JSON `text` that no 64-bit integer holds. serde_json reads
/// such a number as the nearest double, so a document written back from its parsed form would
/// hold a different number.
pub(crate) fn wide_integer(text: &[u8]) -> Option<&str> {
    let is_number_byte = |b: &u8| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9');
    let mut i = 0;
    let mut strings = Strings::default();
    while i < text.len() {
        let b = text[i];
        if strings.step(b) {
            i += 1;
        } else if b == b'-' || b.is_ascii_digit() {
            let length = text[i..].iter().take_while(|b| is_number_byte(b)).count();
            let literal = std::str::from_utf8(&text[i..i + length]).unwrap_or_default();
            i += length;
            let integer =
                literal.bytes().any(|b| b.is_ascii_digit()) && !literal.contains(['.', 'e', 'E']);
            if integer && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                return Some(literal);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The bare tokens Python's json module writes for non-finite floats. `-Infinity` comes before
/// `Infinity` so that a scan finds the whole token.
const NON_FINITE: [&str; 3] = ["-Infinity", "Infinity", "NaN"];

/// The bare non-finite token (`NaN`, `Infinity`, `-Infinity`) starting at `i` of `text`, outside
/// a string. JSON allows no letter outside strings but in `true`, `false` and `null`, so a match
/// cannot be part of another token.
fn non_finite_at(text: &[u8], i: usize) -> Option<&'static str> {
    NON_FINITE
        .into_iter()
        .find(|token| text[i..].starts_with(token.as_bytes()))
}

/// Each bare non-finite token outside strings in `text`: where it starts and what it is.
fn non_finite_tokens(text: &[u8]) -> impl Iterator<Item = (usize, &'static str)> + '_ {
    let mut strings = Strings::default();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() {
            let at = i;
            i += 1;
            if strings.step(text[at]) {
                continue;
            }
            if let Some(token) = non_finite_at(text, at) {
                i = at + token.len();
                return Some((at, token));
            }
        }
        None
    })
}

/// The first bare `NaN`, `Infinity` or `-Infinity` in `text` outside strings, if any.
pub(crate) fn non_finite(text: &[u8]) -> Option<&'static str> {
    non_finite_tokens(text).next().map(|(_, token)| token)
}

/// `text` with every bare non-finite token read as `null`, for serde_json; `text` itself when
/// it holds none (the usual case). The members that held one keep their text apart
/// (`needs_exact`), so nothing is lost.
pub(crate) fn parseable(text: &[u8]) -> Cow<'_, [u8]> {
    let mut tokens = non_finite_tokens(text).peekable();
    if tokens.peek().is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut copied = 0;
    for (at, token) in tokens {
        out.extend_from_slice(&text[copied..at]);
        out.extend_from_slice(b"null");
        copied = at + token.len();
    }
    out.extend_from_slice(&text[copied..]);
    Cow::Owned(out)
}

/// Whether the JSON `text` of a value must be kept as text: parsing it would round an integer
/// beyond 64 bits or read a non-finite float as `null`.
pub(crate) fn needs_exact(text: &[u8]) -> bool {
    wide_integer(text).is_some() || non_finite(text).is_some()
}

/// The members of a JSON object in order, each as its exact (compact) text. A repeated name
/// keeps its first position and its last value, as serde_json's order-keeping `Map` does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Members(Vec<(String, String)>);

impl Members {
    /// The members of the JSON object `text`, or `None` when it is not an object.
    pub fn parse(text: &str) -> Option<Self> {
        let text = compact(text);
        let bytes = text.as_bytes();
        if bytes.first() != Some(&b'{') {
            return None;
        }
        let mut members = Self::default();
        let mut i = 1;
        while i < bytes.len() && bytes[i] != b'}' {
            let name_end = token_end(bytes, i);
            let name: String = serde_json::from_str(&text[i..name_end]).ok()?;
            // `name_end` is at the ':'.
            let value_start = name_end + 1;
            let value_end = token_end(bytes, value_start);
            members.insert(name, text[value_start..value_end].to_owned());
            i = value_end;
            if bytes.get(i) == Some(&b',') {
                i += 1;
            }
        }
        Some(members)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, t)| (n.as_str(), t.as_str()))
    }

    /// Set `name` to the JSON `text`, in place when it is already a member.
    pub fn insert(&mut self, name: String, text: String) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(member) => member.1 = text,
            None => self.0.push((name, text)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| n != name);
    }

    /// Python's `dict.update`: each of `other`'s members replaces or joins ours.
    pub fn update(&mut self, other: Self) {
        for (name, text) in other.0 {
            self.insert(name, text);
        }
    }

    /// The compact JSON text of the object.
    pub fn to_text(&self) -> String {
        object_text(self.iter())
    }
}

/// The compact JSON text of an object with these members (names, and each value's JSON text).
pub fn object_text<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut text = String::from("{");
    for (i, (name, value)) in members.into_iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&serde_json::to_string(name).expect("a string always serialises"));
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
    text
}

/// Where the JSON token (a string, object, array or scalar) starting at `start` of compact
/// JSON ends.
fn token_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    let mut strings = Strings::default();
    while i < bytes.len() {
        let b = bytes[i];
        if strings.step(b) {
            // A string that is the token itself ends at its closing quote.
            if !strings.inside && depth == 0 {
                return i + 1;
            }
        } else {
            match b {
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => return i,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                b',' | b':' if depth == 0 => return i,
                _ => {}
            }
        }
        i += 1;
    }
    i
}

/// JSON text without the whitespace between its tokens.
pub fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut strings = Strings::default();
    for c in text.chars() {
        if strings.step_char(c) || !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// JSON text laid out as serde_json's `to_string_pretty` lays out a value (two-space indents,
/// `": "` between name and value, `{}` and `[]` for empty containers).
pub fn pretty(text: &str) -> String {
    let text = compact(text);
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    let mut strings = Strings::default();
    for (i, c) in text.char_indices() {
        if strings.step_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '{' | '[' => {
                out.push(c);
                let empty = matches!(bytes.get(i + 1), Some(b'}' | b']'));
                depth += 1;
                if !empty {
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if !matches!(bytes.get(i.wrapping_sub(1)), Some(b'{' | b'[')) {
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn integers_beyond_64_bits_are_found_outside_strings_only() {
        fn wide(text: &str) -> Option<&str> {
            wide_integer(text.as_bytes())
        }
        assert_eq!(
            wide(r#"{"n": 1180591620717411303424}"#),
            Some("1180591620717411303424")
        );
        assert_eq!(
            wide(r#"{"m": [1, -18446744073709551616]}"#),
            Some("-18446744073709551616")
        );
        assert_eq!(
            wide(r#"{"a": 18446744073709551615, "b": -9223372036854775808}"#),
            None
        );
        assert_eq!(
            wide(r#"{"f": 1e400, "g": 12345678901234567890123.5, "h": -0.0}"#),
            None
        );
        assert_eq!(
            wide(r#"{"s": "1180591620717411303424", "t": "\"99999999999999999999"}"#),
            None
        );
        assert_eq!(wide(r#"{"99999999999999999999": true}"#), None);
    }

    #[test]
    fn non_finite_tokens_are_found_outside_strings_only_and_read_as_null() {
        assert_eq!(non_finite(br#"{"x": NaN}"#), Some("NaN"));
        assert_eq!(non_finite(br#"{"x": [1, -Infinity]}"#), Some("-Infinity"));
        assert_eq!(non_finite(br#"{"x": {"y": Infinity}}"#), Some("Infinity"));
        assert_eq!(
            non_finite(br#"{"NaN": "Infinity", "s": "\"NaN", "n": -1e5, "t": null}"#),
            None
        );
        let text = br#"{"NaN":[NaN,-Infinity,{"i":Infinity}],"s":"-Infinity NaN","z":-0.5}"#;
        let parsed: Value = serde_json::from_slice(&parseable(text)).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"NaN": [null, null, {"i": null}], "s": "-Infinity NaN", "z": -0.5})
        );
        assert!(matches!(parseable(br#"{"a":"NaN"}"#), Cow::Borrowed(_)));
        // A token glued to more letters is still not JSON once read as null.
        assert!(serde_json::from_slice::<Value>(&parseable(br#"{"a":NaNa}"#)).is_err());
        assert!(needs_exact(b"[Infinity]") && needs_exact(b"[18446744073709551616]"));
        assert!(!needs_exact(br#"["NaN", 1.5, 18446744073709551615]"#));
    }

    #[test]
    fn members_with_non_finite_tokens_keep_their_text() {
        let text = "{\n  \"a\": NaN,\n  \"b\": [\n    -Infinity,\n    1\n  ],\n  \"c\": {\n    \"d\": Infinity\n  }\n}";
        let members = Members::parse(text).unwrap();
        let pairs: Vec<_> = members.iter().collect();
        assert_eq!(
            pairs,
            [
                ("a", "NaN"),
                ("b", "[-Infinity,1]"),
                ("c", r#"{"d":Infinity}"#)
            ]
        );
        assert_eq!(pretty(&members.to_text()), text);
    }

    #[test]
    fn members_keep_their_exact_text_and_order() {
        let text = r#" { "z" : 1180591620717411303424 , "a\"b" : [ 1, { "x" : "s , }" } ],
            "e" : {}, "z2": -1.5e3, "a\"b": "again", "t": true } "#;
        let members = Members::parse(text).unwrap();
        let pairs: Vec<_> = members.iter().collect();
        assert_eq!(
            pairs,
            [
                ("z", "1180591620717411303424"),
                ("a\"b", "\"again\""),
                ("e", "{}"),
                ("z2", "-1.5e3"),
                ("t", "true"),
            ]
        );
        let round: Value = serde_json::from_str(&members.to_text()).unwrap();
        assert_eq!(round, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(Members::parse("[1]"), None);
        assert_eq!(Members::parse("{}").unwrap(), Members::default());
    }

    #[test]
    fn pretty_lays_out_as_serde_json_does() {
        let text = r#"{"a": [1, {"b": {}, "c": []}, "x, y: {z}"], "d": {"e": null}, "f": "\\"}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(pretty(text), serde_json::to_string_pretty(&value).unwrap());
        assert_eq!(pretty("{}"), "{}");
    }
}

//! pm2 ecosystem files (`ecosystem.config.js` / `.cjs` / `.json`) as text: the object literal
//! of each app in `apps: [...]`, its properties and where their values sit, so that
//! `node_args` and `env.WHATAP_HOME` can be spliced in (and taken out again) without
//! evaluating the file or touching a byte around them. Values that are not literals
//! (variables, calls) are recognised and left to the operator.

use super::xml::Insertion;

/// A value in an object literal, by byte offsets into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A quoted string: the offsets of its text between the quotes, and the quote.
    Str {
        start: usize,
        end: usize,
        quote: char,
    },
    /// `[...]`: offsets of `[` and `]`, and its items.
    Array {
        open: usize,
        close: usize,
        items: Vec<Value>,
    },
    /// `{...}`: offsets of `{` and `}`, and its properties.
    Object {
        open: usize,
        close: usize,
        props: Vec<Prop>,
    },
    /// Anything else (a number, a variable, a call): its span.
    Other { start: usize, end: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    pub key: String,
    /// Offset of the key's first byte (its quote when quoted).
    pub key_start: usize,
    pub quoted_key: bool,
    pub value: Value,
}

/// One app of `apps: [...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub open: usize,
    pub close: usize,
    pub props: Vec<Prop>,
}

impl App {
    pub fn prop(&self, key: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.key == key)
    }

    /// A string property's text (quotes off, escapes kept as written).
    pub fn string<'a>(&self, text: &'a str, key: &str) -> Option<&'a str> {
        match self.prop(key)?.value {
            Value::Str { start, end, .. } => Some(&text[start..end]),
            _ => None,
        }
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips blanks and comments.
    fn skip_blank(&mut self) {
        loop {
            match (self.peek(), self.bytes.get(self.at + 1)) {
                (Some(c), _) if c.is_ascii_whitespace() => self.at += 1,
                (Some(b'/'), Some(b'/')) => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.at += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    self.at += 2;
                    while self.at < self.bytes.len() && !self.bytes[self.at..].starts_with(b"*/") {
                        self.at += 1;
                    }
                    self.at = (self.at + 2).min(self.bytes.len());
                }
                _ => return,
            }
        }
    }

    /// A quoted string at `at` (quote included); returns the inner span.
    fn string(&mut self) -> Option<(usize, usize, char)> {
        let quote = self.peek()?;
        let start = self.at + 1;
        self.at += 1;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'\\' => self.at += 2,
                b'$' if quote == b'`' && self.bytes.get(self.at + 1) == Some(&b'{') => {
                    depth += 1;
                    self.at += 2;
                }
                b'}' if quote == b'`' && depth > 0 => {
                    depth -= 1;
                    self.at += 1;
                }
                c if c == quote && depth == 0 => {
                    self.at += 1;
                    return Some((start, self.at - 1, quote as char));
                }
                b'\n' if quote != b'`' => return None,
                _ => self.at += 1,
            }
        }
        None
    }

    fn identifier(&mut self) -> Option<&'a str> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
        {
            self.at += 1;
        }
        (self.at > start).then(|| &self.text[start..self.at])
    }

    /// An expression we do not read: up to the `,` `}` `]` or `)` that ends it.
    fn skip_expression(&mut self) -> Option<(usize, usize)> {
        let start = self.at;
        let mut depth = 0usize;
        loop {
            self.skip_blank();
            match self.peek()? {
                b'\'' | b'"' | b'`' => {
                    self.string()?;
                }
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    self.at += 1;
                }
                b')' | b']' | b'}' if depth == 0 => break,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    self.at += 1;
                }
                b',' if depth == 0 => break,
                _ => self.at += 1,
            }
        }
        let mut end = self.at;
        while end > start && self.bytes[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        Some((start, end))
    }

    fn value(&mut self) -> Option<Value> {
        self.skip_blank();
        match self.peek()? {
            b'\'' | b'"' => {
                let (start, end, quote) = self.string()?;
                Some(Value::Str { start, end, quote })
            }
            b'[' => {
                let open = self.at;
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_blank();
                    match self.peek()? {
                        b']' => break,
                        b',' => self.at += 1,
                        _ => items.push(self.value()?),
                    }
                }
                let close = self.at;
                self.at += 1;
                Some(Value::Array { open, close, items })
            }
            b'{' => {
                let open = self.at;
                self.at += 1;
                let props = self.props()?;
                let close = self.at;
                self.at += 1;
                Some(Value::Object { open, close, props })
            }
            _ => {
                let (start, end) = self.skip_expression()?;
                Some(Value::Other { start, end })
            }
        }
    }

    /// Properties up to the closing `}` (left at it).
    fn props(&mut self) -> Option<Vec<Prop>> {
        let mut props = Vec::new();
        loop {
            self.skip_blank();
            let key_start = self.at;
            let (key, quoted_key) = match self.peek()? {
                b'}' => return Some(props),
                b',' => {
                    self.at += 1;
                    continue;
                }
                b'\'' | b'"' => {
                    let (start, end, _) = self.string()?;
                    (self.text[start..end].to_string(), true)
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                    (self.identifier()?.to_string(), false)
                }
                // `...spread`, `[computed]`, methods: not ours to read.
                _ => {
                    self.skip_expression()?;
                    continue;
                }
            };
            self.skip_blank();
            if self.peek() != Some(b':') {
                // Shorthand `{ name }` or a method: skip it whole.
                self.skip_expression()?;
                continue;
            }
            self.at += 1;
            let value = self.value()?;
            props.push(Prop {
                key,
                key_start,
                quoted_key,
                value,
            });
        }
    }
}

/// The apps of the first `apps: [...]` in the file; None when there is none.
pub fn apps(text: &str) -> Option<Vec<App>> {
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    loop {
        scanner.skip_blank();
        let c = scanner.peek()?;
        let is_key = match c {
            b'\'' | b'"' | b'`' => {
                let (start, end, _) = scanner.string()?;
                &text[start..end] == "apps"
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                scanner.identifier()? == "apps"
            }
            _ => {
                scanner.at += 1;
                false
            }
        };
        if !is_key {
            continue;
        }
        scanner.skip_blank();
        if scanner.peek() != Some(b':') {
            continue;
        }
        scanner.at += 1;
        let Value::Array { items, .. } = scanner.value()? else {
            continue;
        };
        return Some(
            items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Object { open, close, props } => Some(App { open, close, props }),
                    _ => None,
                })
                .collect(),
        );
    }
}

/// Why a value cannot be extended as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpliceError {
    /// `key` holds something other than a literal we can extend, at this 1-based line.
    NotLiteral { key: String, line: usize },
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// A string literal in the file's own style: the quote its app already uses.
fn quoted(value: &str, quote: char) -> String {
    format!("{quote}{value}{quote}")
}

/// Where a new first property of an object goes (after its `{`) and the text before it: the
/// first property's own line break and indentation when it has a line of its own, else a blank.
fn lead_in(text: &str, open: usize, props: &[Prop]) -> String {
    let Some(first) = props.first().map(|p| p.key_start) else {
        return " ".to_string();
    };
    if !text[open..first].contains('\n') {
        return " ".to_string();
    }
    let line_start = text[..first].rfind('\n').map_or(0, |i| i + 1);
    format!("\n{}", &text[line_start..first])
}

/// What to splice into `app` so that node gets `args` (appended to `node_args`, created when
/// absent) and the environment has `WHATAP_HOME=home` (added to `env`, created when absent).
/// `json`: keys quoted, no trailing comma.
pub fn insertions(
    text: &str,
    app: &App,
    args: &[&str],
    env: Option<(&str, &str)>,
    json: bool,
) -> Result<Vec<Insertion>, SpliceError> {
    let quote = if json {
        '"'
    } else {
        app.props
            .iter()
            .find_map(|p| match p.value {
                Value::Str { quote, .. } => Some(quote),
                _ => None,
            })
            .unwrap_or('\'')
    };
    let key = |name: &str| {
        if json || app.props.first().is_some_and(|p| p.quoted_key) {
            quoted(name, '"')
        } else {
            name.to_string()
        }
    };
    let not_literal = |key: &str, at: usize| SpliceError::NotLiteral {
        key: key.to_string(),
        line: line_of(text, at),
    };
    let mut out = Vec::new();
    let mut new_props: Vec<String> = Vec::new();
    let args_prop = app
        .prop("node_args")
        .or_else(|| app.prop("interpreter_args"));
    match args_prop.map(|p| &p.value) {
        _ if args.is_empty() => {}
        None => new_props.push(format!(
            "{}: {}",
            key("node_args"),
            quoted(&args.join(" "), quote)
        )),
        Some(Value::Str { end, start, .. }) => {
            let sep = if start == end { "" } else { " " };
            out.push(Insertion {
                at: *end,
                text: format!("{sep}{}", args.join(" ")),
                replace: 0,
            });
        }
        Some(Value::Array { close, items, .. }) => {
            let listed: Vec<String> = args.iter().map(|a| quoted(a, quote)).collect();
            let sep = if items.is_empty() { "" } else { ", " };
            // Before the `]`, after the last item (a trailing comma stays where it is).
            let at = items.last().map_or(*close, value_end);
            out.push(Insertion {
                at,
                text: format!("{sep}{}", listed.join(", ")),
                replace: 0,
            });
        }
        Some(Value::Object { open, .. } | Value::Other { start: open, .. }) => {
            let at = args_prop.map_or(*open, |p| p.key_start);
            return Err(not_literal("node_args", at));
        }
    }
    if let Some((name, value)) = env {
        let pair = format!("{}: {}", key(name), quoted(value, quote));
        match app.prop("env").map(|p| (p, &p.value)) {
            None => new_props.push(format!("{}: {{ {pair} }}", key("env"))),
            Some((_, Value::Object { open, props, .. })) => {
                let tail = if props.is_empty() { " " } else { "," };
                out.push(Insertion {
                    at: open + 1,
                    text: format!("{}{pair}{tail}", lead_in(text, *open, props)),
                    replace: 0,
                });
            }
            Some((prop, _)) => return Err(not_literal("env", prop.key_start)),
        }
    }
    if !new_props.is_empty() {
        let lead = lead_in(text, app.open, &app.props);
        let joined: String = new_props.iter().map(|p| format!("{lead}{p},")).collect();
        // After `{`: the app's own first property follows, so the comma is valid (JSON too).
        let joined = if app.props.is_empty() {
            joined.trim_end_matches(',').to_string() + " "
        } else {
            joined
        };
        out.push(Insertion {
            at: app.open + 1,
            text: joined,
            replace: 0,
        });
    }
    Ok(out)
}

fn value_end(value: &Value) -> usize {
    match value {
        Value::Str { end, .. } => end + 1,
        Value::Array { close, .. } | Value::Object { close, .. } => close + 1,
        Value::Other { end, .. } => *end,
    }
}

/// The words of a `node_args` value (a string split on blanks, or an array of strings).
pub fn args_of(text: &str, app: &App) -> Vec<String> {
    let prop = app
        .prop("node_args")
        .or_else(|| app.prop("interpreter_args"));
    match prop.map(|p| &p.value) {
        Some(Value::Str { start, end, .. }) => text[*start..*end]
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        Some(Value::Array { items, .. }) => items
            .iter()
            .filter_map(|i| match i {
                Value::Str { start, end, .. } => Some(text[*start..*end].to_string()),
                _ => None,
            })
            .flat_map(|a| a.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect(),
        _ => Vec::new(),
    }
}

/// A string value of the app's `env` object.
pub fn env_of<'a>(text: &'a str, app: &App, name: &str) -> Option<&'a str> {
    let Value::Object { props, .. } = &app.prop("env")?.value else {
        return None;
    };
    match props.iter().find(|p| p.key == name)?.value {
        Value::Str { start, end, .. } => Some(&text[start..end]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::xml::splice;

    const JS: &str = "// pm2 ecosystem\nmodule.exports = {\n  apps: [\n    {\n      name: 'api', // the web API\n      script: './server.js',\n      env: {\n        PORT: 3000,\n      },\n    },\n    {\n      name: \"worker\",\n      script: 'worker.js',\n      node_args: ['--max-old-space-size=512'],\n      instances: process.env.N || 2,\n    },\n  ],\n};\n";

    fn spliced(text: &str, app: usize, json: bool) -> String {
        let apps = apps(text).unwrap();
        let ins = insertions(
            text,
            &apps[app],
            &["--require", "/srv/app/node_modules/whatap"],
            Some(("WHATAP_HOME", "/srv/app/whatap")),
            json,
        )
        .unwrap();
        String::from_utf8(splice(text.as_bytes(), &ins)).unwrap()
    }

    #[test]
    fn reads_apps_with_comments_and_expressions() {
        let apps = apps(JS).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].string(JS, "name"), Some("api"));
        assert_eq!(apps[1].string(JS, "script"), Some("worker.js"));
        assert_eq!(args_of(JS, &apps[1]), ["--max-old-space-size=512"]);
        assert!(matches!(
            apps[1].prop("instances").unwrap().value,
            Value::Other { .. }
        ));
        assert_eq!(env_of(JS, &apps[0], "PORT"), None);
    }

    #[test]
    fn new_properties_and_an_existing_env_in_the_file_style() {
        let out = spliced(JS, 0, false);
        assert!(
            out.contains(
                "    {\n      node_args: '--require /srv/app/node_modules/whatap',\n      name: 'api',"
            ),
            "{out}"
        );
        assert!(
            out.contains("env: {\n        WHATAP_HOME: '/srv/app/whatap',\n        PORT: 3000,"),
            "{out}"
        );
        let again = apps(&out).unwrap();
        assert_eq!(
            args_of(&out, &again[0]),
            ["--require", "/srv/app/node_modules/whatap"]
        );
        assert_eq!(
            env_of(&out, &again[0], "WHATAP_HOME"),
            Some("/srv/app/whatap")
        );
    }

    #[test]
    fn an_array_of_node_args_grows_in_place() {
        let out = spliced(JS, 1, false);
        assert!(
            out.contains(
                "node_args: ['--max-old-space-size=512', \"--require\", \"/srv/app/node_modules/whatap\"],"
            ),
            "{out}"
        );
        assert!(out.contains(
            "\n      env: { WHATAP_HOME: \"/srv/app/whatap\" },\n      name: \"worker\","
        ));
    }

    #[test]
    fn a_one_line_app_gets_one_line_properties() {
        let text = "module.exports = { apps: [{ name: 'a', script: 'a.js' }] };\n";
        assert_eq!(
            spliced(text, 0, false),
            "module.exports = { apps: [{ node_args: '--require /srv/app/node_modules/whatap', \
             env: { WHATAP_HOME: '/srv/app/whatap' }, name: 'a', script: 'a.js' }] };\n"
        );
    }

    #[test]
    fn json_stays_json() {
        let text = "{\n  \"apps\": [{\n    \"name\": \"api\",\n    \"script\": \"server.js\",\n    \"node_args\": \"--trace-warnings\",\n    \"env\": {}\n  }]\n}\n";
        let out = spliced(text, 0, true);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            parsed["apps"][0]["node_args"],
            "--trace-warnings --require /srv/app/node_modules/whatap"
        );
        assert_eq!(parsed["apps"][0]["env"]["WHATAP_HOME"], "/srv/app/whatap");
    }

    #[test]
    fn nothing_to_add_is_no_insertion() {
        let apps = apps(JS).unwrap();
        for app in &apps {
            assert_eq!(insertions(JS, app, &[], None, false), Ok(Vec::new()));
        }
    }

    #[test]
    fn values_that_are_not_literals_are_refused_with_their_line() {
        let text = "const args = ['--a'];\nmodule.exports = { apps: [{ name: 'x',\n  node_args: args }] };\n";
        let apps = apps(text).unwrap();
        let err = insertions(text, &apps[0], &["--require", "/w"], None, false).unwrap_err();
        assert_eq!(
            err,
            SpliceError::NotLiteral {
                key: "node_args".into(),
                line: 3
            }
        );
        assert!(super::apps("module.exports = { name: 'x' };").is_none());
    }
}

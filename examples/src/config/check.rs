//! Reading a file: every problem with its line and column.

use super::*;

// ---------------------------------------------------------------------------------------
// Checking a file.

/// One mistake in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when the mistake is in the file (not, say, a missing variable's value).
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// The key path (`twilio.from`), empty for the whole file.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, "{l}:{c}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Line and column (1-based) of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// A step in a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn path_text(path: &[Seg]) -> String {
    let mut s = String::new();
    for p in path {
        match p {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// A table's entry: its key, the key's place, its value.
type Entry<'a> = (String, Option<Range<usize>>, Node<'a>);

/// A node of the parsed document.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a toml_edit::Item),
    Value(&'a toml_edit::Value),
    Table(&'a toml_edit::Table),
}

impl<'a> Node<'a> {
    fn value(self) -> Option<&'a toml_edit::Value> {
        match self {
            Node::Item(toml_edit::Item::Value(v)) | Node::Value(v) => Some(v),
            _ => None,
        }
    }

    fn span(self) -> Option<Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Value(v) => v.span(),
            Node::Table(t) => t.span(),
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Node::Item(toml_edit::Item::Table(_)) | Node::Table(_) => "a table",
            Node::Item(toml_edit::Item::ArrayOfTables(_)) => "an array of tables",
            Node::Item(toml_edit::Item::None) => "nothing",
            _ => match self.value() {
                Some(toml_edit::Value::String(_)) => "a string",
                Some(toml_edit::Value::Integer(_)) => "an integer",
                Some(toml_edit::Value::Float(_)) => "a float",
                Some(toml_edit::Value::Boolean(_)) => "a boolean",
                Some(toml_edit::Value::Datetime(_)) => "a date-time",
                Some(toml_edit::Value::Array(_)) => "an array",
                Some(toml_edit::Value::InlineTable(_)) => "a table",
                None => "nothing",
            },
        }
    }

    /// The entries of a table: (key, key span, value).
    fn entries(self) -> Option<Vec<Entry<'a>>> {
        let table = match self {
            Node::Table(t) | Node::Item(toml_edit::Item::Table(t)) => Some(t),
            _ => None,
        };
        if let Some(t) = table {
            return Some(
                t.iter()
                    .filter_map(|(k, _)| {
                        t.get_key_value(k)
                            .map(|(key, item)| (k.to_owned(), key.span(), Node::Item(item)))
                    })
                    .collect(),
            );
        }
        match self.value() {
            Some(toml_edit::Value::InlineTable(t)) => Some(
                t.iter()
                    .filter_map(|(k, _)| {
                        t.get_key_value(k).and_then(|(key, item)| {
                            item.as_value()
                                .map(|v| (k.to_owned(), key.span(), Node::Value(v)))
                        })
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    fn elements(self) -> Option<Vec<Node<'a>>> {
        match self {
            Node::Item(toml_edit::Item::ArrayOfTables(a)) => {
                Some(a.iter().map(Node::Table).collect())
            }
            _ => match self.value() {
                Some(toml_edit::Value::Array(a)) => Some(a.iter().map(Node::Value).collect()),
                _ => None,
            },
        }
    }
}

/// Walks a document against the JSON Schema, collecting every mismatch.
pub(super) struct Walker<'s> {
    text: &'s str,
    root: &'s Value,
    problems: Vec<Problem>,
}

impl<'s> Walker<'s> {
    fn problem(&mut self, span: Option<Range<usize>>, path: &[Seg], message: String) {
        let (line, column) = match span {
            Some(r) => {
                let (l, c) = line_col(self.text, r.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        self.problems.push(Problem {
            line,
            column,
            path: path_text(path),
            message,
        });
    }

    fn resolve(&self, schema: &'s Value) -> &'s Value {
        let mut s = schema;
        for _ in 0..16 {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let ptr = r.trim_start_matches('#');
                    match self.root.pointer(ptr) {
                        Some(t) => s = t,
                        None => return s,
                    }
                }
                None => return s,
            }
        }
        s
    }

    /// What a schema expects, in words.
    fn expected(&self, schema: &'s Value) -> String {
        let s = self.resolve(schema);
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            return format!("one of {}", quoted(e));
        }
        if let Some(c) = s.get("const") {
            return format!(
                "`{}`",
                c.as_str().map(str::to_owned).unwrap_or(c.to_string())
            );
        }
        for k in ["anyOf", "oneOf"] {
            if let Some(bs) = s.get(k).and_then(Value::as_array) {
                let parts: Vec<String> = bs
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                    .map(|b| self.expected(b))
                    .collect();
                return parts.join(" or ");
            }
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let words: Vec<String> = types
            .into_iter()
            .filter(|t| *t != "null")
            .map(|t| match t {
                "object" => {
                    let keys = s
                        .get("properties")
                        .and_then(Value::as_object)
                        .map(|p| p.keys().cloned().collect::<Vec<_>>())
                        .unwrap_or_default();
                    if keys.len() == 1 {
                        format!("a table `{{ {} = ... }}`", keys[0])
                    } else {
                        "a table".to_owned()
                    }
                }
                "array" => "an array".to_owned(),
                "string" => "a string".to_owned(),
                "integer" => "an integer".to_owned(),
                "number" => "a number".to_owned(),
                "boolean" => "a boolean".to_owned(),
                other => other.to_owned(),
            })
            .collect();
        if words.is_empty() {
            "something else".into()
        } else {
            words.join(" or ")
        }
    }

    fn check(&mut self, node: Node<'_>, schema: &'s Value, path: &mut Vec<Seg>) {
        // A secret written as a bare string: say how to write it, never echo it.
        let is_secret = schema
            .get("$ref")
            .and_then(Value::as_str)
            .is_some_and(|r| r.ends_with("/SecretRef"));
        if is_secret && node.value().is_some_and(|v| v.is_str()) {
            let msg = "a secret is not written in the file as a string: name the environment \
                       variable holding it, `{ env = \"NAME\" }` (or, for local trials only, \
                       `{ value = \"...\" }`)"
                .to_owned();
            self.problem(node.span(), path, msg);
            return;
        }
        let s = self.resolve(schema);
        for k in ["anyOf", "oneOf"] {
            if let Some(branches) = s.get(k).and_then(Value::as_array) {
                let mut best: Option<Vec<Problem>> = None;
                for b in branches {
                    let saved = std::mem::take(&mut self.problems);
                    self.check(node, b, path);
                    let found = std::mem::replace(&mut self.problems, saved);
                    if found.is_empty() {
                        return;
                    }
                    // A branch that failed only deeper down (the value has the right shape)
                    // says more than one of the wrong shape.
                    // A missing field is deep too: the value is a table of the right kind.
                    let here = path_text(path);
                    let is_shallow = |ps: &[Problem]| {
                        ps.iter()
                            .all(|p| p.path == here && !p.message.starts_with("missing field"))
                    };
                    let shallow = is_shallow(&found);
                    let better = match &best {
                        None => true,
                        Some(prev) => {
                            let prev_shallow = is_shallow(prev);
                            (prev_shallow && !shallow)
                                || (prev_shallow == shallow && found.len() < prev.len())
                        }
                    };
                    if better {
                        best = Some(found);
                    }
                }
                let here = path_text(path);
                let deep = |b: &[Problem]| {
                    !b.iter()
                        .all(|p| p.path == here && !p.message.starts_with("missing field"))
                };
                match best {
                    Some(b) if deep(&b) => self.problems.extend(b),
                    _ => {
                        let msg = format!("expected {}, found {}", self.expected(s), found(node));
                        self.problem(node.span(), path, msg);
                    }
                }
                return;
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            let ok = node
                .value()
                .and_then(|v| v.as_str())
                .is_some_and(|v| e.iter().any(|x| x.as_str() == Some(v)));
            if !ok {
                let msg = format!("expected one of {}, found {}", quoted(e), found(node));
                self.problem(node.span(), path, msg);
            }
            return;
        }
        if let Some(c) = s.get("const") {
            let ok = node.value().and_then(|v| v.as_str()) == c.as_str();
            if !ok {
                let msg = format!("expected {}", self.expected(s));
                self.problem(node.span(), path, msg);
            }
            return;
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return,
        };
        let v = node.value();
        let matches = |t: &str| match t {
            "object" => node.entries().is_some(),
            "array" => node.elements().is_some(),
            "string" => v.is_some_and(|v| v.is_str()),
            "integer" => v.is_some_and(|v| v.is_integer()),
            "number" => v.is_some_and(|v| v.is_integer() || v.is_float()),
            "boolean" => v.is_some_and(|v| v.is_bool()),
            _ => false,
        };
        let Some(t) = types.iter().copied().find(|t| matches(t)) else {
            let msg = match type_hint(node, &types) {
                Some(hint) => hint,
                None => format!("expected {}, found {}", self.expected(s), found(node)),
            };
            self.problem(node.span(), path, msg);
            return;
        };
        match t {
            "object" => self.check_table(node, s, path),
            "array" => {
                if let Some(items) = s.get("items") {
                    for (i, el) in node.elements().unwrap_or_default().into_iter().enumerate() {
                        path.push(Seg::Index(i));
                        self.check(el, items, path);
                        path.pop();
                    }
                }
            }
            "integer" => {
                let n = v.and_then(|v| v.as_integer()).unwrap_or(0);
                let min = s.get("minimum").and_then(Value::as_f64);
                let max = s.get("maximum").and_then(Value::as_f64);
                #[allow(clippy::cast_precision_loss)]
                let nf = n as f64;
                if min.is_some_and(|m| nf < m) || max.is_some_and(|m| nf > m) {
                    let msg = format!(
                        "{n} is out of range ({} to {})",
                        min.map(|m| m.to_string()).unwrap_or("-∞".into()),
                        max.map(|m| m.to_string()).unwrap_or("∞".into())
                    );
                    self.problem(node.span(), path, msg);
                }
            }
            _ => {}
        }
    }

    fn check_table(&mut self, node: Node<'_>, s: &'s Value, path: &mut Vec<Seg>) {
        let entries = node.entries().unwrap_or_default();
        let props = s.get("properties").and_then(Value::as_object);
        let closed = s.get("additionalProperties") == Some(&Value::Bool(false));
        let extra = s.get("additionalProperties").filter(|v| v.is_object());
        for (k, kspan, child) in &entries {
            path.push(Seg::Key(k.clone()));
            match props.and_then(|p| p.get(k)) {
                Some(ps) => self.check(*child, ps, path),
                None => {
                    if let Some(x) = extra {
                        self.check(*child, x, path);
                    } else if closed {
                        let known: Vec<Value> = props
                            .map(|p| p.keys().map(|k| Value::String(k.clone())).collect())
                            .unwrap_or_default();
                        let msg = match nearest(k, props.map(|p| p.keys()).into_iter().flatten()) {
                            Some(near) => format!(
                                "unknown field `{k}`; did you mean `{near}`? (expected one of {})",
                                quoted(&known)
                            ),
                            None => {
                                format!("unknown field `{k}`; expected one of {}", quoted(&known))
                            }
                        };
                        self.problem(kspan.clone().or_else(|| child.span()), path, msg);
                    }
                }
            }
            path.pop();
        }
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !entries.iter().any(|(k, _, _)| k == r) {
                    let msg = format!("missing field `{r}`");
                    let span = node.span();
                    self.problem(span, path, msg);
                }
            }
        }
    }
}

/// A type mistake explained with its fix, where there is an obvious one: a number, boolean
/// or time written in quotes, or a number where text is expected.
fn type_hint(node: Node<'_>, expected: &[&str]) -> Option<String> {
    let v = node.value()?;
    if let Some(text) = v.as_str() {
        let t = text.trim();
        let fits = |ty: &str| match ty {
            "integer" => t.parse::<i64>().is_ok(),
            "number" => t.parse::<f64>().is_ok(),
            "boolean" => t == "true" || t == "false",
            _ => false,
        };
        let ty = expected.iter().copied().find(|ty| fits(ty))?;
        let what = match ty {
            "boolean" => "a boolean",
            "number" => "a number",
            _ => "an integer",
        };
        return Some(format!(
            "`\"{text}\"` is a string: remove the quotes (expected {what}, `{t}`)"
        ));
    }
    if expected == ["string"] && (v.is_integer() || v.is_float() || v.is_bool()) {
        let shown = v.to_string();
        let shown = shown.trim();
        return Some(format!(
            "`{shown}` is {}: put it in quotes (expected a string, `\"{shown}\"`)",
            node.type_name()
        ));
    }
    None
}

/// The known key nearest to a misspelt one, if one is near enough to be what was meant.
pub(super) fn nearest<'k>(
    key: &str,
    known: impl IntoIterator<Item = &'k String>,
) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| {
            (
                strsim::normalized_damerau_levenshtein(&key, &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.as_str())
}

/// What a node is, in words: a string shows its text.
fn found(node: Node<'_>) -> String {
    match node.value().and_then(|v| v.as_str()) {
        Some(v) => format!("`{v}`"),
        None => node.type_name().to_owned(),
    }
}

pub(super) fn quoted(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| {
            format!(
                "`{}`",
                v.as_str().map(str::to_owned).unwrap_or(v.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a file's text: syntax, then every field against the schema, then the meaning
/// (variables set, domains, times, URLs, senders, channels configured). Returns the parsed
/// configuration when there is no problem, every problem otherwise.
pub fn check(text: &str) -> Result<TrackingLinksConfig, Vec<Problem>> {
    let doc = match toml_edit::ImDocument::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let (line, column) = match e.span() {
                Some(r) => {
                    let (l, c) = line_col(text, r.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            return Err(vec![Problem {
                line,
                column,
                path: String::new(),
                message: format!("TOML syntax error: {}", e.message().trim()),
            }]);
        }
    };
    let root = schema();
    let mut w = Walker {
        text,
        root: &root,
        problems: Vec::new(),
    };
    w.check(Node::Table(doc.as_table()), &root, &mut Vec::new());
    // The walk's root has no span; a missing top-level field points at the start.
    let mut problems = w.problems;
    for p in &mut problems {
        if p.line.is_none() && p.message.starts_with("missing field") {
            p.line = Some(1);
            p.column = Some(1);
        }
    }
    // Meaning checks on every section that is well formed.
    let mut table: toml::Table = toml::from_str(text).unwrap_or_default();
    // Unknown fields are reported; without them, their section's meaning can be checked.
    for p in problems
        .iter()
        .filter(|p| p.message.starts_with("unknown field"))
    {
        remove_path(&mut table, &p.path);
    }
    semantic(&Parts::of(&table), &mut |path: &str, message: String| {
        let (line, column) = match span_of(doc.as_table(), path) {
            Some(r) => {
                let (l, c) = line_col(text, r.start);
                (Some(l), Some(c))
            }
            // A missing section of a file without `[shop]` points at the start.
            None if message.starts_with("missing section") => (Some(1), Some(1)),
            None => (None, None),
        };
        problems.push(Problem {
            line,
            column,
            path: path.to_owned(),
            message,
        });
    });
    problems.sort_by_key(|p| (p.line.unwrap_or(usize::MAX), p.column.unwrap_or(0)));
    // The schema walk and serde agree; should they not, serde has the last word.
    match toml::from_str::<TrackingLinksConfig>(text) {
        Ok(cfg) if problems.is_empty() => Ok(cfg),
        Ok(_) => Err(problems),
        Err(e) => {
            if problems.is_empty() {
                let (line, column) = match e.span() {
                    Some(r) => {
                        let (l, c) = line_col(text, r.start);
                        (Some(l), Some(c))
                    }
                    None => (None, None),
                };
                problems.push(Problem {
                    line,
                    column,
                    path: String::new(),
                    message: e.message().trim().to_owned(),
                });
            }
            Err(problems)
        }
    }
}

/// Removes `a.b[2].c` from a table.
pub(super) fn remove_path(table: &mut toml::Table, path: &str) {
    let parts: Vec<&str> = path.split('.').collect();
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut cur = table;
    for part in parents {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        let mut v = match cur.get_mut(key) {
            Some(v) => v,
            None => return,
        };
        for idx in rest.split('[').filter(|i| !i.is_empty()) {
            let Ok(i) = idx.trim_end_matches(']').parse::<usize>() else {
                return;
            };
            v = match v.as_array_mut().and_then(|a| a.get_mut(i)) {
                Some(x) => x,
                None => return,
            };
        }
        cur = match v.as_table_mut() {
            Some(t) => t,
            None => return,
        };
    }
    cur.remove(*last);
}

/// The span of a dotted key path with `[i]` indexes (`twilio.channels[1]`), or of its
/// nearest existing parent.
pub(super) fn span_of(table: &toml_edit::Table, path: &str) -> Option<Range<usize>> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        segs.push(Seg::Key(key.to_owned()));
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                segs.push(Seg::Index(i));
            }
        }
    }
    let mut node = Node::Table(table);
    let mut best = None;
    for seg in segs {
        let next = match seg {
            Seg::Key(k) => node
                .entries()
                .and_then(|es| es.into_iter().find(|(name, _, _)| *name == k))
                .map(|(_, kspan, n)| (n, n.span().or(kspan))),
            Seg::Index(i) => node
                .elements()
                .and_then(|es| es.into_iter().nth(i))
                .map(|n| (n, n.span())),
        };
        match next {
            Some((n, span)) => {
                node = n;
                if span.is_some() {
                    best = span;
                }
            }
            None => break,
        }
    }
    best
}

pub(super) fn secret_ok(r: &SecretRef, path: &str, report: &mut dyn FnMut(&str, String)) {
    match r {
        SecretRef::Env { env } => match std::env::var(env) {
            Ok(v) if !v.is_empty() => {}
            Ok(_) => report(path, format!("the environment variable `{env}` is empty")),
            Err(_) => report(
                path,
                format!("the environment variable `{env}` is not set; export it with the secret"),
            ),
        },
        SecretRef::Inline { value } => {
            if value.is_empty() {
                report(path, "the secret is empty".into());
            }
        }
    }
}

pub(super) fn http_url(s: &str) -> Result<url::Url, String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u),
        Ok(u) => Err(format!(
            "`{s}` must be an http(s) URL with a host, not `{}:`",
            u.scheme()
        )),
        Err(e) => Err(format!("`{s}` is not a URL: {e}")),
    }
}

/// An E.164 phone number: `+` then 8 to 15 digits.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()) && !d.starts_with('0')
    })
}

/// An email address, alone or as `Name <address>`.
pub fn is_mailbox(s: &str) -> bool {
    let addr = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b && b == s.trim_end().len() - 1 => &s[a + 1..b],
        (None, None) => s.trim(),
        _ => return false,
    };
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !addr.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

/// Each section deserialized on its own, so one broken section does not hide the meaning
/// checks of the others: `None` / `Err(())` is a broken section (already reported).
pub(super) struct Parts {
    pub(super) shop: Option<ShopConfig>,
    pub(super) shopify: Result<Option<ShopifyConfig>, ()>,
    pub(super) woocommerce: Result<Option<WooCommerceConfig>, ()>,
    pub(super) bigcommerce: Result<Option<BigCommerceStoreConfig>, ()>,
    pub(super) nuvemshop: Result<Option<NuvemshopStoreConfig>, ()>,
    pub(super) ikas: Result<Option<IkasStoreConfig>, ()>,
    pub(super) salla: Result<Option<SallaConfig>, ()>,
    pub(super) zid: Result<Option<ZidConfig>, ()>,
    pub(super) magento: Result<Option<MagentoStoreConfig>, ()>,
    pub(super) storage: Option<StorageConfig>,
    pub(super) server: Option<ServerConfig>,
    pub(super) twilio: Result<Option<TwilioConfig>, ()>,
    pub(super) whatsapp_cloud: Result<Option<WhatsAppCloudConfig>, ()>,
    pub(super) smtp: Result<Option<SmtpConfig>, ()>,
    pub(super) tracking: Option<TrackingConfig>,
    pub(super) content: Option<ContentMap>,
    pub(super) rate_limits: Option<RateLimitsConfig>,
    pub(super) survey: Result<Option<SurveyConfig>, ()>,
    pub(super) follow_up: Result<Option<FollowUpConfig>, ()>,
    pub(super) dashboard: Result<Option<DashboardConfig>, ()>,
    pub(super) tracking_source: Result<Option<TrackingSourceConfig>, ()>,
    pub(super) helpdesk: Result<Option<HelpdeskConfig>, ()>,
    pub(super) email: Result<Option<EmailConfig>, ()>,
    pub(super) retention: Option<aftercare::config::RetentionConfig>,
    pub(super) branding: Result<Option<BrandingConfig>, ()>,
    pub(super) recovery: Result<Option<RecoveryConfig>, ()>,
}

pub(super) fn section<T: serde::de::DeserializeOwned>(
    t: &toml::Table,
    key: &str,
) -> Result<Option<T>, ()> {
    match t.get(key) {
        None => Ok(None),
        Some(v) => v.clone().try_into().map(Some).map_err(|_| ()),
    }
}

impl Parts {
    fn of(t: &toml::Table) -> Self {
        fn or_default<T: Default>(r: Result<Option<T>, ()>) -> Option<T> {
            r.ok().map(Option::unwrap_or_default)
        }
        Parts {
            shop: or_default(section(t, "shop")),
            shopify: section(t, "shopify"),
            woocommerce: section(t, "woocommerce"),
            bigcommerce: section(t, "bigcommerce"),
            nuvemshop: section(t, "nuvemshop"),
            ikas: section(t, "ikas"),
            salla: section(t, "salla"),
            zid: section(t, "zid"),
            magento: section(t, "magento"),
            storage: or_default(section(t, "storage")),
            server: section(t, "server").ok().flatten(),
            twilio: section(t, "twilio"),
            whatsapp_cloud: section(t, "whatsapp_cloud"),
            smtp: section(t, "smtp"),
            tracking: or_default(section(t, "tracking")),
            content: or_default(section(t, "content")),
            rate_limits: or_default(section(t, "rate_limits")),
            survey: section(t, "survey"),
            follow_up: section(t, "follow_up"),
            dashboard: section(t, "dashboard"),
            tracking_source: section(t, "tracking_source"),
            helpdesk: section(t, "helpdesk"),
            email: section(t, "email"),
            retention: or_default(section(t, "retention")),
            branding: section(t, "branding"),
            recovery: section(t, "recovery"),
        }
    }
}

//! A config file as the owner writes it: only what they change, laid over
//! the built-in default.
//!
//! Merge rules (also in README, "Configuration"):
//! - mappings merge key by key, at every depth;
//! - a list whose items carry an `id` (models.yml's `models`) merges item by
//!   item: an item with a known id changes that entry, a new id adds one;
//! - any other list or value replaces the default's.
//!
//! Checking goes past the first mistake: each bad key is recorded, put back
//! to its default (or dropped), and the file is read again, so
//! `hauski config check` names every one with its line.

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use serde_yaml::{Mapping, Value};

use super::lines::LineMap;

/// One thing wrong in a config file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The file as shown to the owner (a path, or `built-in NAME`).
    pub file: String,
    pub line: Option<usize>,
    /// The key's path (`profiles.kueche.volume`); empty for the whole file.
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The owner's file, when there is one.
pub struct OwnerFile<'a> {
    pub shown: String,
    pub text: &'a str,
}

/// `embedded` with `owner` laid over it, read as `T`; every problem found.
/// `prepare` adjusts the default before the merge, knowing the owner's value.
pub fn read_layered<T: DeserializeOwned>(
    name: &str,
    embedded: &str,
    owner: Option<OwnerFile<'_>>,
    prepare: impl FnOnce(&mut Value, Option<&Value>),
) -> Result<T, Vec<Problem>> {
    let mut base: Value = serde_yaml::from_str(embedded).map_err(|e| {
        vec![Problem {
            file: format!("built-in {name}"),
            line: e.location().map(|l| l.line()),
            key: String::new(),
            message: e.to_string(),
        }]
    })?;
    let Some(owner) = owner else {
        prepare(&mut base, None);
        return read_all(base.clone(), &base, &Source::BuiltIn(name));
    };
    let over: Value = match serde_yaml::from_str(owner.text) {
        // An empty (or all-comment) file changes nothing.
        Ok(Value::Null) => Value::Mapping(Mapping::new()),
        Ok(v) => v,
        Err(e) => {
            return Err(vec![Problem {
                file: owner.shown,
                line: e.location().map(|l| l.line()),
                key: String::new(),
                message: e.to_string(),
            }]);
        }
    };
    if !matches!(over, Value::Mapping(_)) {
        return Err(vec![Problem {
            file: owner.shown,
            line: Some(1),
            key: String::new(),
            message: "expected a mapping of keys to values at the top".into(),
        }]);
    }
    prepare(&mut base, Some(&over));
    let mut merged = base.clone();
    merge(&mut merged, over.clone());
    let source = Source::Owner {
        shown: owner.shown,
        lines: LineMap::of(owner.text),
        over,
    };
    read_all(merged, &base, &source)
}

/// Lays `over` onto `base` by the rules in the module doc.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (Value::Sequence(base), Value::Sequence(over)) if over.iter().all(|i| id_of(i).is_some()) => {
            for item in over {
                match base
                    .iter_mut()
                    .find(|b| id_of(b).is_some() && id_of(b) == id_of(&item))
                {
                    Some(slot) => merge(slot, item),
                    None => base.push(item),
                }
            }
        }
        (base, over) => *base = over,
    }
}

fn id_of(item: &Value) -> Option<&Value> {
    item.as_mapping()?.get("id")
}

enum Source<'a> {
    BuiltIn(&'a str),
    Owner {
        shown: String,
        lines: LineMap,
        over: Value,
    },
}

/// Reads `merged` as `T`; on each error records it and repairs the value
/// from `base`, until it reads or nothing more can be repaired.
fn read_all<T: DeserializeOwned>(
    mut merged: Value,
    base: &Value,
    source: &Source,
) -> Result<T, Vec<Problem>> {
    let mut problems = Vec::new();
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, T>(merged.clone()) {
            Ok(value) if problems.is_empty() => return Ok(value),
            Ok(_) => return Err(problems),
            Err(err) => {
                let segments: Vec<Segment> = err.path().iter().cloned().collect();
                problems.push(problem(source, &merged, &segments, err.inner().to_string()));
                if !repair(&mut merged, base, &segments) {
                    return Err(problems);
                }
            }
        }
    }
    Err(problems)
}

fn problem(source: &Source, merged: &Value, segments: &[Segment], message: String) -> Problem {
    match source {
        Source::BuiltIn(name) => Problem {
            file: format!("built-in {name}"),
            line: None,
            key: render(segments),
            message,
        },
        Source::Owner { shown, lines, over } => {
            // The owner's own path to the key: merged list items sit at
            // other indices than in the owner's file.
            let owned = owner_path(merged, over, segments);
            Problem {
                file: shown.clone(),
                line: owned.as_deref().and_then(|p| lines.line(p)),
                key: render(segments),
                message,
            }
        }
    }
}

/// `segments` (a path into the merged value) as a path into `over`.
fn owner_path(merged: &Value, over: &Value, segments: &[Segment]) -> Option<String> {
    let (mut merged, mut over) = (merged, over);
    let mut owned = Vec::new();
    for segment in segments {
        match segment {
            Segment::Map { key } => {
                merged = merged.get(key.as_str())?;
                over = over.get(key.as_str())?;
                owned.push(segment.clone());
            }
            Segment::Seq { index } => {
                merged = merged.get(*index)?;
                let at = match id_of(merged) {
                    Some(id) => over.as_sequence()?.iter().position(|i| id_of(i) == Some(id))?,
                    None => *index,
                };
                over = over.get(at)?;
                owned.push(Segment::Seq { index: at });
            }
            _ => return None,
        }
    }
    Some(render(&owned))
}

fn render(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// Puts the value at `segments` back to `base`'s, or removes it where the
/// default has none. False when there is nothing to repair (the root).
fn repair(merged: &mut Value, base: &Value, segments: &[Segment]) -> bool {
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let default = lookup(base, segments).cloned();
    let Some(parent) = lookup_mut(merged, parents) else {
        return false;
    };
    match (last, parent, default) {
        (Segment::Map { key }, Value::Mapping(map), Some(default)) => {
            if map.get(key.as_str()) == Some(&default) {
                return false;
            }
            map.insert(Value::String(key.clone()), default);
        }
        (Segment::Map { key }, Value::Mapping(map), None) => {
            if map.remove(key.as_str()).is_none() {
                return false;
            }
        }
        (Segment::Seq { index }, Value::Sequence(items), _) if *index < items.len() => {
            items.remove(*index);
        }
        _ => return false,
    }
    true
}

fn lookup<'v>(value: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    segments.iter().try_fold(value, |v, s| match s {
        Segment::Map { key } => v.get(key.as_str()),
        Segment::Seq { index } => v.get(*index),
        _ => None,
    })
}

fn lookup_mut<'v>(value: &'v mut Value, segments: &[Segment]) -> Option<&'v mut Value> {
    segments.iter().try_fold(value, |v, s| match s {
        Segment::Map { key } => v.get_mut(key.as_str()),
        Segment::Seq { index } => v.get_mut(*index),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Profile {
        sink: String,
        volume: f32,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Models {
        id: String,
        url: String,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct File {
        active: String,
        profiles: BTreeMap<String, Profile>,
        models: Vec<Models>,
    }

    const DEFAULT: &str = "active: a\nprofiles:\n  a: {sink: default, volume: 0.8}\nmodels:\n  - {id: m, url: u1}\n  - {id: n, url: u2}\n";

    fn read(owner: &str) -> Result<File, Vec<Problem>> {
        let owner = OwnerFile {
            shown: "profiles.yaml".into(),
            text: owner,
        };
        read_layered("profiles.yaml", DEFAULT, Some(owner), |_, _| {})
    }

    #[test]
    fn a_file_with_one_change_keeps_every_other_default() {
        let file = read(
            "profiles:\n  a:\n    volume: 0.3\nmodels:\n  - {id: n, url: mine}\n  - {id: o, url: new}\n",
        )
        .expect("valid");
        assert_eq!(file.active, "a");
        assert_eq!(
            file.profiles["a"],
            Profile {
                sink: "default".into(),
                volume: 0.3
            }
        );
        let urls: Vec<&str> = file.models.iter().map(|m| m.url.as_str()).collect();
        assert_eq!(urls, ["u1", "mine", "new"]);
    }

    #[test]
    fn every_bad_key_is_named_with_its_line() {
        let problems =
            read("active: a\nprofiles:\n  a:\n    volum: 1\n    sink: [x]\nmodels:\n  - id: n\n    uri: x\n")
                .expect_err("three mistakes");
        let found: Vec<(Option<usize>, &str)> = problems.iter().map(|p| (p.line, p.key.as_str())).collect();
        assert_eq!(
            found,
            [
                (Some(5), "profiles.a.sink"),
                (Some(4), "profiles.a.volum"),
                (Some(8), "models[1].uri")
            ],
            "{problems:#?}"
        );
        assert!(
            problems[1]
                .to_string()
                .starts_with("profiles.yaml:4: profiles.a.volum: unknown field")
        );
    }

    #[test]
    fn broken_yaml_names_its_line() {
        let problems = read("active: a\nprofiles: [\n").expect_err("syntax");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].line.is_some(), "{problems:?}");
    }

    #[test]
    fn an_empty_file_changes_nothing() {
        assert_eq!(read("# nothing here\n").expect("valid").active, "a");
    }
}

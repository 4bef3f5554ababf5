//! Output held to a grammar: llama.cpp's GBNF, applied while sampling, so a
//! constrained answer parses whatever the model would rather have said.
//!
//! JSON schemas are turned into GBNF by llama.cpp's own converter (its
//! `common` library, which llama-cpp-2 exposes), the one its server uses for
//! `response_format`: no second JSON-schema dialect to keep in step.

use serde_json::Value;

use crate::BrainError;

/// A grammar the answer must follow.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputGrammar {
    /// The rules, in llama.cpp's GBNF.
    pub gbnf: String,
    /// The rule the whole answer (or, when lazy, the part from the trigger on) matches.
    pub root: String,
    /// Lazy: the answer is free until it writes this, and held to `root`
    /// from there (the trigger included). Tool calls in "auto" mode use it,
    /// so a model may answer in words or call a tool.
    pub trigger: Option<String>,
}

impl OutputGrammar {
    /// The answer is one JSON value that validates against `schema`.
    pub fn json_schema(schema: &Value) -> Result<Self, BrainError> {
        let gbnf = schema_rules(schema)?;
        Ok(Self {
            gbnf,
            root: "root".into(),
            trigger: None,
        })
    }

    /// Any JSON object (OpenAI's `json_object`, Ollama's `format: "json"`).
    pub fn json_object() -> Result<Self, BrainError> {
        Self::json_schema(&serde_json::json!({"type": "object"}))
    }

    /// The answer is `open`, a JSON value valid against `schema`, then
    /// `close`; with `lazy`, text before `open` is free.
    pub fn wrapped_json(schema: &Value, open: &str, close: &str, lazy: bool) -> Result<Self, BrainError> {
        let mut gbnf = schema_rules(schema)?;
        gbnf.push_str(&format!(
            "\nwrapped-root ::= {} root {}\n",
            gbnf_literal(open),
            gbnf_literal(close)
        ));
        Ok(Self {
            gbnf,
            root: "wrapped-root".into(),
            trigger: lazy.then(|| open.to_string()),
        })
    }
}

fn schema_rules(schema: &Value) -> Result<String, BrainError> {
    if !schema.is_object() && !schema.is_boolean() {
        return Err(BrainError::InvalidInput(format!(
            "a JSON schema is an object (or true/false), not {schema}"
        )));
    }
    let rules = llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|e| {
        BrainError::InvalidInput(format!(
            "llama.cpp cannot turn this JSON schema into a grammar ({e}); it supports type, properties, required, items, enum, const, anyOf/oneOf, $ref within the schema, minLength/maxLength, minItems/maxItems"
        ))
    })?;
    Ok(compact_spacing(&rules))
}

/// llama.cpp lets a model put up to two line breaks and twenty blanks
/// between any two JSON tokens; a small model sampled hot takes it up, and
/// the answer runs out of tokens before its closing brace. One optional
/// space keeps an answer's length bounded by its schema.
fn compact_spacing(rules: &str) -> String {
    rules
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("space ::=") {
                r#"space ::= " "?"#
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` as a GBNF string literal.
fn gbnf_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_becomes_rules_with_a_root() {
        let grammar = OutputGrammar::json_schema(&json!({
            "type": "object",
            "properties": {"room": {"enum": ["kitchen", "hall"]}},
            "required": ["room"],
        }))
        .expect("converts");
        assert!(grammar.gbnf.contains("root ::="), "{}", grammar.gbnf);
        assert!(grammar.gbnf.contains("kitchen"), "{}", grammar.gbnf);
        assert!(grammar.gbnf.contains(r#"space ::= " "?"#), "{}", grammar.gbnf);
        assert!(
            !grammar.gbnf.contains(r#""\n""#),
            "no line breaks: {}",
            grammar.gbnf
        );
        assert_eq!(grammar.trigger, None);
    }

    #[test]
    fn a_wrapped_grammar_starts_at_its_trigger() {
        let grammar =
            OutputGrammar::wrapped_json(&json!({"type": "object"}), "<tool_call>", "</tool_call>", true)
                .expect("converts");
        assert_eq!(grammar.root, "wrapped-root");
        assert_eq!(grammar.trigger.as_deref(), Some("<tool_call>"));
        assert!(
            grammar
                .gbnf
                .contains(r#"wrapped-root ::= "<tool_call>" root "</tool_call>""#)
        );
    }

    #[test]
    fn a_schema_that_is_not_one_is_refused_by_name() {
        let refused = OutputGrammar::json_schema(&json!(["type"])).expect_err("an array is no schema");
        assert!(refused.to_string().contains("JSON schema"), "{refused}");
    }

    #[test]
    fn literals_escape_quotes_and_breaks() {
        assert_eq!(gbnf_literal("a\"b\\\n"), r#""a\"b\\\n""#);
    }
}

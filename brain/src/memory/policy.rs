use std::fmt;
use std::str::FromStr;

/// Where an entry lives, and so how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// This conversation.
    Short,
    /// Hours to days: "the plumber comes on Tuesday".
    Working,
    /// Until forgotten.
    Long,
}

impl Layer {
    pub const ALL: [Layer; 3] = [Layer::Short, Layer::Working, Layer::Long];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Short => "short",
            Layer::Working => "working",
            Layer::Long => "long",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layer {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "short" => Ok(Layer::Short),
            "working" => Ok(Layer::Working),
            "long" => Ok(Layer::Long),
            other => Err(format!(
                "unknown memory layer {other:?}; use short, working or long"
            )),
        }
    }
}

/// Time to live per layer, in milliseconds; `None` never expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryPolicy {
    pub short_ttl_ms: Option<i64>,
    pub working_ttl_ms: Option<i64>,
    pub long_ttl_ms: Option<i64>,
}

impl MemoryPolicy {
    pub fn ttl_ms(&self, layer: Layer) -> Option<i64> {
        match layer {
            Layer::Short => self.short_ttl_ms,
            Layer::Working => self.working_ttl_ms,
            Layer::Long => self.long_ttl_ms,
        }
    }
}

impl Default for MemoryPolicy {
    fn default() -> Self {
        Self {
            short_ttl_ms: Some(30 * 60_000),
            working_ttl_ms: Some(72 * 3_600_000),
            long_ttl_ms: None,
        }
    }
}

/// Parses a lifetime like `30m`, `72h`, `14d`, `45s` or `never`.
pub fn parse_ttl(text: &str) -> Result<Option<i64>, String> {
    let t = text.trim();
    if t == "never" {
        return Ok(None);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("lifetime {text:?} must be a number with s, m, h or d, or `never`"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "lifetime {text:?} has unknown unit {unit:?}; use s, m, h or d"
            ));
        }
    };
    if n <= 0 {
        return Err(format!("lifetime {text:?} must be positive"));
    }
    Ok(Some(n.saturating_mul(unit_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_parse() {
        assert_eq!(parse_ttl("30m"), Ok(Some(1_800_000)));
        assert_eq!(parse_ttl("72h"), Ok(Some(259_200_000)));
        assert_eq!(parse_ttl("never"), Ok(None));
        assert!(parse_ttl("soon").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("0s").is_err());
    }
}

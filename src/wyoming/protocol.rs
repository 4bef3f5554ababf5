//! The Wyoming wire format (Home Assistant's voice protocol): each event is
//! one JSON line `{"type", "data"?, "data_length"?, "payload_length"?}`,
//! followed by `data_length` bytes of JSON merged into `data`, then
//! `payload_length` bytes of binary payload (PCM audio).

use serde_json::{Map, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Larger headers, data or payloads than this end the connection: a client
/// cannot make the server buffer without bound.
const MAX_LINE: usize = 64 * 1024;
const MAX_PART: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct WireEvent {
    pub kind: String,
    pub data: Map<String, Value>,
    pub payload: Vec<u8>,
}

impl WireEvent {
    pub fn new(kind: &str, data: Value) -> Self {
        Self {
            kind: kind.to_string(),
            data: match data {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            payload: Vec::new(),
        }
    }

    pub fn with_payload(mut self, payload: Vec<u8>) -> Self {
        self.payload = payload;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad event header: {0}")]
    Header(String),
    #[error("an event part of {0} bytes is over the limit of {MAX_PART}")]
    TooLarge(usize),
}

/// The next event, or `None` when the peer closed the connection.
pub async fn read_event<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Option<WireEvent>, ProtocolError> {
    let mut line = Vec::new();
    let read = (&mut *reader)
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .await?;
    if read == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE {
        return Err(ProtocolError::Header(format!(
            "header line over {MAX_LINE} bytes"
        )));
    }
    let header: Value = serde_json::from_slice(&line).map_err(|e| ProtocolError::Header(e.to_string()))?;
    let kind = header
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| ProtocolError::Header("no \"type\"".into()))?
        .to_string();
    let mut data = match header.get("data") {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let length = |field: &str| -> Result<usize, ProtocolError> {
        let n = header.get(field).and_then(Value::as_u64).unwrap_or(0) as usize;
        if n > MAX_PART {
            return Err(ProtocolError::TooLarge(n));
        }
        Ok(n)
    };
    let data_length = length("data_length")?;
    let payload_length = length("payload_length")?;
    if data_length > 0 {
        let mut bytes = vec![0; data_length];
        reader.read_exact(&mut bytes).await?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(extra)) => data.extend(extra),
            _ => return Err(ProtocolError::Header("event data is not a JSON object".into())),
        }
    }
    let mut payload = vec![0; payload_length];
    if payload_length > 0 {
        reader.read_exact(&mut payload).await?;
    }
    Ok(Some(WireEvent { kind, data, payload }))
}

pub async fn write_event<W: AsyncWrite + Unpin>(
    writer: &mut W,
    event: &WireEvent,
) -> Result<(), ProtocolError> {
    let mut header = Map::new();
    header.insert("type".into(), Value::String(event.kind.clone()));
    header.insert("version".into(), Value::String("1.5.2".into()));
    let data = if event.data.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(&event.data).map_err(|e| ProtocolError::Header(e.to_string()))?
    };
    if !data.is_empty() {
        header.insert("data_length".into(), Value::from(data.len()));
    }
    if !event.payload.is_empty() {
        header.insert("payload_length".into(), Value::from(event.payload.len()));
    }
    let mut line =
        serde_json::to_vec(&Value::Object(header)).map_err(|e| ProtocolError::Header(e.to_string()))?;
    line.push(b'\n');
    writer.write_all(&line).await?;
    writer.write_all(&data).await?;
    writer.write_all(&event.payload).await?;
    writer.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn events_round_trip_with_data_and_payload() {
        let event = WireEvent::new("audio-chunk", json!({"rate": 16000, "width": 2, "channels": 1}))
            .with_payload(vec![1, 2, 3, 4]);
        let mut wire = Vec::new();
        write_event(&mut wire, &event).await.expect("write");
        let mut reader = tokio::io::BufReader::new(wire.as_slice());
        assert_eq!(read_event(&mut reader).await.expect("read"), Some(event));
        assert_eq!(read_event(&mut reader).await.expect("eof"), None);
    }

    #[tokio::test]
    async fn header_data_and_separate_data_are_merged() {
        let wire = b"{\"type\":\"x\",\"data\":{\"a\":1},\"data_length\":7}\n{\"b\":2}".to_vec();
        let mut reader = tokio::io::BufReader::new(wire.as_slice());
        let event = read_event(&mut reader).await.expect("read").expect("event");
        assert_eq!(Value::Object(event.data), json!({"a": 1, "b": 2}));
    }

    #[tokio::test]
    async fn oversized_parts_are_refused() {
        let wire = format!("{{\"type\":\"x\",\"payload_length\":{}}}\n", MAX_PART + 1);
        let mut reader = tokio::io::BufReader::new(wire.as_bytes());
        assert!(matches!(
            read_event(&mut reader).await,
            Err(ProtocolError::TooLarge(_))
        ));
    }
}

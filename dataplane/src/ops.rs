//! The payload of a WAL record: one validated write batch, in a compact binary form (vectors as
//! raw little-endian f32, metadata as JSON text). Delete-by-filter is logged as the ids it resolved
//! to, so replay never re-evaluates a filter against different data.
//!
//! ```text
//! upsert: 0x01 u32 count { u16 id_len id u32 dim f32*dim u32 meta_len meta_json }*
//! delete: 0x02 u32 count { u16 id_len id }*
//! ```

use akidb_client::{Metadata, Record};

/// A logged write.
#[derive(Debug, Clone, PartialEq)]
pub enum WalOp {
    Upsert(Vec<Record>),
    Delete(Vec<String>),
}

/// A WAL payload that does not decode (the checksum passed, so this is a bug or a format change).
#[derive(Debug, thiserror::Error)]
#[error("undecodable wal payload: {0}")]
pub struct OpDecodeError(String);

const UPSERT: u8 = 1;
const DELETE: u8 = 2;

impl WalOp {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            WalOp::Upsert(records) => {
                out.push(UPSERT);
                out.extend_from_slice(&(records.len() as u32).to_le_bytes());
                for r in records {
                    put_str16(&mut out, &r.id);
                    out.extend_from_slice(&(r.vector.len() as u32).to_le_bytes());
                    for x in &r.vector {
                        out.extend_from_slice(&x.to_le_bytes());
                    }
                    let meta = if r.metadata.is_empty() {
                        Vec::new()
                    } else {
                        serde_json::to_vec(&r.metadata).unwrap_or_default()
                    };
                    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
                    out.extend_from_slice(&meta);
                }
            }
            WalOp::Delete(ids) => {
                out.push(DELETE);
                out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
                for id in ids {
                    put_str16(&mut out, id);
                }
            }
        }
        out
    }

    pub fn decode(buf: &[u8]) -> Result<WalOp, OpDecodeError> {
        let mut r = Reader { buf, pos: 0 };
        let tag = r.u8()?;
        let count = r.u32()? as usize;
        match tag {
            UPSERT => {
                let mut records = Vec::with_capacity(count.min(1 << 16));
                for _ in 0..count {
                    let id = r.str16()?;
                    let dim = r.u32()? as usize;
                    let raw = r.take(
                        dim.checked_mul(4)
                            .ok_or_else(|| err("dimension overflow"))?,
                    )?;
                    let vector = raw
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    let mlen = r.u32()? as usize;
                    let metadata: Metadata = if mlen == 0 {
                        Metadata::new()
                    } else {
                        serde_json::from_slice(r.take(mlen)?).map_err(|e| err(&e.to_string()))?
                    };
                    records.push(Record {
                        id,
                        vector,
                        metadata,
                    });
                }
                Ok(WalOp::Upsert(records))
            }
            DELETE => {
                let mut ids = Vec::with_capacity(count.min(1 << 16));
                for _ in 0..count {
                    ids.push(r.str16()?);
                }
                Ok(WalOp::Delete(ids))
            }
            t => Err(err(&format!("unknown op tag {t}"))),
        }
    }
}

fn err(m: &str) -> OpDecodeError {
    OpDecodeError(m.to_string())
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    // ids are validated to at most 256 bytes before they reach the WAL.
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], OpDecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| err("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| err("truncated"))?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, OpDecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, OpDecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn str16(&mut self) -> Result<String, OpDecodeError> {
        let b = self.take(2)?;
        let n = u16::from_le_bytes([b[0], b[1]]) as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|e| err(&e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upsert_and_delete_roundtrip() {
        let op = WalOp::Upsert(vec![
            Record {
                id: "a".into(),
                vector: vec![1.5, -2.0, f32::MIN_POSITIVE],
                metadata: json!({"g": 3, "tags": ["x"]})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            },
            Record {
                id: "ü".into(),
                vector: vec![0.0; 3],
                metadata: Metadata::new(),
            },
        ]);
        assert_eq!(WalOp::decode(&op.encode()).expect("decode"), op);
        let del = WalOp::Delete(vec!["a".into(), "b".into()]);
        assert_eq!(WalOp::decode(&del.encode()).expect("decode"), del);
    }

    #[test]
    fn truncated_or_unknown_payloads_are_errors() {
        let bytes = WalOp::Delete(vec!["abc".into()]).encode();
        assert!(WalOp::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(WalOp::decode(&[9, 0, 0, 0, 0]).is_err());
        assert!(WalOp::decode(&[]).is_err());
    }
}

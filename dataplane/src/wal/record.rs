//! Record framing: `[u32 LE payload_len][u32 LE crc32c(lsn ‖ payload)][u64 LE lsn][payload]`.
//!
//! The checksum covers the LSN so a record copied to the wrong place, or a header whose
//! LSN bits flipped, is detected just like a damaged payload.

use std::io::{self, Read};

/// Bytes of framing in front of every payload.
pub(crate) const HEADER_LEN: u64 = 16;

/// Largest payload `append` accepts. Also bounds the length field during recovery, so a
/// corrupt length can never make us allocate gigabytes.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024 * 1024;

pub(crate) fn checksum(lsn: u64, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&lsn.to_le_bytes()), payload)
}

/// Frames one record. The caller has already checked `payload.len() <= MAX_PAYLOAD_BYTES`.
pub(crate) fn encode(lsn: u64, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut buf = Vec::with_capacity(HEADER_LEN as usize + payload.len());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&checksum(lsn, payload).to_le_bytes());
    buf.extend_from_slice(&lsn.to_le_bytes());
    buf.extend_from_slice(payload);
    buf
}

#[derive(Debug, Clone, Copy)]
struct Header {
    len: u32,
    crc: u32,
    lsn: u64,
}

impl Header {
    fn decode(b: [u8; 16]) -> Header {
        let [l0, l1, l2, l3, c0, c1, c2, c3, s0, s1, s2, s3, s4, s5, s6, s7] = b;
        Header {
            len: u32::from_le_bytes([l0, l1, l2, l3]),
            crc: u32::from_le_bytes([c0, c1, c2, c3]),
            lsn: u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
        }
    }
}

/// Outcome of reading one record.
#[derive(Debug)]
pub(crate) enum Next {
    /// A checksum-valid record starting at `offset`; its payload is in the caller's buffer.
    Record { offset: u64, lsn: u64 },
    /// Clean end of the segment exactly on a record boundary.
    End,
    /// The bytes at `offset` are not a valid record. Whether that is a torn tail or
    /// corruption is decided by the caller, which knows where in the log it is.
    Bad { offset: u64, reason: String },
}

/// Sequential reader over the first `end` bytes of a segment.
pub(crate) struct RecordReader<R> {
    inner: R,
    offset: u64,
    end: u64,
}

impl<R: Read> RecordReader<R> {
    pub(crate) fn new(inner: R, end: u64) -> Self {
        RecordReader {
            inner,
            offset: 0,
            end,
        }
    }

    /// Offset just past the last valid record returned.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next record into `payload`. After `Bad` or `End` the reader is finished.
    pub(crate) fn read_next(&mut self, payload: &mut Vec<u8>) -> io::Result<Next> {
        let start = self.offset;
        let remaining = self.end.saturating_sub(start);
        if remaining == 0 {
            return Ok(Next::End);
        }
        let bad = |reason: String| {
            Ok(Next::Bad {
                offset: start,
                reason,
            })
        };
        if remaining < HEADER_LEN {
            return bad(format!("partial header: {remaining} of {HEADER_LEN} bytes"));
        }
        let mut hb = [0u8; 16];
        self.inner.read_exact(&mut hb)?;
        let h = Header::decode(hb);
        let len = u64::from(h.len);
        if len > MAX_PAYLOAD_BYTES as u64 {
            return bad(format!(
                "record length {len} exceeds the maximum {MAX_PAYLOAD_BYTES}"
            ));
        }
        if len > remaining - HEADER_LEN {
            return bad(format!(
                "record length {len} but only {} payload bytes remain",
                remaining - HEADER_LEN
            ));
        }
        payload.clear();
        payload.resize(len as usize, 0);
        self.inner.read_exact(payload)?;
        if checksum(h.lsn, payload) != h.crc {
            return bad(format!("checksum mismatch (record claims lsn {})", h.lsn));
        }
        self.offset = start + HEADER_LEN + len;
        Ok(Next::Record {
            offset: start,
            lsn: h.lsn,
        })
    }
}

/// Whether a checksum-valid record that could belong to this log starts anywhere after
/// the first byte of `rest` (the bytes from a bad record's offset to the end of file).
///
/// The bad record should have had `expected_lsn`; any genuine later record at distance
/// `d` has an lsn in `expected_lsn ..= expected_lsn + d / 16` (every record is at least
/// 16 bytes). That cheap filter makes the byte-by-byte search linear in practice, and
/// together with the checksum makes random garbage essentially never match.
pub(crate) fn valid_record_after(rest: &[u8], expected_lsn: u64) -> bool {
    let hl = HEADER_LEN as usize;
    for start in 1..rest.len().saturating_sub(hl - 1) {
        let Some(Ok(hb)) = rest.get(start..start + hl).map(<[u8; 16]>::try_from) else {
            continue;
        };
        let h = Header::decode(hb);
        let max_lsn = expected_lsn.saturating_add(start as u64 / HEADER_LEN);
        if h.lsn < expected_lsn || h.lsn > max_lsn || h.len as usize > MAX_PAYLOAD_BYTES {
            continue;
        }
        let body = start + hl;
        let Some(payload) = rest.get(body..body + h.len as usize) else {
            continue;
        };
        if checksum(h.lsn, payload) == h.crc {
            return true;
        }
    }
    false
}

//! Replay: stream records back to the caller after `open` has validated the log.

use super::{
    error::BoxError,
    recovery::{scan_segment, Segment},
    WalError,
};

/// What a replay delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records handed to the callback (those with lsn >= `from_lsn`).
    pub records: u64,
    /// Sum of their payload sizes.
    pub payload_bytes: u64,
    pub first_lsn: Option<u64>,
    pub last_lsn: Option<u64>,
    /// Segment files read (segments wholly below `from_lsn` are skipped unread).
    pub segments_read: usize,
}

/// Replays `segments` (a snapshot; only their recorded lengths are read, so records
/// appended concurrently are not seen). `open` already cut any torn tail, so here every
/// anomaly is `Corrupt`: the files changed underneath us.
pub(crate) fn replay<F, E>(
    segments: &[Segment],
    from_lsn: u64,
    mut f: F,
) -> Result<ReplayStats, WalError>
where
    F: FnMut(u64, &[u8]) -> Result<(), E>,
    E: Into<BoxError>,
{
    let mut stats = ReplayStats::default();
    for (i, seg) in segments.iter().enumerate() {
        let next_first = segments.get(i + 1).map(|s| s.first_lsn);
        if next_first.is_some_and(|n| n <= from_lsn) {
            continue;
        }
        stats.segments_read += 1;
        let scan = scan_segment(
            &seg.path,
            seg.first_lsn,
            Some(seg.len),
            |lsn, payload: &[u8]| {
                if lsn < from_lsn {
                    return Ok(());
                }
                f(lsn, payload).map_err(|e| WalError::Replay {
                    lsn,
                    source: e.into(),
                })?;
                stats.records += 1;
                stats.payload_bytes += payload.len() as u64;
                stats.first_lsn.get_or_insert(lsn);
                stats.last_lsn = Some(lsn);
                Ok(())
            },
        )?;
        if let Some((offset, reason)) = scan.bad {
            return Err(WalError::Corrupt {
                file: seg.path.clone(),
                offset,
                reason: format!("{reason} (segment changed since open)"),
            });
        }
    }
    Ok(stats)
}

//! Segment files: one Parquet file per segment (zstd), Arrow schema
//! `id: Utf8, lsn: UInt64, vector: FixedSizeList<Float32>[dim] (null for tombstones),
//! metadata: Utf8 JSON (null for tombstones), tombstone: Boolean`. Data rows come first, in row
//! order (row `r` is FAISS label `r`), then the segment's tombstones.

use std::sync::Arc;

use akidb_client::Metadata;
use arrow_array::{
    Array, ArrayRef, BooleanArray, FixedSizeListArray, Float32Array, RecordBatch, StringArray,
    UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::Segment;

/// Why a segment file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SegmentFileError {
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The file is readable but not a segment of this collection (corruption or a bug).
    #[error("segment file is malformed: {0}")]
    Malformed(String),
}

type Result<T> = std::result::Result<T, SegmentFileError>;

/// The rows and tombstones of a decoded segment file.
#[derive(Debug, Default)]
pub struct SegmentRows {
    pub ids: Vec<String>,
    pub lsns: Vec<u64>,
    pub vectors: Vec<f32>,
    pub metadata: Vec<Metadata>,
    pub tombstones: Vec<(String, u64)>,
}

fn schema(dim: usize) -> Arc<Schema> {
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("lsn", DataType::UInt64, false),
        Field::new("vector", DataType::FixedSizeList(item, dim as i32), true),
        Field::new("metadata", DataType::Utf8, true),
        Field::new("tombstone", DataType::Boolean, false),
    ]))
}

/// Encodes a segment's rows and tombstones as Parquet bytes.
pub fn encode(seg: &Segment) -> Result<Vec<u8>> {
    let dim = seg.dim;
    let n = seg.rows();
    let t = seg.tombstones.len();
    let ids = StringArray::from_iter_values(
        seg.ids
            .iter()
            .map(String::as_str)
            .chain(seg.tombstones.iter().map(|(id, _)| id.as_str())),
    );
    let lsns = UInt64Array::from_iter_values(
        seg.lsns
            .iter()
            .copied()
            .chain(seg.tombstones.iter().map(|(_, l)| *l)),
    );
    let mut values = seg.vectors.clone();
    values.resize((n + t) * dim, 0.0);
    let valid: Vec<bool> = (0..n + t).map(|i| i < n).collect();
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let vectors = FixedSizeListArray::try_new(
        item,
        dim as i32,
        Arc::new(Float32Array::from(values)),
        Some(valid.into()),
    )?;
    let mut meta: Vec<Option<String>> = Vec::with_capacity(n + t);
    for m in &seg.metadata {
        let s = serde_json::to_string(m).map_err(|e| SegmentFileError::Malformed(e.to_string()))?;
        meta.push(Some(s));
    }
    meta.resize(n + t, None);
    let tomb = BooleanArray::from((0..n + t).map(|i| i >= n).collect::<Vec<_>>());
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(lsns),
        Arc::new(vectors),
        Arc::new(StringArray::from(meta)),
        Arc::new(tomb),
    ];
    let batch = RecordBatch::try_new(schema(dim), columns)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))?;
    w.write(&batch)?;
    w.close()?;
    Ok(buf)
}

fn column<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| SegmentFileError::Malformed(format!("column {name} missing or mistyped")))
}

/// Decodes a segment file written by [`encode`] for vectors of `dim`.
pub fn decode(bytes: Bytes, dim: usize) -> Result<SegmentRows> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?
        .with_batch_size(65536)
        .build()?;
    let mut out = SegmentRows::default();
    for batch in reader {
        append_batch(&mut out, &batch?, dim)?;
    }
    Ok(out)
}

fn append_batch(out: &mut SegmentRows, b: &RecordBatch, dim: usize) -> Result<()> {
    let ids: &StringArray = column(b, "id")?;
    let lsns: &UInt64Array = column(b, "lsn")?;
    let vectors: &FixedSizeListArray = column(b, "vector")?;
    let meta: &StringArray = column(b, "metadata")?;
    let tomb: &BooleanArray = column(b, "tombstone")?;
    if vectors.value_length() as usize != dim {
        return Err(SegmentFileError::Malformed(format!(
            "vector width {} but collection dimension {dim}",
            vectors.value_length()
        )));
    }
    let values = vectors
        .values()
        .as_any()
        .downcast_ref::<Float32Array>()
        .ok_or_else(|| SegmentFileError::Malformed("vector values are not f32".into()))?;
    for i in 0..b.num_rows() {
        let id = ids.value(i).to_string();
        if tomb.value(i) {
            out.tombstones.push((id, lsns.value(i)));
            continue;
        }
        if !out.tombstones.is_empty() {
            return Err(SegmentFileError::Malformed(
                "data row after tombstones".into(),
            ));
        }
        out.ids.push(id);
        out.lsns.push(lsns.value(i));
        let start = vectors.value_offset(i) as usize;
        out.vectors
            .extend_from_slice(&values.values()[start..start + dim]);
        let m = if meta.is_null(i) {
            Metadata::new()
        } else {
            serde_json::from_str(meta.value(i))
                .map_err(|e| SegmentFileError::Malformed(e.to_string()))?
        };
        out.metadata.push(m);
    }
    Ok(())
}

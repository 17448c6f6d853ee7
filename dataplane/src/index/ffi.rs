//! The one place AkiDB calls the FAISS C API directly: `faiss` 0.13 has no concurrent
//! (`&self`) search with parameters for `IndexImpl`, and its `SearchParameters` leaks the ID
//! selector. FAISS CPU indexes are safe to search from many threads at once, so `search` takes
//! `&IndexImpl`; callers keep writes (add, train, parameter changes) behind their own lock.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::ptr;

use faiss::index::IndexImpl;
use faiss::Index;
use faiss_sys::*;

/// A FAISS call failed; the message is FAISS's own.
#[derive(Debug, thiserror::Error)]
#[error("faiss error {code}: {message}")]
pub struct FaissCallError {
    pub code: i32,
    pub message: String,
}

fn check(code: std::os::raw::c_int) -> Result<(), FaissCallError> {
    if code == 0 {
        return Ok(());
    }
    // SAFETY: faiss_get_last_error returns a thread-local C string or null.
    let message = unsafe {
        let p = faiss_get_last_error();
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    Err(FaissCallError { code, message })
}

/// Owned FAISS search parameters plus the selector they point at, freed together.
struct Params {
    params: *mut FaissSearchParameters,
    selector: *mut FaissIDSelector,
}

impl Drop for Params {
    fn drop(&mut self) {
        // SAFETY: both pointers were created by FAISS constructors below (or are null) and are
        // freed exactly once; the selector is not owned by the parameters object.
        unsafe {
            if !self.params.is_null() {
                faiss_SearchParameters_free(self.params);
            }
            if !self.selector.is_null() {
                faiss_IDSelector_free(self.selector);
            }
        }
    }
}

/// The IVF index inside `index` (itself, or under `IndexPreTransform` layers), if any.
fn find_ivf(index: *mut FaissIndex) -> Option<*mut FaissIndexIVF> {
    let mut cur = index;
    for _ in 0..4 {
        // SAFETY: the casts are dynamic_casts returning null on mismatch; `cur` is a live index
        // owned by the caller's `IndexImpl`.
        unsafe {
            let ivf = faiss_IndexIVF_cast(cur);
            if !ivf.is_null() {
                return Some(ivf);
            }
            let pre = faiss_IndexPreTransform_cast(cur);
            if pre.is_null() {
                return None;
            }
            cur = faiss_IndexPreTransform_index(pre);
        }
    }
    None
}

/// Builds parameters of the type the index expects: FAISS's IVF search rejects plain
/// `SearchParameters`, and `SearchParametersIVF` would otherwise reset nprobe to 1, so IVF gets
/// IVF parameters carrying the requested (or the index's current) nprobe.
fn build_params(
    index: *mut FaissIndex,
    bitmap: Option<&[u8]>,
    nprobe: Option<usize>,
) -> Result<Params, FaissCallError> {
    let mut out = Params {
        params: ptr::null_mut(),
        selector: ptr::null_mut(),
    };
    // SAFETY: FAISS constructors write a fresh object into the out-pointer; the bitmap slice
    // outlives the selector because `Params` is dropped before `search` returns.
    unsafe {
        if let Some(bits) = bitmap {
            let mut sel: *mut FaissIDSelectorBitmap = ptr::null_mut();
            check(faiss_IDSelectorBitmap_new(
                &mut sel,
                bits.len(),
                bits.as_ptr(),
            ))?;
            out.selector = sel as *mut FaissIDSelector;
        }
        match find_ivf(index) {
            Some(ivf) => {
                let np = nprobe.unwrap_or_else(|| faiss_IndexIVF_nprobe(ivf));
                let mut p: *mut FaissSearchParametersIVF = ptr::null_mut();
                check(faiss_SearchParametersIVF_new_with(
                    &mut p,
                    out.selector,
                    np,
                    0,
                ))?;
                out.params = p as *mut FaissSearchParameters;
            }
            None => {
                let mut p: *mut FaissSearchParameters = ptr::null_mut();
                check(faiss_SearchParameters_new(&mut p, out.selector))?;
                out.params = p;
            }
        }
    }
    Ok(out)
}

/// k-NN search of `queries` (row-major, `nq * d`). `bitmap` selects allowed ids (bit i of byte
/// i/8, LSB first); `nprobe` applies when the index is (or wraps) an IVF index. Returns distances and labels
/// (`-1` where fewer than k matched), `nq * k` each.
pub fn search(
    index: &IndexImpl,
    queries: &[f32],
    k: usize,
    bitmap: Option<&[u8]>,
    nprobe: Option<usize>,
) -> Result<(Vec<f32>, Vec<i64>), FaissCallError> {
    let d = index.d() as usize;
    let nq = queries.len().checked_div(d).unwrap_or(0);
    let mut distances = vec![0f32; nq * k];
    let mut labels = vec![-1i64; nq * k];
    if nq == 0 || k == 0 {
        return Ok((distances, labels));
    }
    let raw = index.inner_ptr();
    if bitmap.is_none() && (nprobe.is_none() || find_ivf(raw).is_none()) {
        // SAFETY: buffers sized nq*k; index pointer valid for the borrow; FAISS search is const.
        unsafe {
            check(faiss_Index_search(
                raw,
                nq as idx_t,
                queries.as_ptr(),
                k as idx_t,
                distances.as_mut_ptr(),
                labels.as_mut_ptr(),
            ))?;
        }
        return Ok((distances, labels));
    }
    let params = build_params(raw, bitmap, nprobe)?;
    // SAFETY: as above; `params` (and the bitmap it points into) live until after the call.
    unsafe {
        check(faiss_Index_search_with_params(
            raw,
            nq as idx_t,
            queries.as_ptr(),
            k as idx_t,
            params.params,
            distances.as_mut_ptr(),
            labels.as_mut_ptr(),
        ))?;
    }
    drop(params);
    Ok((distances, labels))
}

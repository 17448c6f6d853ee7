//! A row bitmap in the layout FAISS's `IDSelectorBitmap` reads: bit `i % 8` of byte `i / 8`.

/// Growable bitmap over segment rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bitmap {
    bytes: Vec<u8>,
    len: usize,
}

impl Bitmap {
    pub fn with_len(len: usize, value: bool) -> Self {
        let fill = if value { 0xff } else { 0 };
        let mut b = Bitmap {
            bytes: vec![fill; len.div_ceil(8)],
            len,
        };
        b.clear_padding();
        b
    }

    fn clear_padding(&mut self) {
        if !self.len.is_multiple_of(8) {
            if let Some(last) = self.bytes.last_mut() {
                *last &= (1u8 << (self.len % 8)) - 1;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, value: bool) {
        if self.len.is_multiple_of(8) {
            self.bytes.push(0);
        }
        self.len += 1;
        self.set(self.len - 1, value);
    }

    #[inline]
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.bytes[i / 8] & (1 << (i % 8)) != 0
    }

    #[inline]
    pub fn set(&mut self, i: usize, value: bool) {
        if i >= self.len {
            return;
        }
        if value {
            self.bytes[i / 8] |= 1 << (i % 8);
        } else {
            self.bytes[i / 8] &= !(1 << (i % 8));
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn count_ones(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_set_and_count_agree() {
        let mut b = Bitmap::default();
        for i in 0..20 {
            b.push(i % 3 == 0);
        }
        assert_eq!(b.len(), 20);
        assert_eq!(b.count_ones(), 7);
        b.set(3, false);
        assert!(!b.get(3) && b.get(6) && !b.get(25));
        assert_eq!(Bitmap::with_len(13, true).count_ones(), 13);
    }
}

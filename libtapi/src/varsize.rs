//! Filling TAPI's variable-size structures the TAPI way: the application sets dwTotalSize; below
//! the fixed part the call fails with STRUCTURETOOSMALL; otherwise the fixed part is written,
//! and the variable part (strings, arrays) too if it fits. If it does not, dwNeededSize says how
//! much is needed, dwUsedSize what was written, every Size/Offset pair stays 0 and the call still
//! succeeds: the application's two-pass dwNeededSize loop. Offsets count from the structure's
//! start; strings are ASCII and NUL-terminated; each variable item starts on a 4-byte boundary.

/// Where a Size or Offset DWORD lives: in the fixed part, or inside an earlier variable item
/// (LINEFORWARD entries in LINEADDRESSSTATUS point at their own strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    Fixed(usize),
    InItem { item: usize, at: usize },
}

#[derive(Debug)]
struct Item {
    data: Vec<u8>,
    size_at: Loc,
    offset_at: Loc,
}

/// A structure being filled.
pub struct VarWriter {
    base: *mut u8,
    total: usize,
    fixed: usize,
    dwords: Vec<(usize, u32)>,
    items: Vec<Item>,
}

/// Bytes 0..12 of every variable-size structure.
const TOTAL_SIZE: usize = 0;
const NEEDED_SIZE: usize = 4;
const USED_SIZE: usize = 8;

impl VarWriter {
    /// Starts filling the structure at `base` whose fixed part is `fixed` bytes.
    ///
    /// # Safety
    /// `base` is non-null and points at `dwTotalSize` writable bytes (the caller's promise).
    pub unsafe fn start(base: *mut u8, fixed: usize) -> Result<VarWriter, ()> {
        let total = std::ptr::read_unaligned(base.add(TOTAL_SIZE) as *const u32) as usize;
        if total < fixed {
            return Err(());
        }
        std::ptr::write_bytes(base.add(4), 0, fixed - 4);
        Ok(VarWriter {
            base,
            total,
            fixed,
            dwords: Vec::new(),
            items: Vec::new(),
        })
    }

    /// Sets a DWORD of the fixed part (ignored past the fixed part of this API version).
    pub fn dword(&mut self, at: usize, value: u32) {
        if at + 4 <= self.fixed {
            self.dwords.push((at, value));
        }
    }

    /// Adds a NUL-terminated ASCII string; an empty string leaves the pair at 0.
    pub fn string(&mut self, size_at: usize, offset_at: usize, s: &str) -> Option<usize> {
        if s.is_empty() {
            return None;
        }
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        self.bytes_at(Loc::Fixed(size_at), Loc::Fixed(offset_at), data)
    }

    /// Adds raw bytes located by a Size/Offset pair; returns the item's index.
    pub fn bytes_at(&mut self, size_at: Loc, offset_at: Loc, data: Vec<u8>) -> Option<usize> {
        if !self.loc_ok(size_at) || !self.loc_ok(offset_at) {
            return None;
        }
        self.items.push(Item {
            data,
            size_at,
            offset_at,
        });
        Some(self.items.len() - 1)
    }

    fn loc_ok(&self, loc: Loc) -> bool {
        match loc {
            Loc::Fixed(at) => at + 4 <= self.fixed,
            Loc::InItem { item, at } => {
                self.items.get(item).is_some_and(|i| at + 4 <= i.data.len())
            }
        }
    }

    /// Writes everything (the variable part only if it all fits) and the three size fields.
    pub fn finish(mut self) {
        let (offsets, needed) = self.layout();
        let fits = needed <= self.total;
        if fits {
            self.place_items(&offsets);
        }
        let used = if fits { needed } else { self.fixed };
        let dwords = std::mem::take(&mut self.dwords);
        for (at, value) in dwords {
            self.put(at, value);
        }
        self.put(NEEDED_SIZE, to_u32(needed));
        self.put(USED_SIZE, to_u32(used));
    }

    /// Each item's offset and the total size needed.
    fn layout(&self) -> (Vec<usize>, usize) {
        let mut end = self.fixed;
        let mut offsets = Vec::with_capacity(self.items.len());
        for item in &self.items {
            let at = end.next_multiple_of(4);
            offsets.push(at);
            end = at + item.data.len();
        }
        (offsets, end)
    }

    fn place_items(&mut self, offsets: &[usize]) {
        for (item, at) in self.items.iter().zip(offsets) {
            // SAFETY: the whole layout fits in dwTotalSize (checked by the caller).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    item.data.as_ptr(),
                    self.base.add(*at),
                    item.data.len(),
                );
            }
        }
        let patches: Vec<(Loc, u32)> = self
            .items
            .iter()
            .zip(offsets)
            .flat_map(|(i, at)| {
                [
                    (i.size_at, to_u32(i.data.len())),
                    (i.offset_at, to_u32(*at)),
                ]
            })
            .collect();
        for (loc, value) in patches {
            let at = match loc {
                Loc::Fixed(at) => at,
                Loc::InItem { item, at } => offsets[item] + at,
            };
            self.put(at, value);
        }
    }

    fn put(&mut self, at: usize, value: u32) {
        // SAFETY: `at + 4` is within the fixed part or the placed variable part.
        unsafe { std::ptr::write_unaligned(self.base.add(at) as *mut u32, value) }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(buf: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
    }

    fn fill(buf: &mut [u8]) -> Result<(), ()> {
        let total = buf.len() as u32;
        buf[..4].copy_from_slice(&total.to_le_bytes());
        let mut w = unsafe { VarWriter::start(buf.as_mut_ptr(), 24)? };
        w.dword(12, 7);
        w.string(16, 20, "Line 1");
        w.dword(40, 9); // beyond the fixed part: ignored
        w.finish();
        Ok(())
    }

    #[test]
    fn two_pass_fill() {
        let mut small = vec![0xAAu8; 20];
        assert!(fill(&mut small).is_err(), "under the fixed part");
        let mut fixed_only = vec![0xAAu8; 26];
        fill(&mut fixed_only).unwrap();
        assert_eq!(read(&fixed_only, 4), 31, "dwNeededSize");
        assert_eq!(read(&fixed_only, 8), 24, "dwUsedSize");
        assert_eq!((read(&fixed_only, 12), read(&fixed_only, 16)), (7, 0));
        let mut big = vec![0xAAu8; read(&fixed_only, 4) as usize];
        fill(&mut big).unwrap();
        assert_eq!(read(&big, 8), 31);
        assert_eq!((read(&big, 16), read(&big, 20)), (7, 24));
        assert_eq!(&big[24..31], b"Line 1\0");
    }

    #[test]
    fn items_can_point_at_later_items() {
        let mut buf = vec![0u8; 64];
        buf[..4].copy_from_slice(&64u32.to_le_bytes());
        let mut w = unsafe { VarWriter::start(buf.as_mut_ptr(), 20).unwrap() };
        let e = w
            .bytes_at(Loc::Fixed(12), Loc::Fixed(16), vec![0; 8])
            .unwrap();
        let inner = (
            Loc::InItem { item: e, at: 0 },
            Loc::InItem { item: e, at: 4 },
        );
        assert!(w.bytes_at(inner.0, inner.1, b"ab\0".to_vec()).is_some());
        let (offsets, needed) = w.layout();
        assert_eq!((offsets, needed), (vec![20, 28], 31));
        w.finish();
        assert_eq!((read(&buf, 12), read(&buf, 16)), (8, 20));
        assert_eq!((read(&buf, 20), read(&buf, 24)), (3, 28));
        assert_eq!(&buf[28..31], b"ab\0");
        assert_eq!(read(&buf, 8), 31);
    }
}

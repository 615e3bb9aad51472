//! Removal on `heapless::Vec` by swapping neighbours.
//!
//! `Vec::retain` and `swap_remove` move elements with `ptr::copy`, which links the
//! general `memmove` (about 1.6 KB on Cortex-M). The vectors here hold a handful of entries, so
//! moving them one swap at a time costs nothing that matters and keeps `memmove` out of the
//! image. Same results as the `Vec` methods.

use heapless::Vec;

/// Swaps `s[i]` and `s[j]` for `i < j` (`slice::swap` allows `i == j` and so copies through
/// `memmove`); does nothing otherwise.
fn swap_distinct<T>(s: &mut [T], i: usize, j: usize) {
    if i < j {
        let (head, tail) = s.split_at_mut(j.min(s.len()));
        if let (Some(a), Some(b)) = (head.get_mut(i), tail.first_mut()) {
            core::mem::swap(a, b);
        }
    }
}

/// `v.swap_remove(i)` (without returning the element); does nothing when `i` is out of range.
pub(crate) fn swap_remove<T, const N: usize>(v: &mut Vec<T, N>, i: usize) {
    let s = v.as_mut_slice();
    let Some(last) = s.len().checked_sub(1) else { return };
    if i <= last {
        swap_distinct(s, i, last);
        v.pop();
    }
}

/// `v.retain(keep)`: keeps the elements `keep` accepts, in their order.
pub(crate) fn retain<T, const N: usize>(v: &mut Vec<T, N>, mut keep: impl FnMut(&T) -> bool) {
    let s = v.as_mut_slice();
    let mut kept = 0;
    for r in 0..s.len() {
        if s.get(r).is_some_and(&mut keep) {
            swap_distinct(s, kept, r);
            kept += 1;
        }
    }
    v.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_the_vec_methods() {
        let base: Vec<u8, 6> = Vec::from_slice(&[1, 2, 3, 4, 5]).unwrap();
        for i in 0..=6 {
            let (mut a, mut b) = (base.clone(), base.clone());
            swap_remove(&mut a, i);
            if i < b.len() {
                b.swap_remove(i);
            }
            assert_eq!(a, b, "swap_remove {i}");
        }
        for m in 0..4u8 {
            let (mut a, mut b) = (base.clone(), base.clone());
            retain(&mut a, |x| x % 4 != m);
            b.retain(|x| x % 4 != m);
            assert_eq!(a, b, "retain {m}");
        }
    }
}

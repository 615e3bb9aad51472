//! Removal and insertion on `heapless::Vec` by swapping neighbours, for this crate and the
//! engine.
//!
//! `Vec::remove`, `insert`, `retain` and `swap_remove` shift elements with `ptr::copy`, which links the
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

/// `v.remove(i)` (without returning the element); does nothing when `i` is out of range.
pub fn remove<T, const N: usize>(v: &mut Vec<T, N>, i: usize) {
    let s = v.as_mut_slice();
    let mut j = i;
    while j + 1 < s.len() {
        swap_distinct(s, j, j + 1);
        j += 1;
    }
    if i < v.len() {
        v.pop();
    }
}

/// `v.swap_remove(i)` (without returning the element); does nothing when `i` is out of range.
pub fn swap_remove<T, const N: usize>(v: &mut Vec<T, N>, i: usize) {
    let s = v.as_mut_slice();
    let Some(last) = s.len().checked_sub(1) else { return };
    if i <= last {
        swap_distinct(s, i, last);
        v.pop();
    }
}

/// `v.insert(i, item)`: `Err(item)` when full; `i` past the end appends.
pub fn insert<T, const N: usize>(v: &mut Vec<T, N>, i: usize, item: T) -> Result<(), T> {
    v.push(item)?;
    let s = v.as_mut_slice();
    let mut j = s.len() - 1;
    while j > i {
        swap_distinct(s, j - 1, j);
        j -= 1;
    }
    Ok(())
}

/// Removes and returns the first element: a `Vec` used as a small FIFO queue (less code than
/// a `Deque`, whose ring buffer every element type pays for).
pub fn pop_front<T: Copy, const N: usize>(v: &mut Vec<T, N>) -> Option<T> {
    let first = *v.first()?;
    remove(v, 0);
    Some(first)
}

/// Appends `item`, first dropping the oldest element when the queue is full.
pub fn push_evicting<T, const N: usize>(v: &mut Vec<T, N>, item: T) {
    if v.is_full() {
        remove(v, 0);
    }
    let _ = v.push(item); // room was made above (N > 0)
}

/// `v.retain(keep)`: keeps the elements `keep` accepts, in their order. Removes the first
/// rejected element until none is left: quadratic, but these vectors hold a handful of entries,
/// and each caller's closure then costs only a search (the shifting is shared per element type).
pub fn retain<T, const N: usize>(v: &mut Vec<T, N>, mut keep: impl FnMut(&T) -> bool) {
    while let Some(i) = v.iter().position(|x| !keep(x)) {
        remove(v, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_remove_matches_heapless() {
        for i in 0..6 {
            let mut a: Vec<u8, 8> = Vec::from_slice(&[1, 2, 3, 4, 5]).unwrap();
            let mut b = a.clone();
            swap_remove(&mut a, i);
            if i < b.len() {
                b.swap_remove(i);
            }
            assert_eq!(a, b, "swap_remove {i}");
        }
    }

    #[test]
    fn same_as_the_vec_methods() {
        let base: Vec<u8, 6> = Vec::from_slice(&[1, 2, 3, 4, 5]).unwrap();
        for i in 0..=6 {
            let (mut a, mut b) = (base.clone(), base.clone());
            remove(&mut a, i);
            if i < b.len() {
                b.remove(i);
            }
            assert_eq!(a, b, "remove {i}");
            let (mut a, mut b) = (base.clone(), base.clone());
            let at = i.min(b.len());
            assert_eq!(insert(&mut a, i, 9), Ok(()));
            b.insert(at, 9).unwrap();
            assert_eq!(a, b, "insert {i}");
            assert_eq!(insert(&mut a, i, 7), Err(7), "full");
        }
        for m in 0..4u8 {
            let (mut a, mut b) = (base.clone(), base.clone());
            retain(&mut a, |x| x % 4 != m);
            b.retain(|x| x % 4 != m);
            assert_eq!(a, b, "retain {m}");
        }
    }
}

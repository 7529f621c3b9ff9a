//! Inline storage for the common small race: a vector whose first `N` items live inside the
//! value and that moves to the heap only when it grows past them (issue 14: a two-address
//! race makes no allocation of the engine's own). Without `unsafe` and without a dependency,
//! the inline items are a full array of `Copy` values, the unused ones holding a filler
//! ([`Filler::FILLER`]), never read.

use alloc::vec::Vec;

/// A value to fill the unused inline slots of a [`SmallVec`] with.
pub(crate) trait Filler: Copy {
    /// Any value of the type: it is never read.
    const FILLER: Self;
}

/// A vector of `Copy` items, the first `N` of them inline.
#[derive(Clone, Debug)]
pub(crate) enum SmallVec<T: Filler, const N: usize> {
    /// At most `N` items: the first `len` of `items`.
    Inline { len: u8, items: [T; N] },
    /// More than ever fitted inline (it stays on the heap once there, emptied or not).
    Heap(Vec<T>),
}

impl<T: Filler, const N: usize> Default for SmallVec<T, N> {
    fn default() -> SmallVec<T, N> {
        SmallVec::new()
    }
}

impl<T: Filler, const N: usize> SmallVec<T, N> {
    /// Empty, inline.
    pub(crate) const fn new() -> SmallVec<T, N> {
        SmallVec::Inline {
            len: 0,
            items: [T::FILLER; N],
        }
    }

    /// Empty, with room for `n` items: inline if they fit, otherwise one allocation of
    /// exactly that room (no regrowing on the way).
    pub(crate) fn with_capacity(n: usize) -> SmallVec<T, N> {
        if n <= N {
            SmallVec::new()
        } else {
            SmallVec::Heap(Vec::with_capacity(n))
        }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            SmallVec::Inline { len, items } => items.get(..usize::from(*len)).unwrap_or(&[]),
            SmallVec::Heap(v) => v,
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            SmallVec::Inline { len, items } => {
                items.get_mut(..usize::from(*len)).unwrap_or(&mut [])
            }
            SmallVec::Heap(v) => v,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// How many items fit without (re)allocating.
    pub(crate) fn capacity(&self) -> usize {
        match self {
            SmallVec::Inline { .. } => N,
            SmallVec::Heap(v) => v.capacity(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.as_slice().get(index)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.as_mut_slice().get_mut(index)
    }

    pub(crate) fn last(&self) -> Option<&T> {
        self.as_slice().last()
    }

    pub(crate) fn iter(&self) -> core::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// Appends `item`; the items move to the heap when `N` no longer suffice.
    pub(crate) fn push(&mut self, item: T) {
        match self {
            SmallVec::Inline { len, items } => {
                if let Some(slot) = items.get_mut(usize::from(*len)) {
                    *slot = item;
                    *len += 1;
                } else {
                    let mut v = Vec::with_capacity(N.saturating_mul(2).max(4));
                    v.extend_from_slice(items);
                    v.push(item);
                    *self = SmallVec::Heap(v);
                }
            }
            SmallVec::Heap(v) => v.push(item),
        }
    }

    /// Removes the last item.
    #[cfg(test)]
    pub(crate) fn pop(&mut self) -> Option<T> {
        match self {
            SmallVec::Inline { len, items } => {
                let last = usize::from(*len).checked_sub(1)?;
                *len -= 1;
                items.get(last).copied()
            }
            SmallVec::Heap(v) => v.pop(),
        }
    }

    /// Keeps the first `n` items.
    pub(crate) fn truncate(&mut self, n: usize) {
        match self {
            SmallVec::Inline { len, .. } => {
                if n < usize::from(*len) {
                    // `n` is below `len`, itself a `u8`.
                    *len = u8::try_from(n).unwrap_or(*len);
                }
            }
            SmallVec::Heap(v) => v.truncate(n),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.truncate(0);
    }

    /// Removes the first `n` items (all of them if there are fewer), keeping the order of the
    /// rest.
    pub(crate) fn remove_front(&mut self, n: usize) {
        match self {
            SmallVec::Inline { len, items } => {
                let l = usize::from(*len);
                let n = n.min(l);
                items.copy_within(n..l, 0);
                *len = u8::try_from(l - n).unwrap_or(0);
            }
            SmallVec::Heap(v) => {
                let n = n.min(v.len());
                v.drain(..n);
            }
        }
    }

    /// Whether the items have moved to the heap.
    #[cfg(test)]
    pub(crate) fn spilled(&self) -> bool {
        matches!(self, SmallVec::Heap(_))
    }
}

impl<T: Filler + PartialEq, const N: usize> PartialEq for SmallVec<T, N> {
    fn eq(&self, other: &SmallVec<T, N>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Filler + Eq, const N: usize> Eq for SmallVec<T, N> {}

/// A first-in first-out queue of `Copy` items, the first `N` inline: the engine's queue of
/// actions not yet polled.
#[derive(Clone, Debug)]
pub(crate) struct SmallQueue<T: Filler, const N: usize> {
    items: SmallVec<T, N>,
    /// The items before this position have been taken.
    head: usize,
}

impl<T: Filler, const N: usize> Default for SmallQueue<T, N> {
    fn default() -> SmallQueue<T, N> {
        SmallQueue {
            items: SmallVec::new(),
            head: 0,
        }
    }
}

impl<T: Filler, const N: usize> SmallQueue<T, N> {
    pub(crate) fn push_back(&mut self, item: T) {
        // Reuse the room the taken items leave: inline before spilling, and on the heap once
        // they are at least half (amortised O(1) per item).
        let full = match &self.items {
            SmallVec::Inline { len, .. } => usize::from(*len) == N,
            SmallVec::Heap(v) => self.head > v.len() / 2,
        };
        if full && self.head > 0 {
            self.items.remove_front(self.head);
            self.head = 0;
        }
        self.items.push(item);
    }

    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let item = self.items.get(self.head).copied()?;
        self.head += 1;
        if self.head == self.items.len() {
            self.items.clear();
            self.head = 0;
        }
        Some(item)
    }

    /// The items not yet taken, in order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.as_slice().iter().skip(self.head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_vec_spills_past_its_inline_items() {
        let mut v: SmallVec<u32, 2> = SmallVec::new();
        v.push(1);
        v.push(2);
        assert!(!v.spilled());
        v.push(3);
        assert!(v.spilled());
        assert_eq!(v.as_slice(), [1, 2, 3]);
        assert_eq!(v.pop(), Some(3));
        v.remove_front(1);
        assert_eq!(v.as_slice(), [2]);
        let mut w: SmallVec<u32, 2> = SmallVec::new();
        w.push(2);
        assert_eq!(v, w);
        w.remove_front(5);
        assert!(w.is_empty());
        assert_eq!(w.pop(), None);
    }

    #[test]
    fn queue_keeps_order_and_reuses_room() {
        let mut q: SmallQueue<u32, 2> = SmallQueue::default();
        // Interleaved pushes and pops never spill while at most two items wait.
        for i in 0..100 {
            q.push_back(i);
            q.push_back(i + 1000);
            assert_eq!(q.pop_front(), Some(i));
            assert_eq!(q.iter().copied().collect::<Vec<_>>(), [i + 1000]);
            assert_eq!(q.pop_front(), Some(i + 1000));
        }
        assert!(!q.items.spilled());
        q.push_back(1);
        assert_eq!(q.pop_front(), Some(1));
        assert_eq!(q.pop_front(), None);
        // Many waiting: on the heap, in order, and the taken ones do not pile up.
        for i in 0..1000 {
            q.push_back(i);
            if i % 2 == 0 {
                assert_eq!(q.pop_front(), Some(i / 2));
            }
        }
        assert!(q.items.len() <= 1000);
        let rest: Vec<u32> = core::iter::from_fn(|| q.pop_front()).collect();
        assert_eq!(rest, (500..1000).collect::<Vec<_>>());
    }
}

//! Typed indices. The engine keeps rules, tree nodes, decoders and lists in
//! vectors and refers to them by position; four index spaces of raw `usize`
//! are easy to mix up (a node where a rule was meant compiles and is wrong),
//! so each gets its own type, and [`IdxVec`] is indexed only by its own.

use std::marker::PhantomData;

/// A position in an [`IdxVec`].
pub trait Idx: Copy + Eq + std::fmt::Debug {
    /// The index of position `i` (panics past `u32::MAX` elements).
    fn new(i: usize) -> Self;
    /// The position.
    fn index(self) -> usize;
}

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(u32);

        impl Idx for $name {
            #[inline]
            fn new(i: usize) -> Self {
                $name(u32::try_from(i).expect("fewer than 2^32 elements"))
            }
            #[inline]
            fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index_type!(
    /// A rule (its definition; a rule may sit at several tree positions).
    RuleIdx
);
index_type!(
    /// A position in the rule tree.
    NodeIdx
);
index_type!(
    /// A decoder.
    DecoderIdx
);
index_type!(
    /// A CDB list.
    ListIdx
);

/// A vector indexed by one index type.
#[derive(Debug, Clone)]
pub struct IdxVec<I: Idx, T> {
    items: Vec<T>,
    _index: PhantomData<I>,
}

impl<I: Idx, T> Default for IdxVec<I, T> {
    fn default() -> Self {
        IdxVec { items: Vec::new(), _index: PhantomData }
    }
}

impl<I: Idx, T> IdxVec<I, T> {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends and returns the new element's index.
    pub(crate) fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::new(self.items.len() - 1)
    }

    /// Removes the last element.
    pub(crate) fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }

    /// Keeps the first `len` elements.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.items.truncate(len);
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The index the next pushed element gets.
    pub(crate) fn next_index(&self) -> I {
        I::new(self.items.len())
    }

    /// The element at `i`, if any.
    pub(crate) fn get(&self, i: I) -> Option<&T> {
        self.items.get(i.index())
    }

    /// The elements, in order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// The elements, mutably, in order.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    /// Elements with their indices.
    pub(crate) fn iter_enumerated(&self) -> impl Iterator<Item = (I, &T)> {
        self.items.iter().enumerate().map(|(i, t)| (I::new(i), t))
    }

    /// Every index, in order.
    pub(crate) fn indices(&self) -> impl Iterator<Item = I> {
        (0..self.items.len()).map(I::new)
    }
}

impl<I: Idx, T> std::ops::Index<I> for IdxVec<I, T> {
    type Output = T;
    #[inline]
    fn index(&self, i: I) -> &T {
        &self.items[i.index()]
    }
}

impl<I: Idx, T> std::ops::IndexMut<I> for IdxVec<I, T> {
    #[inline]
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.items[i.index()]
    }
}

impl<I: Idx, T> FromIterator<T> for IdxVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        IdxVec { items: iter.into_iter().collect(), _index: PhantomData }
    }
}

impl<'a, I: Idx, T> IntoIterator for &'a IdxVec<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<'a, I: Idx, T> IntoIterator for &'a mut IdxVec<I, T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter_mut()
    }
}

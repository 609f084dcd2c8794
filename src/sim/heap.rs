//! The pending queue kept as ComfyUI keeps it: a binary min-heap in an array, moved by
//! the same steps as Python's `heapq`, so `/queue` lists pending prompts in the real
//! server's heap-array order (the next to run first, the rest not in run order).

use std::cmp::Ordering;

/// `heapq.heappush`: append, then move the item up past every larger parent.
pub fn push<T>(heap: &mut Vec<T>, item: T, cmp: impl Fn(&T, &T) -> Ordering) {
    heap.push(item);
    let last = heap.len() - 1;
    sift_down(heap, 0, last, &cmp);
}

/// `heapq.heappop`: the smallest item; the last one takes its place and sinks.
pub fn pop<T>(heap: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) -> Option<T> {
    let last = heap.pop()?;
    if heap.is_empty() {
        return Some(last);
    }
    let top = std::mem::replace(&mut heap[0], last);
    sift_up(heap, 0, &cmp);
    Some(top)
}

/// `heapq.heapify`, which ComfyUI runs after removing an item from the middle.
pub fn heapify<T>(heap: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    for pos in (0..heap.len() / 2).rev() {
        sift_up(heap, pos, &cmp);
    }
}

/// Python's `_siftdown`: the item at `pos` rises while it is smaller than its parent,
/// never above `start`.
fn sift_down<T>(heap: &mut [T], start: usize, mut pos: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    while pos > start {
        let parent = (pos - 1) / 2;
        if cmp(&heap[pos], &heap[parent]) == Ordering::Less {
            heap.swap(pos, parent);
            pos = parent;
        } else {
            break;
        }
    }
}

/// Python's `_siftup`: the item at `pos` goes down to a leaf along the smaller children
/// (the right one unless the left is strictly smaller), then rises back to its place.
/// This is not the textbook sift, and the resulting array differs from it: it is kept
/// because the array is what `/queue` shows.
fn sift_up<T>(heap: &mut [T], mut pos: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    let start = pos;
    let end = heap.len();
    let mut child = 2 * pos + 1;
    while child < end {
        let right = child + 1;
        if right < end && cmp(&heap[child], &heap[right]) != Ordering::Less {
            child = right;
        }
        heap.swap(pos, child);
        pos = child;
        child = 2 * pos + 1;
    }
    sift_down(heap, start, pos, cmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_value(a: &i64, b: &i64) -> Ordering {
        a.cmp(b)
    }

    #[test]
    fn arrays_match_python_heapq() {
        // Each expected array is what CPython's heapq makes from the same operations.
        let mut heap = Vec::new();
        for n in [5, 3, 8, -1, 9, 2, -7, 4, 6, 0] {
            push(&mut heap, n, by_value);
        }
        assert_eq!(heap, [-7, 0, -1, 4, 3, 8, 2, 5, 6, 9]);
        assert_eq!(pop(&mut heap, by_value), Some(-7));
        assert_eq!(heap, [-1, 0, 2, 4, 3, 8, 9, 5, 6]);
        assert_eq!(pop(&mut heap, by_value), Some(-1));
        assert_eq!(heap, [0, 3, 2, 4, 6, 8, 9, 5]);
        heap.remove(2);
        heapify(&mut heap, by_value);
        assert_eq!(heap, [0, 3, 4, 6, 8, 9, 5]);
        heap.remove(0);
        heapify(&mut heap, by_value);
        assert_eq!(heap, [3, 4, 5, 8, 9, 6]);
        let mut order = Vec::new();
        while let Some(n) = pop(&mut heap, by_value) {
            order.push(n);
        }
        assert_eq!(order, [3, 4, 5, 6, 8, 9]);
    }

    #[test]
    fn increasing_numbers_stay_in_arrival_order() {
        let mut heap = Vec::new();
        for n in 0..50 {
            push(&mut heap, n, by_value);
        }
        assert_eq!(heap, (0..50).collect::<Vec<_>>());
    }
}

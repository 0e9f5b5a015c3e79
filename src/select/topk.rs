//! Ranking the way upstream ranks: `torch.topk(x, k, largest=True, sorted=True)` on CPU.
//!
//! Torch's CPU kernel (`topk_impl_loop` in `aten/src/ATen/native/cpu/SortingKernel.cpp`)
//! fills a vector of `(value, index)` pairs in index order and, comparing values only
//! (`a > b`, NaN first), runs either `std::partial_sort` (when `k * 64 <= n`) or
//! `std::nth_element` at `k - 1` followed by `std::sort` of the first `k - 1` pairs. Among
//! equal values the outcome is therefore decided by libstdc++'s algorithms, which are
//! deterministic: this module ports them (introselect with median-of-three pivots,
//! introsort with a final insertion sort, heap select and heap sort, exactly as in
//! `bits/stl_algo.h` and `bits/stl_heap.h`), so ties come out as upstream's do.
//!
//! [`topk_index_order`] is the simple alternative: descending value, then ascending index.

/// `(value, index)` as torch stores them (values widened to f64, as its accumulate type).
type Elem = (f64, usize);

#[inline(always)]
fn gt(x: &Elem, y: &Elem) -> bool {
    (x.0.is_nan() && !y.0.is_nan()) || x.0 > y.0
}

fn lg(n: usize) -> usize {
    (usize::BITS - 1 - n.leading_zeros()) as usize
}

fn move_median_to_first(v: &mut [Elem], result: usize, a: usize, b: usize, c: usize) {
    if gt(&v[a], &v[b]) {
        if gt(&v[b], &v[c]) {
            v.swap(result, b);
        } else if gt(&v[a], &v[c]) {
            v.swap(result, c);
        } else {
            v.swap(result, a);
        }
    } else if gt(&v[a], &v[c]) {
        v.swap(result, a);
    } else if gt(&v[b], &v[c]) {
        v.swap(result, c);
    } else {
        v.swap(result, b);
    }
}

/// `__unguarded_partition(first, last, pivot)`; returns the cut.
fn unguarded_partition(v: &mut [Elem], mut first: usize, mut last: usize, pivot: usize) -> usize {
    loop {
        while gt(&v[first], &v[pivot]) {
            first += 1;
        }
        last -= 1;
        while gt(&v[pivot], &v[last]) {
            last -= 1;
        }
        if first >= last {
            return first;
        }
        v.swap(first, last);
        first += 1;
    }
}

fn unguarded_partition_pivot(v: &mut [Elem], first: usize, last: usize) -> usize {
    let mid = first + (last - first) / 2;
    move_median_to_first(v, first, first + 1, mid, last - 1);
    unguarded_partition(v, first + 1, last, first)
}

fn unguarded_linear_insert(v: &mut [Elem], mut last: usize) {
    let val = v[last];
    let mut next = last - 1;
    while gt(&val, &v[next]) {
        v[last] = v[next];
        last = next;
        next -= 1;
    }
    v[last] = val;
}

fn insertion_sort(v: &mut [Elem], first: usize, last: usize) {
    if first == last {
        return;
    }
    for i in first + 1..last {
        if gt(&v[i], &v[first]) {
            let val = v[i];
            v.copy_within(first..i, first + 1);
            v[first] = val;
        } else {
            unguarded_linear_insert(v, i);
        }
    }
}

// ---- heap (bits/stl_heap.h), on the sub-slice [first, first + len) ----

fn push_heap(v: &mut [Elem], first: usize, mut hole: usize, top: usize, val: Elem) {
    let mut parent = hole.wrapping_sub(1) / 2;
    while hole > top && gt(&v[first + parent], &val) {
        v[first + hole] = v[first + parent];
        hole = parent;
        parent = hole.wrapping_sub(1) / 2;
    }
    v[first + hole] = val;
}

fn adjust_heap(v: &mut [Elem], first: usize, mut hole: usize, len: usize, val: Elem) {
    let top = hole;
    let mut second = hole;
    while len >= 1 && second < (len - 1) / 2 {
        second = 2 * (second + 1);
        if gt(&v[first + second], &v[first + second - 1]) {
            second -= 1;
        }
        v[first + hole] = v[first + second];
        hole = second;
    }
    if len & 1 == 0 && len >= 2 && second == (len - 2) / 2 {
        second = 2 * (second + 1);
        v[first + hole] = v[first + second - 1];
        hole = second - 1;
    }
    push_heap(v, first, hole, top, val);
}

fn make_heap(v: &mut [Elem], first: usize, last: usize) {
    let len = last - first;
    if len < 2 {
        return;
    }
    let mut parent = (len - 2) / 2;
    loop {
        let val = v[first + parent];
        adjust_heap(v, first, parent, len, val);
        if parent == 0 {
            return;
        }
        parent -= 1;
    }
}

fn pop_heap(v: &mut [Elem], first: usize, last: usize, result: usize) {
    let val = v[result];
    v[result] = v[first];
    adjust_heap(v, first, 0, last - first, val);
}

fn heap_select(v: &mut [Elem], first: usize, middle: usize, last: usize) {
    make_heap(v, first, middle);
    for i in middle..last {
        if gt(&v[i], &v[first]) {
            pop_heap(v, first, middle, i);
        }
    }
}

fn sort_heap(v: &mut [Elem], first: usize, mut last: usize) {
    while last - first > 1 {
        last -= 1;
        pop_heap(v, first, last, last);
    }
}

fn partial_sort(v: &mut [Elem], first: usize, middle: usize, last: usize) {
    heap_select(v, first, middle, last);
    sort_heap(v, first, middle);
}

// ---- sort / nth_element (bits/stl_algo.h) ----

const S_THRESHOLD: usize = 16;

fn introsort_loop(v: &mut [Elem], first: usize, mut last: usize, mut depth: usize) {
    while last - first > S_THRESHOLD {
        if depth == 0 {
            partial_sort(v, first, last, last);
            return;
        }
        depth -= 1;
        let cut = unguarded_partition_pivot(v, first, last);
        introsort_loop(v, cut, last, depth);
        last = cut;
    }
}

fn final_insertion_sort(v: &mut [Elem], first: usize, last: usize) {
    if last - first > S_THRESHOLD {
        insertion_sort(v, first, first + S_THRESHOLD);
        for i in first + S_THRESHOLD..last {
            unguarded_linear_insert(v, i);
        }
    } else {
        insertion_sort(v, first, last);
    }
}

/// `std::sort(first, last, comp)`.
fn std_sort(v: &mut [Elem], first: usize, last: usize) {
    if first != last {
        introsort_loop(v, first, last, lg(last - first) * 2);
        final_insertion_sort(v, first, last);
    }
}

/// `std::nth_element(first, nth, last, comp)`.
fn nth_element(v: &mut [Elem], mut first: usize, nth: usize, mut last: usize) {
    if first == last || nth == last {
        return;
    }
    let mut depth = lg(last - first) * 2;
    while last - first > 3 {
        if depth == 0 {
            heap_select(v, first, nth + 1, last);
            v.swap(first, nth);
            return;
        }
        depth -= 1;
        let cut = unguarded_partition_pivot(v, first, last);
        if cut <= nth {
            first = cut;
        } else {
            last = cut;
        }
    }
    insertion_sort(v, first, last);
}

/// Indices of `torch.topk(values, k, largest=True, sorted=True)` on CPU, in rank order,
/// ties resolved as torch resolves them. `k` is capped at the length.
pub fn topk_torch(values: &[f32], k: usize) -> Vec<usize> {
    let n = values.len();
    let k = k.min(n);
    if k == 0 {
        return Vec::new();
    }
    let mut q: Vec<Elem> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (v as f64, i))
        .collect();
    if k * 64 <= n {
        partial_sort(&mut q, 0, k, n);
    } else {
        nth_element(&mut q, 0, k - 1, n);
        std_sort(&mut q, 0, k - 1);
    }
    q.truncate(k);
    q.into_iter().map(|e| e.1).collect()
}

/// The `k` largest values' indices: descending value, then ascending index (`-0.0` equals
/// `0.0`; NaN ranks first). Partial selection; equal to a full sort by that order.
pub fn topk_index_order(values: &[f32], k: usize) -> Vec<usize> {
    let k = k.min(values.len());
    if k == 0 {
        return Vec::new();
    }
    let key: Vec<f32> = values
        .iter()
        .map(|&s| if s.is_nan() { f32::INFINITY } else { s + 0.0 })
        .collect();
    let nan: Vec<bool> = values.iter().map(|s| s.is_nan()).collect();
    let cmp = |a: &u32, b: &u32| {
        let (a_, b_) = (*a as usize, *b as usize);
        nan[b_]
            .cmp(&nan[a_])
            .then_with(|| key[b_].total_cmp(&key[a_]))
            .then_with(|| a.cmp(b))
    };
    let mut idx: Vec<u32> = (0..values.len() as u32).collect();
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, cmp);
        idx.truncate(k);
    }
    idx.sort_unstable_by(cmp);
    idx.into_iter().map(|i| i as usize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_sorted_desc(values: &[f32], idx: &[usize]) {
        for w in idx.windows(2) {
            assert!(values[w[0]] >= values[w[1]], "{:?}", w);
        }
    }

    #[test]
    fn torch_topk_is_a_valid_topk() {
        let mut state = 42u64;
        for n in [1usize, 2, 3, 5, 17, 100, 1000, 20000] {
            let vals: Vec<f32> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 40) % 50) as f32
                })
                .collect();
            for k in [1usize, 2, n / 3 + 1, n / 64, n] {
                if k == 0 || k > n {
                    continue;
                }
                let got = topk_torch(&vals, k);
                assert_eq!(got.len(), k);
                check_sorted_desc(&vals, &got);
                let mut sorted = vals.clone();
                sorted.sort_by(|a, b| b.total_cmp(a));
                let mut mine: Vec<f32> = got.iter().map(|&i| vals[i]).collect();
                mine.sort_by(|a, b| b.total_cmp(a));
                assert_eq!(mine, sorted[..k].to_vec(), "n {n} k {k}");
                let mut uniq = got.clone();
                uniq.sort_unstable();
                uniq.dedup();
                assert_eq!(uniq.len(), k);
            }
        }
    }

    #[test]
    fn index_order_ties() {
        let s = [0.5, 1.0, 0.5, -0.0, 0.0, 2.0, 0.5, f32::NAN];
        assert_eq!(topk_index_order(&s, 5), vec![7, 5, 1, 0, 2]);
        assert_eq!(topk_index_order(&s, 8)[5..], [6, 3, 4]);
        let big: Vec<f32> = (0..5000).map(|i| ((i * 37) % 101) as f32).collect();
        let mut full: Vec<usize> = (0..big.len()).collect();
        full.sort_by(|&a, &b| big[b].total_cmp(&big[a]).then(a.cmp(&b)));
        assert_eq!(topk_index_order(&big, 1234), full[..1234].to_vec());
    }
}

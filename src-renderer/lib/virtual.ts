// The arithmetic of a virtualized list: prefix sums of row heights (measured where known,
// estimated elsewhere) and a binary search for the rows that meet the viewport.

/** offsets[i] is the top of row i; offsets[n] is the total height. */
export function computeOffsets(heights: ArrayLike<number>): Float64Array {
  const offsets = new Float64Array(heights.length + 1);
  for (let i = 0; i < heights.length; i++) offsets[i + 1] = (offsets[i] ?? 0) + (heights[i] ?? 0);
  return offsets;
}

/** The index of the row containing `y` (the last row if `y` is past the end). */
export function rowAt(offsets: Float64Array, y: number): number {
  const count = offsets.length - 1;
  if (count <= 0) return 0;
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((offsets[mid] ?? 0) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rows [start, end) that intersect [top, bottom], plus `overscan` pixels either side. */
export function visibleRange(
  offsets: Float64Array,
  top: number,
  bottom: number,
  overscan: number,
): { start: number; end: number } {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const start = rowAt(offsets, Math.max(0, top - overscan));
  const end = Math.min(count, rowAt(offsets, bottom + overscan) + 1);
  return { start, end };
}

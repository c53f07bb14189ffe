/** Typed arrays over the binary buffers of a `meshes` message (zero-copy when aligned). */

export function float32(view: DataView | undefined): Float32Array {
  if (!view) {
    return new Float32Array(0);
  }
  if (view.byteOffset % 4 === 0) {
    return new Float32Array(view.buffer, view.byteOffset, Math.floor(view.byteLength / 4));
  }
  return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

export function uint32(view: DataView | undefined): Uint32Array {
  if (!view) {
    return new Uint32Array(0);
  }
  if (view.byteOffset % 4 === 0) {
    return new Uint32Array(view.buffer, view.byteOffset, Math.floor(view.byteLength / 4));
  }
  return new Uint32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

/**
 * Which range holds `item`: `ranges` holds (first, count) pairs, sorted by `first`
 * (B-Rep face → its triangles, B-Rep edge → its segments). Returns -1 when none does.
 */
export function rangeIndexOf(ranges: Uint32Array, item: number): number {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const first = ranges[2 * mid];
    const count = ranges[2 * mid + 1];
    if (item < first) {
      hi = mid - 1;
    } else if (item >= first + count) {
      lo = mid + 1;
    } else {
      return mid;
    }
  }
  // ranges might not be sorted (unusual): fall back to a scan
  for (let i = 0; i < ranges.length / 2; i++) {
    if (item >= ranges[2 * i] && item < ranges[2 * i] + ranges[2 * i + 1]) {
      return i;
    }
  }
  return -1;
}

/**
 * Stage 1: exact cosine top-k. The gallery's unit embeddings live in a
 * SIMD workspace, so scoring 100k x 512 is one streaming pass (~18 ms here);
 * selection keeps a k-heap, ties going to the lower index.
 */
import { AppError } from '../core/errors.ts';
import { DotWorkspace } from './simd/dotWorkspace.ts';
import { requireFinite, unitEmbedding } from './vectors.ts';

export interface RankedIndex {
  /** Row of the gallery matrix. */
  readonly index: number;
  readonly score: number;
}

/** Unit-normalised gallery embeddings, in insertion order, with top-k search. */
export class CosineIndex {
  readonly dim: number;
  private readonly ws: DotWorkspace;
  private rows = 0;
  private capacityRows = 0;

  constructor(dim: number, options: { forceJs?: boolean } = {}) {
    if (!Number.isInteger(dim) || dim <= 0) throw new AppError('invalid-argument', `embedding size must be a positive integer, got ${dim}`, 'Check the recognizer output.');
    this.dim = dim;
    this.ws = new DotWorkspace(options);
  }

  get encodedRowBytes(): number {
    return this.dim * 4;
  }

  get size(): number {
    return this.rows;
  }

  /** Bytes the gallery's rows take (float32), to compare with Int8CosineIndex. */
  get byteLength(): number {
    return this.rows * this.dim * 4;
  }

  /** Appends embeddings (raw; normalised here). Validates all before adding any. */
  add(embeddings: readonly Float32Array[]): void {
    const units = embeddings.map((e, i) => {
      this.requireDim(e, `embedding ${i}`);
      return unitEmbedding(e, `embedding ${i}`);
    });
    this.reserve(this.rows + units.length);
    const data = this.ws.data;
    for (const u of units) {
      data.set(u, this.rows * this.dim);
      this.rows++;
    }
  }

  /**
   * Appends `count` stored unit rows: float32 little-endian, dim values each
   * (as the raw storage format writes them). Validates the length and that
   * every value is finite before adding any.
   */
  addEncodedRows(bytes: Uint8Array, count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new AppError('invalid-argument', `row count must be a non-negative integer, got ${count}`, 'Pass the number of rows in the bytes.');
    const floats = count * this.dim;
    if (bytes.length !== floats * 4) {
      throw new AppError(
        'invalid-argument',
        `${count} stage-1 rows of ${this.dim} floats take ${floats * 4} bytes, got ${bytes.length}`,
        'The stored gallery embeddings are damaged; re-index the photos or import the gallery again.',
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const rows = new Float32Array(floats);
    for (let i = 0; i < floats; i++) rows[i] = view.getFloat32(i * 4, true);
    requireFinite(rows, 'a stored stage-1 row');
    this.reserve(this.rows + count);
    this.ws.data.set(rows, this.rows * this.dim);
    this.rows += count;
  }

  /** Removes rows (any order), keeping the order of the rest so tie-breaking by index stays stable. */
  removeRows(indices: readonly number[]): void {
    const drop = new Set(indices);
    const data = this.ws.data;
    let write = 0;
    for (let read = 0; read < this.rows; read++) {
      if (drop.has(read)) continue;
      if (write !== read) data.copyWithin(write * this.dim, read * this.dim, (read + 1) * this.dim);
      write++;
    }
    this.rows = write;
  }

  clear(): void {
    this.rows = 0;
  }

  /** A copy of row `index` (unit length). */
  row(index: number): Float32Array {
    return this.ws.data.slice(index * this.dim, (index + 1) * this.dim);
  }

  topK(query: Float32Array, k: number): RankedIndex[] {
    requireK(k);
    this.requireDim(query, 'query');
    const unit = unitEmbedding(query, 'query');
    const heap = new TopKHeap(Math.min(k, this.rows));
    if (this.rows === 0) return heap.sorted();
    // The query and its scores go after the gallery's reserved rows, so one kernel call reads and writes one memory.
    const queryAt = this.capacityRows * this.dim;
    const scoresAt = queryAt + this.dim;
    this.ws.reserve(scoresAt + this.rows);
    this.ws.data.set(unit, queryAt);
    this.ws.dots(queryAt, 1, 0, this.rows, this.dim, scoresAt, this.rows);
    heap.pushRange(this.ws.data, scoresAt, this.rows, 0);
    return heap.sorted();
  }

  /** Makes room for `rows` rows in all (growing by at least half, so appends one at a time stay amortised). */
  reserve(rows: number): void {
    if (rows <= this.capacityRows) return;
    const capacity = Math.max(rows, Math.ceil(this.capacityRows * 1.5), 64);
    this.ws.reserve(capacity * this.dim);
    this.capacityRows = capacity;
  }

  private requireDim(v: Float32Array, what: string): void {
    if (v.length !== this.dim) throw new AppError('invalid-argument', `${what} has ${v.length} values, the gallery ${this.dim}`, 'Use features from the same recognizer as the gallery.');
  }
}

export function requireK(k: number): void {
  if (!Number.isInteger(k) || k <= 0) throw new AppError('invalid-argument', `k must be a positive integer, got ${k}`, 'Ask for at least one result.');
}

/**
 * Keeps the best `capacity` (score, index) pairs: higher score first, then
 * lower index. Rows arrive in increasing index, so an equal score never
 * displaces an earlier row.
 */
export class TopKHeap {
  private readonly scores: Float64Array;
  private readonly indices: Int32Array;
  private count = 0;

  constructor(private readonly capacity: number) {
    this.scores = new Float64Array(capacity);
    this.indices = new Int32Array(capacity);
  }

  pushRange(data: Float32Array, offset: number, n: number, firstIndex: number): void {
    const cap = this.capacity;
    if (cap === 0) return;
    for (let t = 0; t < n; t++) {
      const s = data[offset + t];
      if (this.count < cap) {
        this.insert(s, firstIndex + t);
      } else if (s > this.scores[0]) {
        this.replaceWorst(s, firstIndex + t);
      }
    }
  }

  sorted(): RankedIndex[] {
    const out: RankedIndex[] = [];
    for (let i = 0; i < this.count; i++) out.push({ index: this.indices[i], score: this.scores[i] });
    return out.sort((a, b) => b.score - a.score || a.index - b.index);
  }

  /** True when (sa, ia) ranks below (sb, ib). */
  private static worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  private insert(s: number, idx: number): void {
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!TopKHeap.worse(s, idx, this.scores[parent], this.indices[parent])) break;
      this.scores[i] = this.scores[parent];
      this.indices[i] = this.indices[parent];
      i = parent;
    }
    this.scores[i] = s;
    this.indices[i] = idx;
  }

  private replaceWorst(s: number, idx: number): void {
    const n = this.count;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let w = l;
      if (r < n && TopKHeap.worse(this.scores[r], this.indices[r], this.scores[l], this.indices[l])) w = r;
      if (!TopKHeap.worse(this.scores[w], this.indices[w], s, idx)) break;
      this.scores[i] = this.scores[w];
      this.indices[i] = this.indices[w];
      i = w;
    }
    this.scores[i] = s;
    this.indices[i] = idx;
  }
}

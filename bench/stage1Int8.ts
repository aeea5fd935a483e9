/**
 * Int8CosineIndex.topK speed at gallery sizes the app's int8 stage 1 is for:
 *
 *   npx tsx bench/stage1Int8.ts [--sizes 100000,1000000] [--dim 1536] [--k 100] [--queries 20] [--js] [--int4]
 *
 * Prints the median (and min / max) of `queries` timed topK calls per size,
 * after 3 untimed warm-up queries. Numbers, not pass/fail: the targets
 * (100,000 x 1536 <= 15 ms, 1,000,000 x 1536 <= 120 ms, k = 100) are printed
 * beside them. --js also times the JS fallback (forceJs) at each size.
 *
 * The data is clustered like a face gallery, so that the k-th best score sits
 * in a dense band (which is what decides how many rows topK's exact second
 * pass rescores): identities in groups of 100 share a group direction
 * (cosine between identities of a group ~0.25, of two groups ~0), each
 * identity has 10 shots (cosine ~0.7 between shots), and a query is a fresh
 * shot of a random identity. Its 10 shots lead; the k-th best (k = 100) is
 * among the other identities of its group. 1,000,000 x 1536 holds 1.5 GB of
 * codes; rows are generated and added in batches so nothing else that size
 * is alive. Noise comes from slices of one seeded pool of normals at random
 * offsets: drawing 1.5e9 fresh normals would take minutes.
 *
 * --int4 also times Int4ShortlistIndex (4-bit rows in memory, the short
 * list rescored from int8 rows) on the same rows, whose reader here copies
 * from memory (the app reads from disk, ~5 us a row more): how long, how
 * many rows the short list holds, and whether its top k (rows and scores)
 * equals the int8 index's.
 */
import { seededRandom } from '../src/core/random.ts';
import { encodeStage1Row, stage1RowBytes } from '../src/engine/quant/int8Rows.ts';
import { Int4ShortlistIndex } from '../src/engine/stage1Int4.ts';
import { Int8CosineIndex } from '../src/engine/stage1Int8.ts';

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const sizes = (argValue('--sizes') ?? '100000,1000000').split(',').map(Number);
const dim = Number(argValue('--dim') ?? 1536);
const k = Number(argValue('--k') ?? 100);
const queries = Number(argValue('--queries') ?? 20);
const withJs = process.argv.includes('--js');
const withInt4 = process.argv.includes('--int4');
const SHOTS = 10;
const GROUP = 100;
const TARGET_MS: Record<number, number> = { 100000: 15, 1000000: 120 };

const rand = seededRandom(1536);
function gaussian(): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
}
const POOL = 1 << 22;
const pool = Float32Array.from({ length: POOL + dim }, gaussian);
const slice = (seed: number) => {
  const at = Math.floor(seededRandom(seed)() * POOL);
  return pool.subarray(at, at + dim);
};

/** A shot of identity `id`: 0.6 * group + 0.8 * identity + 0.65 * noise (group and identity directions are fixed pool slices). */
function shot(id: number, noise: Float32Array, out: Float32Array): void {
  const group = slice(1_000_003 + Math.floor(id / GROUP));
  const own = slice(7 + id);
  for (let j = 0; j < dim; j++) out[j] = 0.6 * group[j] + 0.8 * own[j] + 0.65 * noise[j];
}

function build(n: number, forceJs: boolean, stored?: Uint8Array): Int8CosineIndex {
  const index = new Int8CosineIndex(dim, { forceJs });
  const batch = 10_000;
  for (let first = 0; first < n; first += batch) {
    const rows = Array.from({ length: Math.min(batch, n - first) }, (_, r) => {
      const out = new Float32Array(dim);
      shot(Math.floor((first + r) / SHOTS), pool.subarray(Math.floor(rand() * POOL)).subarray(0, dim), out);
      return out;
    });
    index.add(rows);
    if (stored) rows.forEach((row, r) => stored.set(encodeStage1Row(row), (first + r) * stage1RowBytes(dim)));
  }
  return index;
}

/** Int4ShortlistIndex over the stored rows, its reader counting rows read. */
function buildInt4(stored: Uint8Array, n: number): { index: Int4ShortlistIndex; reads: { count: number } } {
  const rowBytes = stage1RowBytes(dim);
  const reads = { count: 0 };
  const index = new Int4ShortlistIndex(dim, (i) => {
    reads.count++;
    return stored.subarray(i * rowBytes, (i + 1) * rowBytes);
  });
  index.reserve(n);
  for (let first = 0; first < n; first += 10_000) index.addEncodedRows(stored.subarray(first * rowBytes, Math.min(n, first + 10_000) * rowBytes), Math.min(10_000, n - first));
  return { index, reads };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function queryRows(n: number): Float32Array[] {
  const ids = Math.ceil(n / SHOTS);
  return Array.from({ length: queries + 3 }, () => {
    const q = new Float32Array(dim);
    shot(Math.floor(rand() * ids), Float32Array.from({ length: dim }, gaussian), q);
    return q;
  });
}

function time(index: { topK: Int8CosineIndex['topK'] }, qs: readonly Float32Array[]): { times: number[]; kth: number[] } {
  const times: number[] = [];
  const kth: number[] = [];
  qs.forEach((q, t) => {
    const t0 = performance.now();
    const got = index.topK(q, k);
    const ms = performance.now() - t0;
    if (t < 3) return;
    times.push(ms);
    kth.push(got[got.length - 1].score);
  });
  return { times, kth };
}

console.log(`Int8CosineIndex.topK, dim ${dim}, k ${k}, median of ${queries} queries (after 3 warm-up), Node ${process.version}`);
for (const n of sizes) {
  for (const forceJs of withJs ? [false, true] : [false]) {
    const t0 = performance.now();
    const stored = withInt4 && !forceJs ? new Uint8Array(n * stage1RowBytes(dim)) : undefined;
    const index = build(n, forceJs, stored);
    const buildS = (performance.now() - t0) / 1000;
    const qs = queryRows(n);
    const { times, kth } = time(index, qs);
    const target = TARGET_MS[n] !== undefined && dim === 1536 && !forceJs ? `  (target <= ${TARGET_MS[n]} ms)` : '';
    console.log(
      `${n.toLocaleString('en')} x ${dim} ${index.simd ? 'SIMD' : 'JS'}: median ${median(times).toFixed(1)} ms, min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}${target};` +
        ` k-th score median ${median(kth).toFixed(3)}; built in ${buildS.toFixed(1)} s`,
    );
    if (stored) {
      const t1 = performance.now();
      const int4 = buildInt4(stored, n);
      const loadS = (performance.now() - t1) / 1000;
      int4.reads.count = 0;
      const { times: t4 } = time(int4.index, qs);
      const same = qs.filter((q) => JSON.stringify(int4.index.topK(q, k)) === JSON.stringify(index.topK(q, k))).length;
      console.log(
        `  Int4ShortlistIndex: median ${median(t4).toFixed(1)} ms, min ${Math.min(...t4).toFixed(1)}, max ${Math.max(...t4).toFixed(1)}; short list ${(int4.reads.count / qs.length).toFixed(0)} rows a query;` +
          ` top ${k} equal to int8 for ${same} of ${qs.length} queries; ${(int4.index.byteLength / 2 ** 20).toFixed(0)} MiB vs ${(index.byteLength / 2 ** 20).toFixed(0)} MiB; packed in ${loadS.toFixed(1)} s`,
      );
    }
  }
}

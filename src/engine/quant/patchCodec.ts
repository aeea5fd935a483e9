/**
 * A compact byte encoding of a patch map (PatchMap, patch-major: row
 * p = y * w + x holds c floats), one 8-bit code per value with a scale per
 * patch, and a bitmap for patches that are mostly zero.
 *
 * Why this shape: FaceRes's map (7x7x1024) is post-ReLU, never negative and
 * ~90% exact zeros, so it wants unsigned codes (0..255) and sparse storage
 * (~11.5 kB instead of 200 kB of float32); MobileFaceNet's (7x7x512) is dense
 * and ~30% negative, so it wants signed codes (-127..127) stored densely
 * (~25 kB instead of 100 kB). Each patch picks both per patch.
 *
 * Layout (all little-endian):
 *   header, HEADER_BYTES: 'P' 'M' (magic), version 1, 0 (reserved), h, w, c as uint16
 *   then per patch:
 *     flags (uint8): bit 0 sparse, bit 1 signed; no other bits
 *     scale (float32): max|value| / levels (255 unsigned, 127 signed); 0 for an
 *       all-zero patch, which then has flags 0 and no payload
 *     payload: dense = c codes; sparse = ceil(c / 8) bitmap bytes (bit t of
 *       byte b is value 8b + t; bits past c are 0) then one code per set bit
 *   codes are uint8 (unsigned) or int8 (signed), value = code * scale.
 *
 * Error bound: code = round(x / scale) to the nearest, so
 *   |x - decode(encode(x))| <= scale / 2 per value
 * (plus float32 rounding of code * scale, at most 2^-24 |value|). Values that
 * round to code 0 decode as exactly 0 (their bitmap bit is off): zeros stay
 * zero. Sparse is chosen when ceil(c / 8) + nonzero codes < c.
 *
 * decodePatchMap checks the whole layout before it allocates or reads a
 * value, so truncated or corrupt bytes give an AppError naming the fault,
 * never an out-of-bounds read.
 */
import { AppError } from '../../core/errors.ts';
import type { PatchMap } from '../../core/types.ts';
import { DotWorkspace } from '../simd/dotWorkspace.ts';
import { l2NormaliseRows, NORMALISE_FLOOR } from '../vectors.ts';

export const PATCH_CODEC_MAGIC_0 = 0x50; // 'P'
export const PATCH_CODEC_MAGIC_1 = 0x4d; // 'M'
export const PATCH_CODEC_VERSION = 1;
export const PATCH_CODEC_HEADER_BYTES = 10;
/** Flags byte and float32 scale in front of every patch. */
export const PATCH_HEADER_BYTES = 5;
export const FLAG_SPARSE = 1;
export const FLAG_SIGNED = 2;
const UNSIGNED_LEVELS = 255;
const SIGNED_LEVELS = 127;
const MAX_SIDE = 0xffff;
/**
 * At most 2^24 values (64 MiB decoded). An all-zero patch costs 5 bytes
 * whatever c is, so without a cap a few corrupt header bytes could ask for
 * gigabytes; real maps are ~50k values.
 */
export const MAX_PATCH_MAP_VALUES = 1 << 24;

const HINT_DECODE = 'The stored face features are damaged; re-index the photo or import the gallery again.';

/** Bytes per patch for a payload of `nonzero` codes: the smaller of dense and sparse. */
function payloadBytes(c: number, nonzero: number): { sparse: boolean; bytes: number } {
  const sparseBytes = ((c + 7) >> 3) + nonzero;
  return sparseBytes < c ? { sparse: true, bytes: sparseBytes } : { sparse: false, bytes: c };
}

export function encodePatchMap(map: PatchMap): Uint8Array {
  const { h, w, c, data } = map;
  for (const [name, v] of [
    ['h', h],
    ['w', w],
    ['c', c],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0 || v > MAX_SIDE) throw new AppError('invalid-argument', `patch map ${name} must be an integer in 1..${MAX_SIDE}, got ${v}`, 'Check the recognizer output.');
  }
  if (h * w * c > MAX_PATCH_MAP_VALUES) throw new AppError('invalid-argument', `patch map ${h}x${w}x${c} has over ${MAX_PATCH_MAP_VALUES} values`, 'Use a coarser patch grid.');
  if (data.length !== h * w * c) throw new AppError('invalid-argument', `patch map data has ${data.length} values, ${h}x${w}x${c} needs ${h * w * c}`, 'Check the recognizer output.');

  const patches = h * w;
  // Pass 1: per patch, its sign, scale and the number of nonzero codes, so the output is allocated once.
  const flags = new Uint8Array(patches);
  const scales = new Float32Array(patches);
  const nonzero = new Int32Array(patches);
  let total = PATCH_CODEC_HEADER_BYTES;
  for (let p = 0; p < patches; p++) {
    const at = p * c;
    let max = 0;
    let min = 0;
    for (let t = 0; t < c; t++) {
      const x = data[at + t];
      if (x > max) max = x;
      else if (x < min) min = x;
      else if (x !== x) throw nonFinite(p, t, x); // NaN: fails both comparisons
    }
    if (max === Infinity || min === -Infinity) throw nonFinite(p, -1, max === Infinity ? max : min);
    const signed = min < 0;
    const levels = signed ? SIGNED_LEVELS : UNSIGNED_LEVELS;
    const scale = Math.fround(Math.max(max, -min) / levels);
    total += PATCH_HEADER_BYTES;
    if (scale === 0) continue; // all zero (or below the float32 range): flags 0, no payload
    const inv = 1 / scale;
    let nz = 0;
    for (let t = 0; t < c; t++) if (Math.round(data[at + t] * inv) !== 0) nz++;
    const choice = payloadBytes(c, nz);
    flags[p] = (signed ? FLAG_SIGNED : 0) | (choice.sparse ? FLAG_SPARSE : 0);
    scales[p] = scale;
    nonzero[p] = nz;
    total += choice.bytes;
  }

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out[0] = PATCH_CODEC_MAGIC_0;
  out[1] = PATCH_CODEC_MAGIC_1;
  out[2] = PATCH_CODEC_VERSION;
  out[3] = 0;
  view.setUint16(4, h, true);
  view.setUint16(6, w, true);
  view.setUint16(8, c, true);
  let o = PATCH_CODEC_HEADER_BYTES;
  const bitmapBytes = (c + 7) >> 3;
  for (let p = 0; p < patches; p++) {
    const f = flags[p];
    const scale = scales[p];
    out[o] = f;
    view.setFloat32(o + 1, scale, true);
    o += PATCH_HEADER_BYTES;
    if (scale === 0) continue;
    const at = p * c;
    const inv = 1 / scale;
    const levels = f & FLAG_SIGNED ? SIGNED_LEVELS : UNSIGNED_LEVELS;
    const lowest = f & FLAG_SIGNED ? -SIGNED_LEVELS : 0;
    if (f & FLAG_SPARSE) {
      let codeAt = o + bitmapBytes;
      for (let t = 0; t < c; t++) {
        const q = clampCode(Math.round(data[at + t] * inv), lowest, levels);
        if (q === 0) continue;
        out[o + (t >> 3)] |= 1 << (t & 7);
        out[codeAt++] = q & 0xff; // int8 codes as their two's-complement byte
      }
      // Pass 1 counted the same rounding (the clamp never moves a code to or from 0); a mismatch would misalign every later patch.
      if (codeAt !== o + bitmapBytes + nonzero[p]) throw new AppError('internal', `patch codec: patch ${p} wrote ${codeAt - o - bitmapBytes} codes, counted ${nonzero[p]}`, 'Report this as a bug.');
      o = codeAt;
    } else {
      for (let t = 0; t < c; t++) out[o + t] = clampCode(Math.round(data[at + t] * inv), lowest, levels) & 0xff;
      o += c;
    }
  }
  return out;
}

/** The float32 scale can put max|x| / scale a hair past the last level; the clamp keeps the code in range (error still <= scale / 2). */
function clampCode(q: number, lowest: number, levels: number): number {
  return q > levels ? levels : q < lowest ? lowest : q;
}

function nonFinite(patch: number, channel: number, x: number): AppError {
  const where = channel >= 0 ? ` at channel ${channel}` : '';
  return new AppError('invalid-vector', `patch map has a non-finite value (${x}) in patch ${patch}${where}`, 'The face features are corrupt; extract them again.');
}

function corrupt(message: string): AppError {
  return new AppError('invalid-argument', `patch map bytes: ${message}`, HINT_DECODE);
}

/** Set bits in each byte value, for counting sparse codes while checking the layout. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x; x &= x - 1) n++;
  return n;
});

/** The set bits of each byte value, lowest first, 8 slots per value: decoding a sparse bitmap byte walks its list. */
const BIT_POSITIONS = (() => {
  const table = new Uint8Array(256 * 8);
  for (let b = 0; b < 256; b++) for (let t = 0, k = 0; t < 8; t++) if (b & (1 << t)) table[b * 8 + k++] = t;
  return table;
})();

/** An encoded map's shape and where each patch's flags byte is (byte offsets into the map's bytes). */
export interface EncodedMapLayout {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly starts: Int32Array;
  /** Bytes of a sparse patch's channel bitmap. */
  readonly bitmapBytes: number;
}

interface Layout {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly view: DataView;
  /** Byte offset of each patch's flags byte. */
  readonly starts: Int32Array;
  readonly bitmapBytes: number;
}

/** Pass 1 of decoding: walks the layout and checks every length, flag and scale before anything is allocated or decoded. */
function walkLayout(bytes: Uint8Array): Layout {
  const len = bytes.length;
  if (len < PATCH_CODEC_HEADER_BYTES) throw corrupt(`${len} bytes is shorter than the ${PATCH_CODEC_HEADER_BYTES}-byte header`);
  if (bytes[0] !== PATCH_CODEC_MAGIC_0 || bytes[1] !== PATCH_CODEC_MAGIC_1) throw corrupt(`bad magic 0x${hex(bytes[0])} 0x${hex(bytes[1])} (not an encoded patch map)`);
  if (bytes[2] !== PATCH_CODEC_VERSION) throw corrupt(`unknown version ${bytes[2]} (this build reads version ${PATCH_CODEC_VERSION})`);
  if (bytes[3] !== 0) throw corrupt(`reserved header byte is ${bytes[3]}, not 0`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint16(4, true);
  const w = view.getUint16(6, true);
  const c = view.getUint16(8, true);
  if (h === 0 || w === 0 || c === 0) throw corrupt(`header size ${h}x${w}x${c} has a zero side`);
  if (h * w * c > MAX_PATCH_MAP_VALUES) throw corrupt(`header size ${h}x${w}x${c} is over ${MAX_PATCH_MAP_VALUES} values`);
  const patches = h * w;
  const bitmapBytes = (c + 7) >> 3;

  const starts = new Int32Array(patches);
  let o = PATCH_CODEC_HEADER_BYTES;
  for (let p = 0; p < patches; p++) {
    if (o + PATCH_HEADER_BYTES > len) throw corrupt(`cut short in patch ${p} of ${patches} (header at byte ${o}, ${len} bytes in all)`);
    starts[p] = o;
    const f = bytes[o];
    const scale = view.getFloat32(o + 1, true);
    if (f & ~(FLAG_SPARSE | FLAG_SIGNED)) throw corrupt(`patch ${p} has unknown flags 0x${hex(f)}`);
    if (!Number.isFinite(scale) || scale < 0) throw corrupt(`patch ${p} has scale ${scale}; scales are finite and >= 0`);
    o += PATCH_HEADER_BYTES;
    if (scale === 0) {
      if (f !== 0) throw corrupt(`patch ${p} has scale 0 (all zero) but flags 0x${hex(f)}`);
      continue;
    }
    if (f & FLAG_SPARSE) {
      if (o + bitmapBytes > len) throw corrupt(`cut short in the bitmap of patch ${p} of ${patches}`);
      let nz = 0;
      for (let b = 0; b < bitmapBytes; b++) nz += POPCOUNT[bytes[o + b]];
      if (c & 7 && bytes[o + bitmapBytes - 1] >> (c & 7)) throw corrupt(`patch ${p}'s bitmap marks channels past c = ${c}`);
      o += bitmapBytes + nz;
    } else {
      o += c;
    }
    if (o > len) throw corrupt(`cut short in the codes of patch ${p} of ${patches} (needs ${o} bytes, has ${len})`);
  }
  if (o !== len) throw corrupt(`${len - o} bytes left over after the last patch`);
  return { h, w, c, view, starts, bitmapBytes };
}

export function decodePatchMap(bytes: Uint8Array): PatchMap {
  const { h, w, c, view, starts, bitmapBytes } = walkLayout(bytes);
  const patches = h * w;
  // Pass 2: decode; every offset was checked above. The output starts at 0, so zero codes and skipped bitmap bytes cost nothing.
  const data = new Float32Array(patches * c);
  for (let p = 0; p < patches; p++) {
    let at = starts[p];
    const f = bytes[at];
    const scale = view.getFloat32(at + 1, true);
    at += PATCH_HEADER_BYTES;
    if (scale === 0) continue;
    const base = p * c;
    const signed = (f & FLAG_SIGNED) !== 0;
    if (f & FLAG_SPARSE) {
      let codeAt = at + bitmapBytes;
      for (let b = 0; b < bitmapBytes; b++) {
        let bits = bytes[at + b];
        const t0 = base + (b << 3);
        while (bits !== 0) {
          const t = 31 - Math.clz32(bits & -bits); // lowest set bit
          bits &= bits - 1;
          const code = bytes[codeAt++];
          data[t0 + t] = (signed ? (code << 24) >> 24 : code) * scale;
        }
      }
    } else if (signed) {
      for (let t = 0; t < c; t++) data[base + t] = ((bytes[at + t] << 24) >> 24) * scale;
    } else {
      for (let t = 0; t < c; t++) data[base + t] = bytes[at + t] * scale;
    }
  }
  return { h, w, c, data };
}

/** A decoded map already split as the engine holds a face (src/engine/faceDetails.ts). */
export interface UnitPatchMap {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  /** h*w rows of c floats, each divided by its norm (max(norm, 1e-12), as l2NormaliseRows). */
  readonly unitPatches: Float32Array;
  readonly patchNorms: Float32Array;
  /** The L2-normalised mean patch of the decoded map (APC's partner vector). */
  readonly unitAverage: Float32Array;
}

/** Arrays of an earlier decode that a new one may overwrite (used when their shapes match). */
export interface UnitPatchBuffers {
  readonly unitPatches: Float32Array;
  readonly patchNorms: Float32Array;
  readonly unitAverage: Float32Array;
}

/**
 * decodePatchMap followed by the engine's normalisation (faceDetailOf), in one pass over the nonzero codes only:
 * stage 2 decodes its k candidates per query, and the default map is ~90% zeros. The arithmetic is the same as the
 * two steps' (the same float32 values, float64 sums in the same order, multiplied by the same inverse), so the
 * results are bit for bit theirs (tests/unit/engine/quant/patchCodec.test.ts checks it). `reuse` lends the arrays
 * of a face no longer needed: in Chromium a fresh 200 kB array costs 1.1-1.7 ms (the pages are faulted in and
 * zeroed each time; measured in a worker on this machine), refilling a used one 0.01 ms. The pass over the codes
 * runs in WebAssembly (decodeUnit in src/engine/simd/dotKernel.wat, the same arithmetic: 0.11 -> 0.07 ms a FaceRes map in
 * Node) where it exists; `impl: 'js'` forces the JS loop.
 */
export function decodePatchMapUnit(bytes: Uint8Array, reuse?: UnitPatchBuffers, impl: 'auto' | 'js' = 'auto'): UnitPatchMap {
  const layout = walkLayout(bytes);
  const { h, w, c } = layout;
  const patches = h * w;
  const fits = reuse !== undefined && reuse.unitPatches.length === patches * c && reuse.patchNorms.length === patches && reuse.unitAverage.length === c;
  const unitPatches = fits ? reuse.unitPatches : new Float32Array(patches * c);
  const patchNorms = fits ? reuse.patchNorms : new Float32Array(patches);
  const sums = new Float64Array(c);
  const kernel = impl === 'auto' ? unitDecodeKernel() : null;
  if (kernel) kernel.decodeUnit(bytes, layout, unitPatches, patchNorms, sums);
  else decodeUnitJs(bytes, layout, unitPatches.fill(0), patchNorms.fill(0), sums);
  const unitAverage = unitAverageOfSums(sums, patches, fits ? reuse.unitAverage : new Float32Array(c));
  return { h, w, c, unitPatches, patchNorms, unitAverage };
}

/**
 * The map's unit average patch from the per-channel float64 sums of its decoded values over `patches` patches, into
 * `into` (c floats): what decodePatchMapUnit returns as unitAverage, for a caller that decoded the codes itself
 * (stage 2's costsEncoded in src/engine/simd/dotKernel.wat).
 */
export function unitAverageOfSums(sums: Float64Array, patches: number, into: Float32Array): Float32Array {
  const c = into.length;
  const mean = new Float32Array(c);
  for (let t = 0; t < c; t++) mean[t] = sums[t] / patches;
  l2NormaliseRows(mean, 0, 1, c, into, 0);
  return into;
}

/** Where each patch of an encoded map starts, its whole layout checked first (an AppError names any fault). */
export function encodedMapLayout(bytes: Uint8Array): EncodedMapLayout {
  const { h, w, c, starts, bitmapBytes } = walkLayout(bytes);
  return { h, w, c, starts, bitmapBytes };
}

/** The WebAssembly decoder, made on first use; null where WebAssembly is missing. */
let kernelInstance: DotWorkspace | null | undefined;
function unitDecodeKernel(): DotWorkspace | null {
  if (kernelInstance === undefined) {
    const workspace = new DotWorkspace();
    kernelInstance = workspace.simd ? workspace : null;
  }
  return kernelInstance;
}

/** The JS loop dotKernel.wat's decodeUnit follows operation for operation (where WebAssembly is missing, and the tests' reference). Outputs start zeroed. */
function decodeUnitJs(bytes: Uint8Array, layout: Layout, unitPatches: Float32Array, patchNorms: Float32Array, sums: Float64Array): void {
  const { h, w, c, view, starts, bitmapBytes } = layout;
  const patches = h * w;
  // One patch's decoded values and the channels they sit in, reused patch to patch.
  const values = new Float32Array(c);
  const channels = new Int32Array(c);
  for (let p = 0; p < patches; p++) {
    let at = starts[p];
    const f = bytes[at];
    const scale = view.getFloat32(at + 1, true);
    at += PATCH_HEADER_BYTES;
    if (scale === 0) continue;
    const signed = (f & FLAG_SIGNED) !== 0;
    let n = 0;
    if (f & FLAG_SPARSE) {
      let codeAt = at + bitmapBytes;
      for (let b = 0; b < bitmapBytes; b++) {
        const bits = bytes[at + b];
        if (bits === 0) continue;
        const count = POPCOUNT[bits];
        const positions = bits << 3;
        const first = b << 3;
        for (let k = 0; k < count; k++) {
          const code = bytes[codeAt++];
          channels[n] = first + BIT_POSITIONS[positions + k];
          values[n++] = (signed ? (code << 24) >> 24 : code) * scale;
        }
      }
    } else {
      for (let t = 0; t < c; t++) {
        const code = bytes[at + t];
        const v = (signed ? (code << 24) >> 24 : code) * scale;
        if (v === 0) continue;
        channels[n] = t;
        values[n++] = v;
      }
    }
    let ss = 0;
    for (let i = 0; i < n; i++) ss += values[i] * values[i];
    const norm = Math.sqrt(ss);
    patchNorms[p] = norm;
    const inv = 1 / Math.max(norm, NORMALISE_FLOOR);
    const base = p * c;
    for (let i = 0; i < n; i++) {
      unitPatches[base + channels[i]] = values[i] * inv;
      sums[channels[i]] += values[i];
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

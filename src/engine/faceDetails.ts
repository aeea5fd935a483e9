/**
 * What stage 2 needs of one gallery face beyond its stage-1 vector: the unit
 * patches of its native map with their norms (together the raw map, for
 * pooling to other grids), its unit average patch (APC) and its landmarks
 * (LMK). A gallery of a million faces cannot hold these in memory (the default
 * recognizer's map alone is 200 kB of float32 per face), so the engine reads
 * them through a `FaceDetailSource`: the app's reads the k candidates of a
 * query from disk (src/storage), Node tests and benches keep them in memory.
 */
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, PatchMap, Point, VisibleDamage, VisibleEmbeddings } from '../core/types.ts';
import { encodeStage1Row, STAGE1_ROW_HEADER_BYTES } from './quant/int8Rows.ts';
import { decodeFineRow, encodeFineRow } from './quant/int16Rows.ts';
import { unitAveragePatch } from './patchGrid.ts';
import { l2NormaliseRows, unitEmbedding } from './vectors.ts';

export interface FaceDetail {
  /** h*w rows of c floats, each L2-normalised (a zero patch stays zero). */
  readonly unitPatches: Float32Array;
  /** The norm of each raw patch: unitPatches * norms is the raw map. */
  readonly patchNorms: Float32Array;
  readonly unitAverage: Float32Array;
  readonly landmarks68?: readonly Point[];
  readonly cropSize: number;
  /** Unit visible-part embeddings, where the face was indexed with them. */
  readonly visibleEmbeddings?: VisibleEmbeddings;
  /** The stage-1 vector at 16 bits a value (src/engine/quant/int16Rows.ts), where the store keeps one. */
  readonly stage1Fine?: Float32Array;
}

/**
 * Synchronous on purpose: the engine worker reads the candidates of one query
 * with FileSystemSyncAccessHandle, a few milliseconds for k = 100, and an
 * async port per candidate would cost more in scheduling than the reads.
 * The arrays of a returned detail are valid until the source is asked for
 * another face: a source may decode the next face into them (the engine
 * copies what it keeps).
 */
export interface FaceDetailSource {
  read(id: string): FaceDetail;
  /**
   * The face's record as stored, undecoded: stage 2's helper decodes it on another core (src/engine/stage2Helper.ts).
   * The bytes may be lent: valid until the source's next read, so copy them to keep them.
   */
  readEncoded?(id: string): EncodedFaceDetail;
  /**
   * The face's patch map as the patch codec stores it (src/engine/quant/patchCodec.ts), for stage 2 to score without
   * decoding it; null where the store keeps maps otherwise. The bytes may be lent: valid until the source's next read.
   */
  readPatchCodec?(id: string): Uint8Array | null;
  /** The face's unit visible-part embedding of one kind, without decoding its map (stage 2 of a damaged query); null where it has none. */
  readVisible?(id: string, kind: VisibleDamage): Float32Array | null;
  /**
   * The face's stage-1 row as the storage keeps it (src/engine/quant/int8Rows.ts), for a gallery that holds only
   * 4-bit rows in memory (src/engine/stage1Int4.ts). The bytes may be lent: valid until the source's next read.
   */
  readStage1Row?(id: string): Uint8Array;
  /**
   * The face's stage-1 vector at 16 bits a value, unit length (src/engine/quant/int16Rows.ts), or null where it has
   * none: stage 2 re-scores stage 1's top k with it when the gallery searches int8 or 4-bit rows. The array may be
   * lent: valid until the source's next read.
   */
  readStage1Fine?(id: string): Float32Array | null;
}

/** A stored record and the name of its encoding (the storage's format). */
export interface EncodedFaceDetail {
  readonly format: string;
  readonly bytes: Uint8Array;
}

/** A face's detail from its features (the raw map is normalised once here). */
export function faceDetailOf(f: Pick<FaceFeatures, 'patches' | 'landmarks68' | 'cropSize' | 'visibleEmbeddings'>): FaceDetail {
  const { h, w, c, data } = f.patches;
  const unitPatches = new Float32Array(h * w * c);
  const patchNorms = new Float32Array(h * w);
  l2NormaliseRows(data, 0, h * w, c, unitPatches, 0, patchNorms);
  const visible = f.visibleEmbeddings;
  const visibleEmbeddings = visible ? Object.fromEntries(Object.entries(visible).map(([k, v]) => [k, unitEmbedding(v, `the ${k} visible-part embedding`)])) : undefined;
  return { unitPatches, patchNorms, unitAverage: unitAveragePatch(f.patches), landmarks68: f.landmarks68, cropSize: f.cropSize, ...(visibleEmbeddings ? { visibleEmbeddings } : {}) };
}

/** The raw map back from a detail (for pooling to a coarser grid). */
export function rawMapOf(detail: Pick<FaceDetail, 'unitPatches' | 'patchNorms'>, h: number, w: number, c: number, into?: Float32Array): PatchMap {
  const { unitPatches, patchNorms } = detail;
  const data = into?.length === h * w * c ? into : new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) for (let t = 0; t < c; t++) data[p * c + t] = unitPatches[p * c + t] * patchNorms[p];
  return { h, w, c, data };
}

/** Details held in memory (Node tests, benches, the float32 reference): what the engine did before details moved to disk. */
export class MemoryFaceDetails implements FaceDetailSource {
  private readonly details = new Map<string, FaceDetail>();
  /** The int8 stage-1 rows a store would keep, for 4-bit galleries held in memory (tests, studies). */
  private readonly stage1Rows = new Map<string, Uint8Array>();
  /** The fine (int16) stage-1 rows a compact store keeps in each record, as that store encodes them. */
  private readonly fineRows = new Map<string, Uint8Array>();
  private fineScratch: Float32Array = new Float32Array(0);

  constructor(private readonly options: { keepStage1Rows?: boolean; keepFineStage1?: boolean } = {}) {}

  add(id: string, features: Pick<FaceFeatures, 'patches' | 'landmarks68' | 'cropSize'> & Partial<Pick<FaceFeatures, 'embedding'>>): void {
    this.details.set(id, faceDetailOf(features));
    if (this.options.keepStage1Rows && features.embedding) this.stage1Rows.set(id, encodeStage1Row(features.embedding));
    if (this.options.keepFineStage1 && features.embedding) this.fineRows.set(id, encodeFineRow(features.embedding));
  }

  remove(ids: readonly string[]): void {
    for (const id of ids) {
      this.details.delete(id);
      this.stage1Rows.delete(id);
      this.fineRows.delete(id);
    }
  }

  clear(): void {
    this.details.clear();
    this.stage1Rows.clear();
    this.fineRows.clear();
  }

  /** Lent, as a store's: decoded into one buffer, overwritten by the next call. */
  readStage1Fine(id: string): Float32Array | null {
    const row = this.fineRows.get(id);
    if (!row) return null;
    this.fineScratch = decodeFineRow(row, (row.length - STAGE1_ROW_HEADER_BYTES) / 2, 0, this.fineScratch);
    return this.fineScratch;
  }

  readStage1Row(id: string): Uint8Array {
    const row = this.stage1Rows.get(id);
    if (!row) throw new AppError('unknown-id', `no stored stage-1 row for gallery face ${id}`, 'It may have been removed; run the query again.');
    return row;
  }

  read(id: string): FaceDetail {
    const d = this.details.get(id);
    if (!d) throw new AppError('unknown-id', `no stored detail for gallery face ${id}`, 'It may have been removed; run the query again.');
    return d;
  }

  /** Bytes of the float arrays held (benches report it). */
  get byteLength(): number {
    let bytes = 0;
    for (const d of this.details.values()) bytes += d.unitPatches.byteLength + d.patchNorms.byteLength + d.unitAverage.byteLength;
    for (const r of this.stage1Rows.values()) bytes += r.byteLength;
    for (const r of this.fineRows.values()) bytes += r.byteLength;
    return bytes;
  }
}

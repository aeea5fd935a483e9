/**
 * A gallery's faces on disk, append-only and crash-safe, for galleries of up
 * to a million faces. Built for the Origin Private File System read through
 * synchronous access handles in a dedicated worker (workers/storage/opfsDirectory.ts),
 * so every call after open() is synchronous.
 *
 * Files of one gallery directory:
 * - stage1.dat: one fixed-size row per slot (the stage-1 features the first
 *   search pass scans); slots are numbered in the order faces were added.
 * - faces.dat: per slot, the detail bytes then the thumbnail bytes, appended.
 * - log.dat: the commit log (src/storage/commitLog.ts). A face exists iff its
 *   add entry is in the log and no later delete entry names it.
 * - journal.json: the running import's progress (ImportJournal).
 *
 * Commit rule: a batch writes its stage-1 rows and face records, flushes
 * both, and only then appends its log entries and flushes the log. A crash
 * before the log flush leaves data nobody references; open() replays the log
 * to its first incomplete or damaged entry, cuts the log there, and cuts
 * stage1.dat and faces.dat back to what the committed entries reference. So
 * after any crash each face is either fully present or absent, and the faces
 * present are those of a prefix of the committed operations.
 *
 * Deleted faces keep their bytes (counted as dead in stats()) until
 * compact() rewrites the live faces into the files of the next generation
 * (stage1.1.dat, faces.1.dat, log.1.dat, then .2., ...; generation 0 has the
 * plain names). Its commit point is an entry in the old log naming the new
 * generation, written only once the new files are complete and flushed; open()
 * follows that entry, and removes the old log before the old data files, so a
 * crash anywhere in a compaction leaves either the old gallery or the new one.
 */
import type { ImportJournal } from '../app/ports.ts';
import { AppError } from '../core/errors.ts';
import CRC32 from 'crc-32';
import {
  ADD_FIXED_BYTES,
  ENTRY_ADD,
  ENTRY_COMPACTED,
  ENTRY_DELETE,
  ENTRY_RELABEL,
  LOG_HEADER_BYTES,
  MAX_STRING_BYTES,
  decodeHeader,
  encodeAdd,
  encodeCompacted,
  encodeDelete,
  encodeHeader,
  encodeRelabel,
  frameEntries,
  scanLog,
  type LogEnd,
} from './commitLog.ts';
import { HASH_BYTES, HashIndex, parseHash, PrefixedHashText } from './hashIndex.ts';
import type { GalleryDirectory, RandomAccessFile } from './randomAccessFile.ts';

export const STAGE1_FILE = 'stage1.dat';
export const FACES_FILE = 'faces.dat';
export const LOG_FILE = 'log.dat';
export const JOURNAL_FILE = 'journal.json';

/** The data and log files of one generation (compact() moves the gallery to the next). */
function generationFiles(generation: number): { stage1: string; faces: string; log: string } {
  if (generation === 0) return { stage1: STAGE1_FILE, faces: FACES_FILE, log: LOG_FILE };
  return { stage1: `stage1.${generation}.dat`, faces: `faces.${generation}.dat`, log: `log.${generation}.dat` };
}

function generationOf(fileName: string): { kind: 'stage1' | 'faces' | 'log'; generation: number } | null {
  const m = /^(stage1|faces|log)(?:\.([1-9]\d*))?\.dat$/.exec(fileName);
  if (!m) return null;
  return { kind: m[1] as 'stage1' | 'faces' | 'log', generation: m[2] === undefined ? 0 : Number(m[2]) };
}

export interface FaceRecordMeta {
  /** The image's content hash: 64 lowercase hex characters. */
  readonly hash: string;
  readonly label: string;
  readonly fileName: string;
  readonly addedAt: number;
}

export interface NewFaceRecord extends FaceRecordMeta {
  /** Exactly stage1RowBytes bytes. */
  readonly stage1: Uint8Array;
  readonly detail: Uint8Array;
  readonly thumbnail: Uint8Array;
  /** The thumbnail's MIME type. */
  readonly thumbnailType: string;
}

export interface FaceRecordStoreStats {
  readonly stage1Bytes: number;
  readonly facesBytes: number;
  readonly logBytes: number;
  readonly journalBytes: number;
  readonly liveFaces: number;
  /** Deleted faces whose bytes are still in the files. */
  readonly deadFaces: number;
  /** Bytes of stage1.dat and faces.dat that only deleted faces use. */
  readonly deadBytes: number;
  /** What the in-memory index holds, roughly. */
  readonly indexBytes: number;
}

/** What open() cut off: the torn tail of an interrupted write, or everything after damage in the log. */
export interface RecoveryReport {
  /** Why replay stopped: 'end' when the log was whole. */
  readonly stoppedAt: LogEnd;
  readonly droppedLogBytes: number;
  readonly droppedStage1Bytes: number;
  readonly droppedFacesBytes: number;
}

const RELOAD_HINT = 'Reload the page: the gallery is reopened as it was after the last completed save.';
const QUOTA_HINT = 'Everything indexed before this image is saved. Free space (remove images or clear other site data) and import the rest again.';
/** base::File::FILE_ERROR_NO_SPACE: Chromium's sync access handle returns it, as an unsigned byte count, from a write past the quota instead of throwing. */
const CHROMIUM_NO_SPACE = 2 ** 32 - 8;

function storageError(e: unknown, what: string): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof DOMException && e.name === 'QuotaExceededError') {
    return new AppError('storage-quota', `the browser's storage quota is full while ${what}`, QUOTA_HINT, { cause: e });
  }
  return new AppError('storage-failed', `browser storage failed while ${what}: ${e instanceof Error ? e.message : String(e)}`, RELOAD_HINT, { cause: e });
}

function writeFully(file: RandomAccessFile, data: Uint8Array, at: number): void {
  const n = file.write(data, at);
  if (n === data.length) return;
  // A short write, or Chromium's no-space code, means the disk or the origin's quota is full.
  if (n === CHROMIUM_NO_SPACE || (n >= 0 && n < data.length)) throw new DOMException(`wrote ${n === CHROMIUM_NO_SPACE ? 'nothing (no space)' : n} of ${data.length} bytes`, 'QuotaExceededError');
  throw new Error(`wrote ${n} of ${data.length} bytes`);
}

function readFully(file: RandomAccessFile, into: Uint8Array, at: number, name: string): Uint8Array {
  let done = 0;
  while (done < into.length) {
    const got = file.read(into.subarray(done), at + done);
    if (got <= 0) throw new Error(`${name} ends at byte ${at + done}, before the ${into.length} bytes asked for at ${at}`);
    done += got;
  }
  return into;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeString(s: string, what: string): Uint8Array {
  const bytes = encoder.encode(s);
  if (bytes.length > MAX_STRING_BYTES) throw new AppError('invalid-argument', `${what} is ${bytes.length} bytes long; at most ${MAX_STRING_BYTES} can be stored`, 'Use a shorter name.');
  return bytes;
}

function isImportJournal(x: unknown): x is ImportJournal {
  if (typeof x !== 'object' || x === null) return false;
  const j = x as Record<string, unknown>;
  return typeof j.modelKey === 'string' && typeof j.total === 'number' && typeof j.done === 'number' && typeof j.startedAt === 'number';
}

/** Grows a typed array to at least `min` elements, doubling. */
function grown<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T, min: number, make: (n: number) => T): T {
  if (a.length >= min) return a;
  const next = make(Math.max(min, a.length * 2));
  next.set(a);
  return next;
}

const CHUNK_BYTES = 4 << 20;

/** Sequential reads in large chunks: one OPFS read call costs about as much as reading 100 KB. */
class ChunkReader {
  private readonly buf: Uint8Array;
  private start = 0;
  private length = 0;

  constructor(
    private readonly file: RandomAccessFile,
    private readonly name: string,
    private readonly end: number,
  ) {
    this.buf = new Uint8Array(Math.min(CHUNK_BYTES, end));
  }

  /** Bytes [at, at + n) of the file (a view, valid until the next call). */
  view(at: number, n: number): Uint8Array {
    if (at >= this.start && at + n <= this.start + this.length) return this.buf.subarray(at - this.start, at - this.start + n);
    if (n > this.buf.length) return readFully(this.file, new Uint8Array(n), at, this.name);
    this.start = at;
    this.length = readFully(this.file, this.buf.subarray(0, Math.max(n, Math.min(this.buf.length, this.end - at))), at, this.name).length;
    return this.buf.subarray(0, n);
  }
}

/** Sequential writes gathered into large chunks, for the same reason. */
class ChunkWriter {
  private readonly buf: Uint8Array;
  private used = 0;

  /** `expected`: about how many bytes will be written, so a small gallery does not allocate a whole chunk. */
  constructor(
    private readonly file: RandomAccessFile,
    private at: number,
    expected: number,
  ) {
    this.buf = new Uint8Array(Math.min(CHUNK_BYTES, expected));
  }

  push(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buf.length) this.finish();
    if (bytes.length > this.buf.length) {
      writeFully(this.file, bytes, this.at);
      this.at += bytes.length;
      return;
    }
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  finish(): void {
    if (this.used === 0) return;
    writeFully(this.file, this.buf.subarray(0, this.used), this.at);
    this.at += this.used;
    this.used = 0;
  }
}

interface Files {
  readonly generation: number;
  readonly stage1: RandomAccessFile;
  readonly faces: RandomAccessFile;
  readonly log: RandomAccessFile;
  readonly journal: RandomAccessFile;
}

export class FaceRecordStore {
  private readonly index = new HashIndex();
  // Per slot (slot = row of stage1.dat), typed arrays rather than objects: a million faces cost ~70 bytes each.
  private dataOffset = new Float64Array(1024);
  private detailLength = new Uint32Array(1024);
  private thumbnailLength = new Uint32Array(1024);
  private addedAt = new Float64Array(1024);
  private labelId = new Uint32Array(1024);
  private typeId = new Uint16Array(1024);
  private live = new Uint8Array(1024);
  // File names stay UTF-8 in one pool until asked for: a million JS strings would cost more than the rest together.
  private namePool = new Uint8Array(1 << 16);
  private namePoolEnd = 0;
  private nameStart = new Uint32Array(1024);
  private nameLength = new Uint16Array(1024);
  // Labels and thumbnail types are interned: galleries hold few distinct ones.
  private labels: string[] = [];
  private labelIds = new Map<string, number>();
  private types: string[] = [];
  private typeIds = new Map<string, number>();

  private liveCount = 0;
  private facesEnd = 0;
  private logEnd = LOG_HEADER_BYTES;
  /** Set when a failed write could not be undone: the files no longer match memory, so only a reopen (replay) is safe. */
  private failure: AppError | null = null;
  private closed = false;
  private readonly scratchHash = new Uint8Array(HASH_BYTES);
  private _recovery: RecoveryReport = { stoppedAt: 'end', droppedLogBytes: 0, droppedStage1Bytes: 0, droppedFacesBytes: 0 };

  private constructor(
    private readonly dir: GalleryDirectory,
    private files: Files,
    private readonly rowBytes: number,
    private readonly galleryName: string,
  ) {}

  /** Opens (creating when empty) the gallery's files and replays the log. `name` only labels errors. */
  static async open(dir: GalleryDirectory, opts: { stage1RowBytes: number; name?: string }): Promise<FaceRecordStore> {
    const rowBytes = opts.stage1RowBytes;
    if (!Number.isInteger(rowBytes) || rowBytes <= 0 || rowBytes > 0xffffffff) {
      throw new AppError('invalid-argument', `stage-1 rows of ${rowBytes} bytes`, 'This is a bug in the app; please report it with the steps that led here.');
    }
    const name = opts.name ?? 'the gallery';
    const opened: RandomAccessFile[] = [];
    const closeAll = () => {
      // Handles left open would keep the files locked (OPFS allows one handle per file).
      for (const f of opened.splice(0)) {
        try {
          f.close();
        } catch (closeError) {
          console.warn(`closing a file of ${name}`, closeError);
        }
      }
    };
    try {
      // The oldest generation with a log is the current one, or one whose compaction committed but was not cleaned up.
      const present = (await dir.names()).map(generationOf).filter((g) => g !== null);
      const logs = present.filter((g) => g.kind === 'log').map((g) => g.generation);
      let generation = logs.length > 0 ? Math.min(...logs) : 0;
      const journal = await dir.open(JOURNAL_FILE);
      opened.push(journal);
      for (;;) {
        const names = generationFiles(generation);
        const stage1 = await dir.open(names.stage1);
        opened.push(stage1);
        const faces = await dir.open(names.faces);
        opened.push(faces);
        const log = await dir.open(names.log);
        opened.push(log);
        const store = new FaceRecordStore(dir, { generation, stage1, faces, log, journal }, rowBytes, name);
        const next = store.replay();
        if (next === null) {
          // Files of other generations: the leftovers of a finished compaction, or the output of one cut short.
          for (const g of present) if (g.generation !== generation) await dir.remove(generationFiles(g.generation)[g.kind]);
          return store;
        }
        for (const f of [stage1, faces, log]) {
          f.close();
          opened.splice(opened.indexOf(f), 1);
        }
        await FaceRecordStore.removeGeneration(dir, generation);
        generation = next;
      }
    } catch (e) {
      closeAll();
      throw storageError(e, `opening ${name}`);
    }
  }

  /** The log first: once it is gone the next generation is the current one, whatever happens to the data files. */
  private static async removeGeneration(dir: GalleryDirectory, generation: number): Promise<void> {
    const names = generationFiles(generation);
    await dir.remove(names.log);
    await dir.remove(names.stage1);
    await dir.remove(names.faces);
  }

  /** Live faces. */
  get count(): number {
    return this.liveCount;
  }

  get stage1RowBytes(): number {
    return this.rowBytes;
  }

  /** What the last open() had to cut off. */
  get recovery(): RecoveryReport {
    return this._recovery;
  }

  has(hash: string): boolean {
    return this.liveSlot(hash) >= 0;
  }

  meta(hash: string): FaceRecordMeta | undefined {
    const slot = this.liveSlot(hash);
    return slot < 0 ? undefined : this.metaOf(slot, hash);
  }

  /** Live faces in slot order (the order they were added); `position` counts live faces from 0, as rows of stage1Rows(). */
  forEachMeta(onFace: (meta: FaceRecordMeta, position: number) => void): void {
    this.usable();
    let position = 0;
    const slots = this.index.count;
    for (let s = 0; s < slots; s++) if (this.live[s] === 1) onFace(this.metaOf(s, this.index.hex(s)), position++);
  }

  /**
   * Every live face's key (`keyPrefix` + its hash) and label, in forEachMeta's order: what start-up needs, without
   * the per-face objects and file-name strings forEachMeta makes (at a million faces in Chromium those took ~4 s).
   * Labels are the store's interned strings, so the labels array holds references, not copies.
   */
  listing(keyPrefix: string): { keys: string[]; labels: string[] } {
    this.usable();
    const keys = new Array<string>(this.liveCount);
    const labels = new Array<string>(this.liveCount);
    const text = new PrefixedHashText(keyPrefix);
    let position = 0;
    const slots = this.index.count;
    for (let s = 0; s < slots; s++) {
      if (this.live[s] !== 1) continue;
      keys[position] = text.of(this.index, s);
      labels[position] = this.labels[this.labelId[s]];
      position++;
    }
    return { keys, labels };
  }

  /** A live face's file name, decoded when asked (the store keeps names as UTF-8). */
  fileName(hash: string): string | undefined {
    const slot = this.liveSlot(hash);
    return slot < 0 ? undefined : this.nameOf(slot);
  }

  private nameOf(slot: number): string {
    const start = this.nameStart[slot];
    return decoder.decode(this.namePool.subarray(start, start + this.nameLength[slot]));
  }

  /** Every live face's stage-1 row, packed in forEachMeta's order, in one array. */
  stage1Rows(): Uint8Array {
    const out = new Uint8Array(this.liveCount * this.rowBytes);
    let written = 0;
    for (const chunk of this.stage1RowChunks()) {
      out.set(chunk, written);
      written += chunk.length;
    }
    return out;
  }

  /**
   * Every live face's stage-1 row in forEachMeta's order, as chunks of whole
   * rows read in one sequential pass over stage1.dat. Each chunk is a view of
   * one reused buffer, valid until the next is taken: start-up copies the rows
   * straight into the search index, so a gallery's rows are never held twice
   * (on this VM touching fresh memory costs ~7 ms per MB, ~1 s per 100k faces).
   */
  *stage1RowChunks(): Generator<Uint8Array, void, undefined> {
    this.usable();
    const rowBytes = this.rowBytes;
    const slots = this.index.count;
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
    const chunk = new Uint8Array(Math.min(rowsPerChunk, slots) * rowBytes);
    for (let first = 0; first < slots; first += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, slots - first);
      this.io(`reading the stage-1 rows of ${this.galleryName}`, () => readFully(this.files.stage1, chunk.subarray(0, rows * rowBytes), first * rowBytes, STAGE1_FILE));
      // Deleted faces' rows stay in the file until a compaction: pack the live ones to the front.
      let kept = 0;
      for (let r = 0; r < rows; r++) {
        if (this.live[first + r] !== 1) continue;
        if (kept !== r) chunk.copyWithin(kept * rowBytes, r * rowBytes, (r + 1) * rowBytes);
        kept++;
      }
      if (kept > 0) yield chunk.subarray(0, kept * rowBytes);
    }
  }

  /** A face's stage-1 row: into `into` when given (it must hold exactly one row), else into a fresh array. */
  readStage1(hash: string, into?: Uint8Array): Uint8Array {
    const slot = this.requireSlot(hash);
    if (into && into.length !== this.rowBytes) throw new AppError('internal', `a stage-1 row of ${this.galleryName} is ${this.rowBytes} bytes, not ${into.length}`, 'Report this as a bug.');
    return this.io(`reading a stage-1 row of ${this.galleryName}`, () => readFully(this.files.stage1, into ?? new Uint8Array(this.rowBytes), slot * this.rowBytes, STAGE1_FILE));
  }

  /**
   * A face's detail record: into the front of `scratch` when it fits (a view of it, which the next read into the same
   * scratch overwrites), else into a fresh array. Stage 2 reads ~100 records a query: in Chromium a read into a fresh
   * 12 kB array took ~55 us, into a reused one ~5 us (fresh memory is slow to fault in on this VM).
   */
  readDetail(hash: string, scratch?: Uint8Array): Uint8Array {
    const slot = this.requireSlot(hash);
    const n = this.detailLength[slot];
    const into = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Uint8Array(n);
    return this.io(`reading a face of ${this.galleryName}`, () => readFully(this.files.faces, into, this.dataOffset[slot], FACES_FILE));
  }

  readThumbnail(hash: string): { bytes: Uint8Array; type: string } {
    const slot = this.requireSlot(hash);
    const bytes = this.io(`reading a thumbnail of ${this.galleryName}`, () =>
      readFully(this.files.faces, new Uint8Array(this.thumbnailLength[slot]), this.dataOffset[slot] + this.detailLength[slot], FACES_FILE),
    );
    return { bytes, type: this.types[this.typeId[slot]] };
  }

  /**
   * Adds faces with one flush of the data and one of the log. Throws without
   * changing the store when a record is malformed or already present. After a
   * crash mid-batch a prefix of the batch may be present.
   */
  append(records: readonly NewFaceRecord[]): void {
    this.usable();
    if (records.length === 0) return;
    const n = records.length;
    const keys = new Uint8Array(n * HASH_BYTES);
    const seen = new Set<string>();
    const payloads: Uint8Array[] = [];
    const encoded: { label: Uint8Array; fileName: Uint8Array; type: Uint8Array }[] = [];
    const firstSlot = this.index.count;
    let offset = this.facesEnd;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (!parseHash(r.hash, keys, i * HASH_BYTES)) {
        throw new AppError('invalid-argument', `the content hash "${r.hash}" is not 64 lowercase hex characters`, 'This is a bug in the app; please report it.', { file: r.fileName });
      }
      if (seen.has(r.hash) || this.has(r.hash)) {
        throw new AppError('duplicate-image', 'this image is already in the gallery', 'Nothing to do: the image was indexed before.', { file: r.fileName });
      }
      seen.add(r.hash);
      if (r.stage1.length !== this.rowBytes) {
        throw new AppError('invalid-argument', `a stage-1 row of ${r.stage1.length} bytes, the gallery's rows are ${this.rowBytes}`, 'This is a bug in the app; please report it.', {
          file: r.fileName,
        });
      }
      if (!Number.isFinite(r.addedAt)) throw new AppError('invalid-argument', `addedAt is ${r.addedAt}`, 'This is a bug in the app; please report it.', { file: r.fileName });
      const e = { label: encodeString(r.label, 'the label'), fileName: encodeString(r.fileName, 'the file name'), type: encodeString(r.thumbnailType, 'the thumbnail type') };
      encoded.push(e);
      payloads.push(
        encodeAdd({
          slot: firstSlot + i,
          hash: keys,
          hashAt: i * HASH_BYTES,
          addedAt: r.addedAt,
          dataOffset: offset,
          detailLength: r.detail.length,
          thumbnailLength: r.thumbnail.length,
          label: e.label,
          fileName: e.fileName,
          thumbnailType: e.type,
        }),
      );
      offset += r.detail.length + r.thumbnail.length;
    }
    const rows = new Uint8Array(n * this.rowBytes);
    records.forEach((r, i) => rows.set(r.stage1, i * this.rowBytes));
    const logBytes = frameEntries(payloads);
    const what = n === 1 ? `saving ${records[0].fileName}` : `saving ${n} faces (${records[0].fileName} to ${records[n - 1].fileName})`;
    // One buffer for the batch's records: each write call on an OPFS sync handle costs about as much as writing 100 KB
    // (measured in Chromium), so a write per detail and per thumbnail made imports several times slower.
    const data = new Uint8Array(offset - this.facesEnd);
    let at = 0;
    for (const r of records) {
      data.set(r.detail, at);
      data.set(r.thumbnail, at + r.detail.length);
      at += r.detail.length + r.thumbnail.length;
    }
    this.commit(what, () => {
      writeFully(this.files.stage1, rows, firstSlot * this.rowBytes);
      writeFully(this.files.faces, data, this.facesEnd);
      this.files.stage1.flush();
      this.files.faces.flush();
      writeFully(this.files.log, logBytes, this.logEnd);
      this.files.log.flush();
    });
    this.logEnd += logBytes.length;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      const e = encoded[i];
      this.addSlot(keys, i * HASH_BYTES, this.facesEnd, r.detail.length, r.thumbnail.length, r.addedAt, this.internLabel(r.label), this.internType(r.thumbnailType), e.fileName, 0, e.fileName.length);
      this.facesEnd += r.detail.length + r.thumbnail.length;
    }
  }

  /** Removes the faces (hashes not present are ignored); their bytes stay until the gallery is cleared. */
  delete(hashes: readonly string[]): void {
    const slots = this.liveSlots(hashes);
    if (slots.length === 0) return;
    this.commitLog(`removing ${slots.length} faces from ${this.galleryName}`, encodeDelete(this.packHashes(slots)));
    for (const s of slots) this.live[s] = 0;
    this.liveCount -= slots.length;
  }

  relabel(hashes: readonly string[], label: string): void {
    const slots = this.liveSlots(hashes);
    if (slots.length === 0) return;
    this.commitLog(`relabelling ${slots.length} faces as ${label}`, encodeRelabel(encodeString(label, 'the label'), this.packHashes(slots)));
    const id = this.internLabel(label);
    for (const s of slots) this.labelId[s] = id;
  }

  /** Empties the gallery (the journal too). */
  clear(): void {
    this.usable();
    try {
      // The log first: once it holds no entries, whatever the data files still hold is garbage the next open cuts off.
      this.files.log.truncate(LOG_HEADER_BYTES);
      this.files.log.flush();
      for (const f of [this.files.stage1, this.files.faces, this.files.journal]) {
        f.truncate(0);
        f.flush();
      }
    } catch (e) {
      this.failure = storageError(e, `clearing ${this.galleryName}`);
      throw this.failure;
    }
    this.resetMemory();
  }

  stats(): FaceRecordStoreStats {
    this.usable();
    let deadFaces = 0;
    let deadBytes = 0;
    const slots = this.index.count;
    for (let s = 0; s < slots; s++) {
      if (this.live[s] === 1) continue;
      deadFaces++;
      deadBytes += this.rowBytes + this.detailLength[s] + this.thumbnailLength[s];
    }
    const arrays = [this.dataOffset, this.detailLength, this.thumbnailLength, this.addedAt, this.labelId, this.typeId, this.live, this.namePool, this.nameStart, this.nameLength];
    return this.io(`measuring ${this.galleryName}`, () => ({
      stage1Bytes: this.files.stage1.size(),
      facesBytes: this.files.faces.size(),
      logBytes: this.files.log.size(),
      journalBytes: this.files.journal.size(),
      liveFaces: this.liveCount,
      deadFaces,
      deadBytes,
      indexBytes: this.index.byteLength + arrays.reduce((s, a) => s + a.byteLength, 0),
    }));
  }

  /** The journal last written, or undefined (none, or a write torn by a crash). */
  readJournal(): ImportJournal | undefined {
    this.usable();
    return this.io(`reading the import progress of ${this.galleryName}`, () => {
      const file = this.files.journal;
      const size = file.size();
      if (size < 8) return undefined;
      const bytes = readFully(file, new Uint8Array(size), 0, JOURNAL_FILE);
      const view = new DataView(bytes.buffer);
      const length = view.getUint32(0, true);
      if (8 + length > size || CRC32.buf(bytes.subarray(8, 8 + length)) !== view.getInt32(4, true)) return undefined;
      // The CRC matched, so these are bytes writeJournal wrote: JSON.parse cannot fail on them.
      const parsed: unknown = JSON.parse(decoder.decode(bytes.subarray(8, 8 + length)));
      return isImportJournal(parsed) ? parsed : undefined;
    });
  }

  /** Replaces the journal: length, CRC and JSON in one write, so a torn write reads back as no journal rather than a wrong one. */
  writeJournal(journal: ImportJournal): void {
    this.usable();
    const json = encoder.encode(JSON.stringify({ modelKey: journal.modelKey, total: journal.total, done: journal.done, startedAt: journal.startedAt }));
    const bytes = new Uint8Array(8 + json.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, json.length, true);
    view.setInt32(4, CRC32.buf(json), true);
    bytes.set(json, 8);
    this.io('noting the import progress', () => {
      writeFully(this.files.journal, bytes, 0);
      this.files.journal.truncate(bytes.length);
      this.files.journal.flush();
    });
  }

  clearJournal(): void {
    this.usable();
    this.io('clearing the import progress', () => {
      this.files.journal.truncate(0);
      this.files.journal.flush();
    });
  }

  /**
   * Rewrites the live faces, without the bytes of deleted ones, into the next
   * generation's files, then moves to them. Crash-safe: the old files stay
   * the gallery until the old log's compact entry is flushed (see the top of
   * this file). On failure (quota: the new files need room for every live face)
   * the store goes on with the old files.
   */
  async compact(): Promise<void> {
    this.usable();
    const old = this.files;
    const generation = old.generation + 1;
    const names = generationFiles(generation);
    const opened: RandomAccessFile[] = [];
    const discard = async () => {
      for (const f of opened) f.close();
      await FaceRecordStore.removeGeneration(this.dir, generation);
    };
    try {
      for (const n of [names.stage1, names.faces, names.log]) opened.push(await this.dir.open(n));
      const [stage1, faces, log] = opened;
      for (const f of opened) f.truncate(0);
      this.writeCompacted(stage1, faces, log);
      for (const f of opened) f.flush();
    } catch (e) {
      const error = storageError(e, `compacting ${this.galleryName}`);
      try {
        await discard();
      } catch (cleanupError) {
        // Left-over files of an unfinished generation are removed by the next open.
        console.warn(`removing the unfinished compaction of ${this.galleryName}`, cleanupError);
      }
      throw error;
    }
    // The commit point. If it fails the entry is cut off again by commit(), and the new files are dropped.
    try {
      this.commitLog(`compacting ${this.galleryName}`, encodeCompacted(generation));
    } catch (e) {
      if (this.failure === null) await discard();
      throw e;
    }
    const [stage1, faces, log] = opened;
    try {
      for (const f of [old.stage1, old.faces, old.log]) f.close();
      await FaceRecordStore.removeGeneration(this.dir, old.generation);
      this.files = { generation, stage1, faces, log, journal: old.journal };
      this.resetMemory();
      if (this.replay() !== null) throw new Error('the new generation is already compacted');
    } catch (e) {
      // Committed, but this store's view is gone: reopening finishes the move (it follows the compact entry).
      this.failure = storageError(e, `finishing the compaction of ${this.galleryName}`);
      throw this.failure;
    }
  }

  /** Writes every live face, in slot order, as the new generation's rows, records and add entries. */
  private writeCompacted(stage1: RandomAccessFile, faces: RandomAccessFile, log: RandomAccessFile): void {
    const rowOut = new ChunkWriter(stage1, 0, this.liveCount * this.rowBytes);
    const dataOut = new ChunkWriter(faces, 0, this.facesEnd);
    const logOut = new ChunkWriter(log, 0, this.logEnd);
    logOut.push(encodeHeader(this.rowBytes));
    const dataIn = new ChunkReader(this.files.faces, FACES_FILE, this.facesEnd);
    const rowsIn = new ChunkReader(this.files.stage1, STAGE1_FILE, this.index.count * this.rowBytes);
    const labelBytes = new Map<number, Uint8Array>();
    const typeBytes = new Map<number, Uint8Array>();
    const slots = this.index.count;
    let position = 0;
    let offset = 0;
    for (let s = 0; s < slots; s++) {
      if (this.live[s] !== 1) continue;
      const length = this.detailLength[s] + this.thumbnailLength[s];
      rowOut.push(rowsIn.view(s * this.rowBytes, this.rowBytes));
      if (length > 0) dataOut.push(dataIn.view(this.dataOffset[s], length));
      let label = labelBytes.get(this.labelId[s]);
      if (!label) labelBytes.set(this.labelId[s], (label = encoder.encode(this.labels[this.labelId[s]])));
      let type = typeBytes.get(this.typeId[s]);
      if (!type) typeBytes.set(this.typeId[s], (type = encoder.encode(this.types[this.typeId[s]])));
      const start = this.nameStart[s];
      const payload = encodeAdd({
        slot: position,
        hash: this.index.bytes(s),
        hashAt: 0,
        addedAt: this.addedAt[s],
        dataOffset: offset,
        detailLength: this.detailLength[s],
        thumbnailLength: this.thumbnailLength[s],
        label,
        fileName: this.namePool.subarray(start, start + this.nameLength[s]),
        thumbnailType: type,
      });
      logOut.push(frameEntries([payload]));
      position++;
      offset += length;
    }
    rowOut.finish();
    dataOut.finish();
    logOut.finish();
  }

  /** Closes the files (the OPFS handles lock them until then). The store is unusable afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    let first: unknown = null;
    for (const f of [this.files.stage1, this.files.faces, this.files.log, this.files.journal]) {
      try {
        f.close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== null) throw storageError(first, `closing ${this.galleryName}`);
  }

  // ---- internals ----

  /** Replays the log into memory; returns the generation a committed compaction moved the gallery to, or null. */
  private replay(): number | null {
    const { stage1, faces, log } = this.files;
    const logSize = log.size();
    const stage1Size = stage1.size();
    const facesSize = faces.size();
    const header = logSize >= LOG_HEADER_BYTES ? decodeHeader(readFully(log, new Uint8Array(LOG_HEADER_BYTES), 0, LOG_FILE)) : null;
    // A log without entries holds no faces, so its header may be (re)written: a new gallery, one whose creation (or an
    // earlier header rewrite) was cut short, or an empty gallery now opened for a recognizer with another row size.
    if (logSize <= LOG_HEADER_BYTES && (header === null || !header.ok || header.stage1RowBytes !== this.rowBytes)) {
      log.truncate(0);
      writeFully(log, encodeHeader(this.rowBytes), 0);
      log.flush();
    } else if (header !== null && !header.ok) {
      throw new AppError('storage-failed', `the commit log of ${this.galleryName} cannot be read: ${header.why}`, 'Clear this gallery (or the site data) and import the images again.');
    } else if (header !== null && header.stage1RowBytes !== this.rowBytes) {
      throw new AppError(
        'storage-failed',
        `${this.galleryName} holds stage-1 rows of ${header.stage1RowBytes} bytes, but this recognizer needs ${this.rowBytes}`,
        'The gallery was written for another recognizer or app version: clear it and import the images again.',
      );
    }
    // Add entries are at least ~80 bytes: sizing the per-slot arrays for that spares a dozen doublings of each while replaying a large log.
    this.reserve(Math.ceil((logSize - LOG_HEADER_BYTES) / (ADD_FIXED_BYTES + 8 + 16)));
    let compactedTo: number | null = null;
    const scanned =
      logSize <= LOG_HEADER_BYTES
        ? { end: LOG_HEADER_BYTES, why: 'end' as const }
        : scanLog(log, LOG_HEADER_BYTES, logSize, (buf, view, at, length) => {
            // Nothing is written after a compact entry; bytes there would be damage, and this generation is done with anyway.
            if (compactedTo !== null) return 'end';
            if (buf[at] === ENTRY_COMPACTED) {
              if (length !== 5) return 'bad-entry';
              const next = view.getUint32(at + 1, true);
              if (next !== this.files.generation + 1) return 'bad-entry';
              compactedTo = next;
              return null;
            }
            return this.apply(buf, view, at, length, stage1Size, facesSize);
          });
    // This generation is finished: open() goes on to the next one and removes these files, so nothing here needs cutting.
    if (compactedTo !== null) return compactedTo;
    this.logEnd = scanned.end;
    const stage1End = this.index.count * this.rowBytes;
    this._recovery = {
      stoppedAt: scanned.why,
      droppedLogBytes: Math.max(0, logSize - scanned.end),
      droppedStage1Bytes: stage1Size - stage1End,
      droppedFacesBytes: facesSize - this.facesEnd,
    };
    // Bytes past what committed entries reference are the garbage of an interrupted append (or follow damage): cut them so the next append starts clean.
    if (logSize > scanned.end) {
      log.truncate(scanned.end);
      log.flush();
    }
    if (stage1Size > stage1End) {
      stage1.truncate(stage1End);
      stage1.flush();
    }
    if (facesSize > this.facesEnd) {
      faces.truncate(this.facesEnd);
      faces.flush();
    }
    return null;
  }

  /** Applies one log entry during replay; returns why to stop instead when it does not fit the files. */
  private apply(buf: Uint8Array, view: DataView, at: number, length: number, stage1Size: number, facesSize: number): LogEnd | null {
    const kind = buf[at];
    if (kind === ENTRY_ADD) {
      if (length < ADD_FIXED_BYTES + 6) return 'bad-entry';
      const slot = view.getUint32(at + 1, true);
      const hashAt = at + 5;
      const addedAt = view.getFloat64(at + 5 + HASH_BYTES, true);
      const dataOffset = view.getFloat64(at + 13 + HASH_BYTES, true);
      const detailLength = view.getUint32(at + 21 + HASH_BYTES, true);
      const thumbnailLength = view.getUint32(at + 25 + HASH_BYTES, true);
      let p = at + ADD_FIXED_BYTES;
      const end = at + length;
      const labelLength = view.getUint16(p, true);
      const labelAt = p + 2;
      p = labelAt + labelLength;
      if (p + 2 > end) return 'bad-entry';
      const nameLength = view.getUint16(p, true);
      const nameAt = p + 2;
      p = nameAt + nameLength;
      if (p + 2 > end) return 'bad-entry';
      const typeLength = view.getUint16(p, true);
      const typeAt = p + 2;
      if (typeAt + typeLength !== end) return 'bad-entry';
      // Slots and records are appended in order: anything else is not an entry this store wrote.
      if (slot !== this.index.count || dataOffset !== this.facesEnd) return 'bad-entry';
      const existing = this.index.find(buf, hashAt);
      if (existing >= 0 && this.live[existing] === 1) return 'bad-entry';
      if ((slot + 1) * this.rowBytes > stage1Size || dataOffset + detailLength + thumbnailLength > facesSize) return 'missing-data';
      const label = this.replayLabel(buf, labelAt, labelLength);
      const type = this.replayType(buf, typeAt, typeLength);
      this.addSlot(buf, hashAt, dataOffset, detailLength, thumbnailLength, addedAt, label, type, buf, nameAt, nameLength);
      this.facesEnd = dataOffset + detailLength + thumbnailLength;
      return null;
    }
    if (kind === ENTRY_DELETE) {
      if (length < 5) return 'bad-entry';
      const n = view.getUint32(at + 1, true);
      if (length !== 5 + n * HASH_BYTES) return 'bad-entry';
      for (let i = 0; i < n; i++) {
        const s = this.index.find(buf, at + 5 + i * HASH_BYTES);
        if (s >= 0 && this.live[s] === 1) {
          this.live[s] = 0;
          this.liveCount--;
        }
      }
      return null;
    }
    if (kind === ENTRY_RELABEL) {
      if (length < 7) return 'bad-entry';
      const labelLength = view.getUint16(at + 1, true);
      if (length < 7 + labelLength) return 'bad-entry';
      const n = view.getUint32(at + 3 + labelLength, true);
      const first = at + 7 + labelLength;
      if (length !== 7 + labelLength + n * HASH_BYTES) return 'bad-entry';
      const label = this.internLabel(decoder.decode(buf.subarray(at + 3, at + 3 + labelLength)));
      for (let i = 0; i < n; i++) {
        const s = this.index.find(buf, first + i * HASH_BYTES);
        if (s >= 0 && this.live[s] === 1) this.labelId[s] = label;
      }
      return null;
    }
    return 'bad-entry';
  }

  private addSlot(
    hash: Uint8Array,
    hashAt: number,
    dataOffset: number,
    detailLength: number,
    thumbnailLength: number,
    addedAt: number,
    label: number,
    type: number,
    name: Uint8Array,
    nameAt: number,
    nameLength: number,
  ): void {
    const slot = this.index.add(hash, hashAt);
    if (this.live.length <= slot) this.reserve(slot + 1);
    if (this.namePoolEnd + nameLength > this.namePool.length) this.namePool = grown(this.namePool, this.namePoolEnd + nameLength, (k) => new Uint8Array(k));
    const pool = this.namePool;
    const poolAt = this.namePoolEnd;
    for (let i = 0; i < nameLength; i++) pool[poolAt + i] = name[nameAt + i];
    this.nameStart[slot] = poolAt;
    this.nameLength[slot] = nameLength;
    this.namePoolEnd += nameLength;
    this.dataOffset[slot] = dataOffset;
    this.detailLength[slot] = detailLength;
    this.thumbnailLength[slot] = thumbnailLength;
    this.addedAt[slot] = addedAt;
    this.labelId[slot] = label;
    this.typeId[slot] = type;
    this.live[slot] = 1;
    this.liveCount++;
  }

  /** Grows the per-slot arrays to hold `need` slots. */
  private reserve(need: number): void {
    this.index.reserve(need);
    if (this.live.length < need) {
      this.dataOffset = grown(this.dataOffset, need, (k) => new Float64Array(k));
      this.detailLength = grown(this.detailLength, need, (k) => new Uint32Array(k));
      this.thumbnailLength = grown(this.thumbnailLength, need, (k) => new Uint32Array(k));
      this.addedAt = grown(this.addedAt, need, (k) => new Float64Array(k));
      this.labelId = grown(this.labelId, need, (k) => new Uint32Array(k));
      this.typeId = grown(this.typeId, need, (k) => new Uint16Array(k));
      this.live = grown(this.live, need, (k) => new Uint8Array(k));
      this.nameStart = grown(this.nameStart, need, (k) => new Uint32Array(k));
      this.nameLength = grown(this.nameLength, need, (k) => new Uint16Array(k));
    }
  }

  // Imports add runs of faces with one label and nearly always one thumbnail type: replay compares the raw bytes with the
  // previous entry's before decoding and hashing a new string.
  private lastLabel = { bytes: new Uint8Array(0), id: -1 };
  private lastType = { bytes: new Uint8Array(0), id: -1 };

  private replayLabel(buf: Uint8Array, at: number, length: number): number {
    return this.cachedIntern(this.lastLabel, buf, at, length, (s) => this.internLabel(s));
  }

  private replayType(buf: Uint8Array, at: number, length: number): number {
    return this.cachedIntern(this.lastType, buf, at, length, (s) => this.internType(s));
  }

  private cachedIntern(last: { bytes: Uint8Array; id: number }, buf: Uint8Array, at: number, length: number, intern: (s: string) => number): number {
    if (last.id >= 0 && last.bytes.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (last.bytes[i] !== buf[at + i]) {
          same = false;
          break;
        }
      }
      if (same) return last.id;
    }
    last.bytes = buf.slice(at, at + length);
    last.id = intern(decoder.decode(last.bytes));
    return last.id;
  }

  private internLabel(label: string): number {
    let id = this.labelIds.get(label);
    if (id === undefined) {
      id = this.labels.length;
      this.labels.push(label);
      this.labelIds.set(label, id);
    }
    return id;
  }

  private internType(type: string): number {
    let id = this.typeIds.get(type);
    if (id === undefined) {
      if (this.types.length > 0xffff) throw new AppError('invalid-argument', 'more than 65536 thumbnail types', 'Store thumbnails as JPEG, PNG or WebP.');
      id = this.types.length;
      this.types.push(type);
      this.typeIds.set(type, id);
    }
    return id;
  }

  private metaOf(slot: number, hash: string): FaceRecordMeta {
    return {
      hash,
      label: this.labels[this.labelId[slot]],
      fileName: this.nameOf(slot),
      addedAt: this.addedAt[slot],
    };
  }

  private liveSlot(hash: string): number {
    this.usable();
    if (!parseHash(hash, this.scratchHash, 0)) return -1;
    const slot = this.index.find(this.scratchHash, 0);
    return slot >= 0 && this.live[slot] === 1 ? slot : -1;
  }

  private requireSlot(hash: string): number {
    const slot = this.liveSlot(hash);
    if (slot < 0) throw new AppError('unknown-id', `no face with content hash ${hash} in ${this.galleryName}`, 'The face may have been removed: refresh the gallery view.');
    return slot;
  }

  /** Live slots of the hashes, each once. */
  private liveSlots(hashes: readonly string[]): number[] {
    this.usable();
    const slots = new Set<number>();
    for (const h of hashes) {
      const s = this.liveSlot(h);
      if (s >= 0) slots.add(s);
    }
    return [...slots];
  }

  private packHashes(slots: readonly number[]): Uint8Array {
    const out = new Uint8Array(slots.length * HASH_BYTES);
    slots.forEach((s, i) => out.set(this.index.bytes(s), i * HASH_BYTES));
    return out;
  }

  private commitLog(what: string, payload: Uint8Array): void {
    const bytes = frameEntries([payload]);
    this.commit(what, () => {
      writeFully(this.files.log, bytes, this.logEnd);
      this.files.log.flush();
    });
    this.logEnd += bytes.length;
  }

  /**
   * Runs a write; when it throws, cuts every file back to where it was so the
   * store is as before (a quota error leaves nothing half-committed). If even
   * that fails, memory and files may disagree: the store refuses further use
   * until reopened, which replays the log.
   */
  private commit(what: string, write: () => void): void {
    const before = { stage1: this.index.count * this.rowBytes, faces: this.facesEnd, log: this.logEnd };
    try {
      write();
    } catch (e) {
      const error = storageError(e, what);
      try {
        // The log first: its entries are what commits, so once they are gone the data files' tails are harmless garbage.
        this.files.log.truncate(before.log);
        this.files.log.flush();
        this.files.stage1.truncate(before.stage1);
        this.files.faces.truncate(before.faces);
        this.files.stage1.flush();
        this.files.faces.flush();
      } catch (undoError) {
        console.warn(`could not undo a failed write to ${this.galleryName}`, undoError);
        this.failure = new AppError('storage-failed', `${this.galleryName} could not be restored after a failed write (${error.message})`, RELOAD_HINT, { cause: undoError });
      }
      throw error;
    }
  }

  private io<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  private usable(): void {
    if (this.closed) throw new AppError('storage-failed', `${this.galleryName} was closed`, 'This is a bug in the app; please report it with the steps that led here.');
    if (this.failure) throw this.failure;
  }

  private resetMemory(): void {
    this.index.reset();
    this.live.fill(0);
    this.namePoolEnd = 0;
    this.labels = [];
    this.labelIds.clear();
    this.types = [];
    this.typeIds.clear();
    this.lastLabel = { bytes: new Uint8Array(0), id: -1 };
    this.lastType = { bytes: new Uint8Array(0), id: -1 };
    this.liveCount = 0;
    this.facesEnd = 0;
    this.logEnd = LOG_HEADER_BYTES;
  }
}

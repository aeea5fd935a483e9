/** A growable row-major float matrix: append rows, drop rows keeping order. */
export class RowStore {
  private buf: Float32Array;
  private count = 0;

  constructor(
    readonly rowLength: number,
    initialRows = 16,
  ) {
    this.buf = new Float32Array(rowLength * Math.max(1, initialRows));
  }

  get rows(): number {
    return this.count;
  }

  /** Appends a row and returns the view where it now lives. */
  append(row: ArrayLike<number>): void {
    if ((this.count + 1) * this.rowLength > this.buf.length) {
      const grown = new Float32Array(Math.max(this.buf.length * 2, (this.count + 1) * this.rowLength));
      grown.set(this.buf.subarray(0, this.count * this.rowLength));
      this.buf = grown;
    }
    this.buf.set(row, this.count * this.rowLength);
    this.count++;
  }

  /** A view of row i (valid until the next append or remove). */
  row(i: number): Float32Array {
    return this.buf.subarray(i * this.rowLength, (i + 1) * this.rowLength);
  }

  removeRows(drop: ReadonlySet<number>): void {
    let write = 0;
    for (let read = 0; read < this.count; read++) {
      if (drop.has(read)) continue;
      if (write !== read) this.buf.copyWithin(write * this.rowLength, read * this.rowLength, (read + 1) * this.rowLength);
      write++;
    }
    this.count = write;
  }

  clear(): void {
    this.count = 0;
  }
}

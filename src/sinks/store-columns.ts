/**
 * Column buffers for filling a DuckDB DataChunk from JS without a native call or an allocation per value.
 *
 * node-api's vector classes keep every value in a JS array and hand strings over one native call each, and its
 * 64-bit vectors take a BigInt per value; at the store's ~30 columns that was most of the sink's time (bench
 * sink-duckdb). Here fixed-width values are written into plain typed arrays (64-bit ones as two 32-bit halves) and
 * copied into the vector once per chunk, and strings of up to 12 bytes are written as DuckDB's inlined `string_t`
 * (4-byte length, then the bytes, zero padded), so only longer strings cost a native call each.
 */
import duckdb from '@duckdb/node-bindings';

/** Rows per chunk: DuckDB's vector size. */
export const CHUNK_ROWS = 2048;
const WORDS = CHUNK_ROWS / 32;
const TWO32 = 4294967296;
/** The longest string DuckDB keeps inside its 16-byte `string_t`. */
const INLINE = 12;

/** Validity bits (DuckDB's uint64 words are little-endian, so 32-bit words map bit for bit). */
abstract class Column {
  protected readonly valid = new Uint32Array(WORDS);

  constructor(readonly nullable: boolean) {}

  /** Before the first row of a chunk. */
  start(): void {
    if (this.nullable) this.valid.fill(0xffffffff);
  }

  /** Copies the chunk's first `n` rows into `vec`. */
  abstract finish(vec: duckdb.Vector, n: number): void;

  protected finishValidity(vec: duckdb.Vector, n: number): void {
    if (!this.nullable) return;
    duckdb.vector_ensure_validity_writable(vec);
    duckdb.copy_data_to_vector_validity(vec, 0, this.valid.buffer, 0, Math.ceil(n / 64) * 8);
  }

  protected clearValid(row: number): void {
    this.valid[row >>> 5] &= ~(1 << (row & 31));
  }
}

/** BOOLEAN, UTINYINT, USMALLINT, UINTEGER: one number per row. */
export class SmallIntColumn extends Column {
  private readonly data: Uint8Array | Uint16Array | Uint32Array;
  private readonly buffer: ArrayBuffer;

  constructor(bytes: 1 | 2 | 4, nullable: boolean) {
    super(nullable);
    this.buffer = new ArrayBuffer(CHUNK_ROWS * bytes);
    this.data = bytes === 1 ? new Uint8Array(this.buffer) : bytes === 2 ? new Uint16Array(this.buffer) : new Uint32Array(this.buffer);
  }

  set(row: number, v: number): void {
    this.data[row] = v;
  }

  setNull(row: number): void {
    this.data[row] = 0;
    this.clearValid(row);
  }

  finish(vec: duckdb.Vector, n: number): void {
    duckdb.copy_data_to_vector(vec, 0, this.buffer, 0, n * this.data.BYTES_PER_ELEMENT);
    this.finishValidity(vec, n);
  }
}

/** BIGINT, UBIGINT, TIMESTAMP (µs): a number is written as two 32-bit halves, a bigint as it is. */
export class Int64Column extends Column {
  private readonly halves = new Uint32Array(CHUNK_ROWS * 2);
  private readonly big = new BigInt64Array(this.halves.buffer);
  private readonly ubig = new BigUint64Array(this.halves.buffer);

  /** A non-negative safe integer. */
  set(row: number, v: number): void {
    const lo = v % TWO32;
    this.halves[row * 2] = lo;
    this.halves[row * 2 + 1] = (v - lo) / TWO32;
  }

  /** A u64 given as its big-endian 32-bit halves (as read from a record). */
  setHalves(row: number, hi: number, lo: number): void {
    this.halves[row * 2] = lo;
    this.halves[row * 2 + 1] = hi;
  }

  /** Unsigned columns: 0 ≤ v < 2^64. Signed ones: any int64. */
  setBig(row: number, v: bigint): void {
    if (v < 0n) this.big[row] = v;
    else this.ubig[row] = v;
  }

  setNull(row: number): void {
    this.halves[row * 2] = 0;
    this.halves[row * 2 + 1] = 0;
    this.clearValid(row);
  }

  finish(vec: duckdb.Vector, n: number): void {
    duckdb.copy_data_to_vector(vec, 0, this.halves.buffer, 0, n * 8);
    this.finishValidity(vec, n);
  }
}

/**
 * VARCHAR, JSON, BLOB. Short values are inlined into the chunk's `string_t` array; longer ones are kept (as the
 * string or the bytes given, no copy) and handed to DuckDB after that array is copied in, which they overwrite.
 */
export class StringColumn extends Column {
  private readonly slots = new Uint8Array(CHUNK_ROWS * 16);
  private readonly lens = new Uint32Array(this.slots.buffer);
  private readonly longRows = new Int32Array(CHUNK_ROWS);
  private readonly longValues: (string | Uint8Array)[] = new Array(CHUNK_ROWS).fill('');
  private longCount = 0;

  override start(): void {
    super.start();
    this.longCount = 0;
  }

  /** A JS string (UTF-8 in the store). ASCII strings of up to 12 characters are inlined. */
  setText(row: number, s: string): void {
    const n = s.length;
    if (n <= INLINE) {
      const o = row * 16;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        this.slots[o + 4 + i] = c;
      }
      if (i === n) {
        this.lens[row * 4] = n;
        for (let j = o + 4 + n; j < o + 16; j++) this.slots[j] = 0;
        return;
      }
    }
    this.addLong(row, s);
  }

  /** Bytes (a view is fine: they are copied before the chunk is appended). */
  setBytes(row: number, b: Uint8Array, start = 0, end = b.length): void {
    const n = end - start;
    if (n > INLINE) {
      this.addLong(row, start === 0 && end === b.length ? b : b.subarray(start, end));
      return;
    }
    const o = row * 16;
    this.lens[row * 4] = n;
    for (let i = 0; i < n; i++) this.slots[o + 4 + i] = b[start + i];
    for (let j = o + 4 + n; j < o + 16; j++) this.slots[j] = 0;
  }

  setNull(row: number): void {
    this.zero(row);
    this.clearValid(row);
  }

  finish(vec: duckdb.Vector, n: number): void {
    duckdb.copy_data_to_vector(vec, 0, this.slots.buffer, 0, n * 16);
    for (let i = 0; i < this.longCount; i++) {
      const v = this.longValues[i];
      if (typeof v === 'string') duckdb.vector_assign_string_element(vec, this.longRows[i], v);
      else duckdb.vector_assign_string_element_len(vec, this.longRows[i], v);
      this.longValues[i] = '';
    }
    this.longCount = 0;
    this.finishValidity(vec, n);
  }

  private addLong(row: number, v: string | Uint8Array): void {
    this.zero(row);
    this.longRows[this.longCount] = row;
    this.longValues[this.longCount++] = v;
  }

  private zero(row: number): void {
    const w = row * 4;
    this.lens[w] = 0;
    this.lens[w + 1] = 0;
    this.lens[w + 2] = 0;
    this.lens[w + 3] = 0;
  }
}

export type AnyColumn = SmallIntColumn | Int64Column | StringColumn;

/** The buffer for a column of the given SQL type (store-schema.ts RECORD_COLUMNS). */
export function columnFor(sqlType: string): AnyColumn {
  const nullable = !/NOT NULL/.test(sqlType);
  const base = sqlType.split(' ')[0];
  switch (base) {
    case 'BOOLEAN':
    case 'UTINYINT':
      return new SmallIntColumn(1, nullable);
    case 'USMALLINT':
      return new SmallIntColumn(2, nullable);
    case 'UINTEGER':
      return new SmallIntColumn(4, nullable);
    case 'BIGINT':
    case 'UBIGINT':
    case 'TIMESTAMP':
      return new Int64Column(nullable);
    case 'VARCHAR':
    case 'JSON':
    case 'BLOB':
      return new StringColumn(nullable);
    default:
      throw new Error(`store column type ${sqlType} has no chunk writer`);
  }
}

/** The raw vector of column `i` of a chunk (node-api's DuckDBDataChunk.chunk). */
export function chunkVector(chunk: duckdb.DataChunk, i: number): duckdb.Vector {
  return duckdb.data_chunk_get_vector(chunk, i);
}

export function setChunkSize(chunk: duckdb.DataChunk, n: number): void {
  duckdb.data_chunk_set_size(chunk, n);
}

// Tiny, bounds-checked big-endian Reader and Writer for the hand-written codecs.
//
// The Reader separates the two ways a read can fail: past the end of the bytes available (throws
// NeedMoreBytes: a longer prefix might still decode) and past `maxLength`, the format's own limit
// (throws WireError 'TOO_LARGE': no amount of further bytes helps). Decoders catch both and turn them
// into a DecodeResult; neither ever escapes a decoder.
import { type DecodeResult, decodeError, needMore } from './decode-result.ts';
import { WireError } from './errors.ts';

/** Thrown by Reader when the input ends early. Decoders catch it and answer needMore. */
export class NeedMoreBytes extends Error {
  constructor() {
    super('need more bytes');
    this.name = 'NeedMoreBytes';
  }
}

export class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #maxLength: number;
  #pos = 0;

  constructor(bytes: Uint8Array, maxLength: number = Number.POSITIVE_INFINITY) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#maxLength = maxLength;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes available and not yet read. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  u8(): number {
    this.#need(1);
    const v = this.#view.getUint8(this.#pos);
    this.#pos += 1;
    return v;
  }

  u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#pos);
    this.#pos += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  u64(): bigint {
    this.#need(8);
    const v = this.#view.getBigUint64(this.#pos);
    this.#pos += 8;
    return v;
  }

  /** A copy of the next `n` bytes (never a view into the input, which the caller may reuse). */
  bytes(n: number): Uint8Array {
    this.#need(n);
    const v = copyBytes(this.#bytes, this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#maxLength) {
      throw new WireError('TOO_LARGE', `encoding exceeds its limit of ${this.#maxLength} bytes`);
    }
    if (this.#pos + n > this.#bytes.length) throw new NeedMoreBytes();
  }
}

export class Writer {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  u8(v: number): this {
    checkUint(v, 0xff, 'u8');
    this.#grow(1);
    this.#view.setUint8(this.#len, v);
    this.#len += 1;
    return this;
  }

  u16(v: number): this {
    checkUint(v, 0xffff, 'u16');
    this.#grow(2);
    this.#view.setUint16(this.#len, v);
    this.#len += 2;
    return this;
  }

  u32(v: number): this {
    checkUint(v, 0xffffffff, 'u32');
    this.#grow(4);
    this.#view.setUint32(this.#len, v);
    this.#len += 4;
    return this;
  }

  u64(v: bigint): this {
    if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) {
      throw new WireError('BAD_FIELD', `${String(v)} is not a u64`);
    }
    this.#grow(8);
    this.#view.setBigUint64(this.#len, v);
    this.#len += 8;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.#grow(v.length);
    this.#buf.set(v, this.#len);
    this.#len += v.length;
    return this;
  }

  /** A copy of everything written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  #grow(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new WireError('BAD_FIELD', `${v} is not a ${what}`);
}

/**
 * A copy of bytes[start, end) as a plain Uint8Array. Not `bytes.slice()`: on a Node Buffer (what
 * Buffer.concat, fs and sockets give) slice is a view, so a "copy" would change with its source.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

/** Concatenation into a fresh Uint8Array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Plain (not constant-time) equality of two byte strings: for public data only. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Runs a decoder written against Reader and answers as every decoder must: running out of bytes is
 * needMore, a WireError is its code, anything else is INTERNAL. Never throws.
 */
export function guardDecode<T>(decode: () => DecodeResult<T>): DecodeResult<T> {
  try {
    return decode();
  } catch (err) {
    if (err instanceof NeedMoreBytes) return needMore;
    if (err instanceof WireError) return decodeError(err.code, err.message);
    return decodeError('INTERNAL', `unexpected decoder failure: ${String(err)}`);
  }
}

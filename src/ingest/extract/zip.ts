/**
 * A minimal ZIP reader for DOCX: lists entries from the central directory and inflates one
 * entry with hard limits. It does not trust the sizes an archive declares — a zip bomb can lie
 * about them — so inflation streams in small slices and stops as soon as the real output passes
 * the byte cap or the compression-ratio cap.
 */
import { Inflate } from 'fflate';

export interface ZipEntry {
  name: string;
  method: number;
  encrypted: boolean;
  compressedSize: number;
  /** As declared by the archive: a hint for early rejection, never trusted as a bound. */
  declaredSize: number;
  localHeaderOffset: number;
}

export interface InflateLimits {
  /** Most bytes this entry may inflate to. */
  maxBytes: number;
  /** Most output bytes per compressed byte, checked once the output passes 1 MB. */
  maxRatio: number;
}

/** The archive is not a readable ZIP. */
export class ZipFormatError extends Error {}

/** An entry would inflate past its limits. */
export class ZipLimitError extends Error {}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const SLICE = 4096; // ≤ ~4 MB of output per push even at deflate's ~1032:1 maximum ratio
const RATIO_GRACE_BYTES = 1024 * 1024;

function reader(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const check = (offset: number, length: number) => {
    if (offset < 0 || offset + length > bytes.length) throw new ZipFormatError('ZIP structure points outside the file');
  };
  return {
    u16: (offset: number) => (check(offset, 2), view.getUint16(offset, true)),
    u32: (offset: number) => (check(offset, 4), view.getUint32(offset, true)),
  };
}

/** Lists the entries of a ZIP archive from its central directory. Throws ZipFormatError. */
export function listZip(bytes: Uint8Array): ZipEntry[] {
  const { u16, u32 } = reader(bytes);
  let end = bytes.length - 22;
  const stop = Math.max(0, bytes.length - 22 - 0xffff);
  while (end >= stop && !(end >= 0 && u32(end) === EOCD)) end--;
  if (end < stop) throw new ZipFormatError('no ZIP end-of-central-directory record');
  const count = u16(end + 10);
  let offset = u32(end + 16);
  if (count === 0xffff || offset === 0xffffffff) throw new ZipFormatError('ZIP64 archives are not supported');
  const names = new TextDecoder();
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (u32(offset) !== CENTRAL) throw new ZipFormatError('damaged ZIP central directory');
    const nameLength = u16(offset + 28);
    const headerLength = 46 + nameLength + u16(offset + 30) + u16(offset + 32);
    if (offset + headerLength > bytes.length) throw new ZipFormatError('damaged ZIP central directory');
    entries.push({
      name: names.decode(bytes.subarray(offset + 46, offset + 46 + nameLength)),
      method: u16(offset + 10),
      encrypted: (u16(offset + 8) & 1) === 1,
      compressedSize: u32(offset + 20),
      declaredSize: u32(offset + 24),
      localHeaderOffset: u32(offset + 42),
    });
    offset += headerLength;
  }
  return entries;
}

/** Inflates one entry, enforcing `limits` on the real output. Throws ZipFormatError or ZipLimitError. */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, limits: InflateLimits): Uint8Array {
  const { u16, u32 } = reader(bytes);
  const local = entry.localHeaderOffset;
  if (u32(local) !== LOCAL) throw new ZipFormatError(`damaged ZIP entry ${entry.name}`);
  const start = local + 30 + u16(local + 26) + u16(local + 28);
  if (start + entry.compressedSize > bytes.length) throw new ZipFormatError(`truncated ZIP entry ${entry.name}`);
  const data = bytes.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) {
    if (data.length > limits.maxBytes) throw new ZipLimitError(`${entry.name} is larger than ${limits.maxBytes} bytes`);
    return data;
  }
  if (entry.method !== 8) throw new ZipFormatError(`unsupported ZIP compression method ${entry.method}`);

  const parts: Uint8Array[] = [];
  let total = 0;
  let consumed = 0;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > limits.maxBytes) throw new ZipLimitError(`${entry.name} inflates past ${limits.maxBytes} bytes`);
    if (total > RATIO_GRACE_BYTES && total > consumed * limits.maxRatio) {
      throw new ZipLimitError(`${entry.name} inflates more than ${limits.maxRatio}:1`);
    }
    parts.push(chunk);
  });
  try {
    let at = 0;
    do {
      consumed = Math.min(at + SLICE, data.length);
      inflater.push(data.subarray(at, consumed), consumed === data.length);
      at = consumed;
    } while (at < data.length);
  } catch (err) {
    if (err instanceof ZipLimitError) throw err;
    throw new ZipFormatError(`damaged compressed data in ${entry.name}`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

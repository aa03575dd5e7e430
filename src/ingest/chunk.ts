/**
 * Structure-aware chunking: ExtractedDocument → Chunk[] sized for embedding and citation.
 *
 * Consecutive sections with the same heading path and page form a group; a chunk never spans two
 * groups, so every chunk has one headingPath and one page. Within a group, whole paragraphs are
 * packed up to `targetChars`; a paragraph longer than that is cut at sentence ends and line
 * breaks (which are kept), a sentence longer than that at spaces, and a single over-long "word"
 * (a URL, a base64 blob) by length.
 * Consecutive chunks of a group overlap by up to `overlapChars` taken from the end of the
 * previous chunk, starting at a sentence or word boundary. Pure and deterministic: the same
 * document always yields the same chunks (ingestion relies on that to skip unchanged work).
 */
import { normalizeWhitespace } from './extract/text';
import type { Chunk, DocumentFormat, ExtractedDocument, Section } from './types';

export { normalizeWhitespace };

export interface ChunkOptions {
  /** Picks the size defaults below; defaults to `doc.format`. */
  format?: DocumentFormat;
  /** Upper bound on a chunk's length in characters (overlap included). */
  targetChars?: number;
  /** Characters repeated from the previous chunk of the same group; at most half of targetChars. */
  overlapChars?: number;
}

/**
 * Size defaults per format. CSV records are short and self-contained: small chunks, no overlap.
 * Markdown/plain text are often FAQs where one answer is a few paragraphs: ~1500. Long-form
 * PDF, DOCX and HTML: ~2000. Overlap ≈ 12 %.
 */
export const CHUNK_SIZES: Record<DocumentFormat, { targetChars: number; overlapChars: number }> = {
  csv: { targetChars: 1200, overlapChars: 0 },
  md: { targetChars: 1500, overlapChars: 180 },
  txt: { targetChars: 1500, overlapChars: 180 },
  docx: { targetChars: 2000, overlapChars: 240 },
  pdf: { targetChars: 2000, overlapChars: 240 },
  html: { targetChars: 2000, overlapChars: 240 },
};
const DEFAULT_SIZES = { targetChars: 2000, overlapChars: 240 };

/** A piece to pack, and what joined it to the piece before in the source. */
interface Unit {
  text: string;
  joiner: string;
}

/** Where a long paragraph may be cut: after a sentence end (closing quotes stay with it), or at a line break. */
const BREAK = /(?<=[.!?…。！？]["'”’)\]]*)\s+|\s*\n\s*|(?<=[。！？])(?=\S)/g;
const SENTENCE_END_IN_TAIL = /[.!?…。！？]["'”’)\]]*\s+/;

/** Cuts a string with no usable spaces into slices of `limit`, never inside a surrogate pair. */
function slices(text: string, limit: number): string[] {
  const out: string[] = [];
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + limit, text.length);
    const code = text.charCodeAt(end);
    if (end < text.length && end - start > 1 && code >= 0xdc00 && code <= 0xdfff) end--;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

/** A piece too long for one chunk: its words, and any over-long word in raw slices. */
function words(piece: string, joiner: string, limit: number): Unit[] {
  return piece
    .split(/\s+/)
    .flatMap((word, w) => slices(word, limit).map((text, i) => ({ text, joiner: i > 0 ? '' : w > 0 ? ' ' : joiner })));
}

/** Splits an over-long paragraph into sentences and lines (keeping the separator kind), then words. */
function splitLong(paragraph: string, limit: number): Unit[] {
  const units: Unit[] = [];
  let start = 0;
  let joiner = '\n\n';
  const push = (end: number) => {
    const piece = paragraph.slice(start, end);
    if (!piece) return;
    if (piece.length <= limit) units.push({ text: piece, joiner });
    else units.push(...words(piece, joiner, limit));
  };
  for (const match of paragraph.matchAll(BREAK)) {
    if (match.index === start && !match[0]) continue;
    push(match.index);
    joiner = match[0].includes('\n') ? '\n' : match[0] ? ' ' : '';
    start = match.index + match[0].length;
  }
  push(paragraph.length);
  return units;
}

function unitsOf(sections: Section[], limit: number): Unit[] {
  const units: Unit[] = [];
  for (const section of sections) {
    for (const paragraph of normalizeWhitespace(section.text).split(/\n\n+/)) {
      if (!paragraph) continue;
      if (paragraph.length <= limit) units.push({ text: paragraph, joiner: '\n\n' });
      else units.push(...splitLong(paragraph, limit));
    }
  }
  return units;
}

/** The last ≤ `max` characters of `text`, starting after a sentence end if there is one, else after a space. */
function tail(text: string, max: number): string {
  const limit = Math.min(max, Math.floor(text.length / 2));
  if (limit <= 0) return '';
  const window = text.slice(text.length - limit);
  const sentence = SENTENCE_END_IN_TAIL.exec(window);
  if (sentence && sentence.index + sentence[0].length < window.length)
    return window.slice(sentence.index + sentence[0].length);
  const space = window.search(/\s/);
  return space === -1 ? '' : window.slice(space + 1).trim();
}

function packGroup(units: Unit[], target: number, overlap: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const unit of units) {
    if (!current) {
      current = unit.text;
      continue;
    }
    if (current.length + unit.joiner.length + unit.text.length <= target) {
      current += unit.joiner + unit.text;
      continue;
    }
    out.push(current);
    const repeated = tail(current, Math.min(overlap, target - unit.text.length - unit.joiner.length));
    current = repeated ? repeated + unit.joiner + unit.text : unit.text;
  }
  if (current) out.push(current);
  return out;
}

const groupKey = (s: Section) => `${s.page ?? ''}\u0000${s.headingPath.join('\u0001')}`;

/** Chunks a document; see the file header. Positions run 0..n-1 in document order. */
export function chunkDocument(doc: ExtractedDocument, opts: ChunkOptions = {}): Chunk[] {
  const format = opts.format ?? doc.format;
  const sizes = format ? CHUNK_SIZES[format] : DEFAULT_SIZES;
  const target = Math.max(1, Math.floor(opts.targetChars ?? sizes.targetChars));
  const overlap = Math.max(0, Math.min(Math.floor(opts.overlapChars ?? sizes.overlapChars), Math.floor(target / 2)));

  const chunks: Chunk[] = [];
  for (let start = 0; start < doc.sections.length;) {
    const first = doc.sections[start];
    if (!first) break;
    const key = groupKey(first);
    let end = start + 1;
    while (end < doc.sections.length && groupKey(doc.sections[end] ?? first) === key) end++;
    for (const text of packGroup(unitsOf(doc.sections.slice(start, end), target), target, overlap)) {
      const chunk: Chunk = { position: chunks.length, text, headingPath: [...first.headingPath] };
      if (first.page !== undefined) chunk.page = first.page;
      chunks.push(chunk);
    }
    start = end;
  }
  return chunks;
}

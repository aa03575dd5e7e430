/**
 * CSV (RFC 4180): quoted fields with embedded delimiters, newlines and doubled quotes; CRLF, LF
 * or CR line ends; the delimiter (comma, semicolon, tab or pipe) sniffed from the header line.
 * The first row names the columns and every later row becomes one readable record section,
 * "Name: Ada; Plan: Pro; Price: 10", empty values left out. One linear pass over the text:
 * fields are sliced out, never built character by character.
 */
import { ExtractionError, type ExtractedDocument, type Section } from '../types';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** Picks the candidate delimiter that occurs most often outside quotes in the first line. */
export function sniffDelimiter(text: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (let i = 0; i < text.length && i < 65536; i++) {
    const c = text[i] ?? '';
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && (c === ',' || c === ';' || c === '\t' || c === '|')) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = ',';
  for (const [c, n] of counts) if (n > (counts.get(best) ?? 0)) best = c;
  return best;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Calls `onRow` with the fields of each row in order. Throws ExtractionError('corrupt') on an unterminated quote. */
export function parseCsv(text: string, delimiter: string, onRow: (fields: string[]) => void): void {
  const delim = delimiter.charCodeAt(0);
  const n = text.length;
  let fields: string[] = [];
  let i = 0;
  while (i < n) {
    let value: string;
    if (text.charCodeAt(i) === QUOTE) {
      const opened = i;
      value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) {
          throw new ExtractionError(
            'corrupt',
            `The CSV has a quoted field that never closes (opened on line ${lineOf(text, opened)}).`,
          );
        }
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += text.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += text.slice(from, q);
        i = q + 1;
        break;
      }
      // Stray characters between the closing quote and the delimiter are kept, not fatal.
      const rest = i;
      while (i < n && text.charCodeAt(i) !== delim && text.charCodeAt(i) !== LF && text.charCodeAt(i) !== CR) i++;
      if (i > rest) value += text.slice(rest, i);
    } else {
      const start = i;
      while (i < n && text.charCodeAt(i) !== delim && text.charCodeAt(i) !== LF && text.charCodeAt(i) !== CR) i++;
      value = text.slice(start, i);
    }
    fields.push(value);
    if (i < n && text.charCodeAt(i) === delim) {
      i++;
      if (i === n) fields.push('');
      continue;
    }
    onRow(fields);
    fields = [];
    if (text.charCodeAt(i) === CR) i++;
    if (text.charCodeAt(i) === LF) i++;
  }
}

/** Each data row as "Header: value; …" under an empty heading path. */
export function extractCsv(text: string): ExtractedDocument {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let headers: string[] | undefined;
  const sections: Section[] = [];
  parseCsv(source, sniffDelimiter(source), (fields) => {
    if (fields.every((f) => f.trim() === '')) return;
    if (!headers) {
      headers = fields.map((f, i) => f.replace(/\s+/g, ' ').trim() || `Column ${i + 1}`);
      return;
    }
    const parts: string[] = [];
    for (let i = 0; i < fields.length; i++) {
      const value = (fields[i] ?? '').trim();
      if (value) parts.push(`${headers[i] ?? `Column ${i + 1}`}: ${value}`);
    }
    sections.push({ text: parts.join('; '), headingPath: [] });
  });
  if (headers && sections.length === 0) {
    throw new ExtractionError('no_text', 'The CSV has a header row but no records.');
  }
  return { sections };
}

/**
 * Text decoding and whitespace clean-up shared by the text-based extractors, plus the plain-text
 * extractor itself.
 *
 * Encoding policy (strict, no guessing): a UTF-16 or UTF-8 byte-order mark wins; otherwise the
 * bytes must be valid UTF-8. Only if they are not, an explicitly declared charset (the
 * `charset=` of the Content-Type, or an HTML `<meta charset>`) is honoured. Undeclared non-UTF-8
 * text fails with `not_utf8` instead of being decoded as windows-1252: that fallback never fails,
 * so a Shift_JIS, GBK or KOI8 file would be indexed as mojibake and the bot would quote garbage
 * without anyone noticing, while "save it as UTF-8" is an error a user can act on.
 */
import { ExtractionError, type ExtractedDocument } from '../types';

function decodeStrict(bytes: Uint8Array, label: string): string | undefined {
  try {
    return new TextDecoder(label, { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

function isKnownCharset(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes text bytes per the policy above. `declaredCharset` is only consulted when the bytes are
 * not valid UTF-8. Throws ExtractionError('not_utf8').
 */
export function decodeText(bytes: Uint8Array, declaredCharset?: string): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeBom(bytes, 'utf-16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeBom(bytes, 'utf-16be');
  const utf8 = decodeStrict(bytes, 'utf-8');
  if (utf8 !== undefined) return utf8;
  const charset = declaredCharset?.trim().toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8' && isKnownCharset(charset)) {
    const text = decodeStrict(bytes, charset);
    if (text !== undefined) return text;
    throw new ExtractionError('not_utf8', `The text is not valid ${charset}, the character set it declares.`);
  }
  throw new ExtractionError(
    'not_utf8',
    'The text is not valid UTF-8 and declares no other character set. Save it as UTF-8 and try again.',
  );
}

function decodeBom(bytes: Uint8Array, label: 'utf-16le' | 'utf-16be'): string {
  const text = decodeStrict(bytes, label);
  if (text === undefined) {
    throw new ExtractionError(
      'not_utf8',
      `The text starts with a ${label.toUpperCase()} byte-order mark but is not valid ${label.toUpperCase()}.`,
    );
  }
  return text;
}

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u00ad\u200b\ufeff]/g;
const SPACES = /[ \t\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+/g;

/**
 * Tidies extracted text: unifies line endings, drops control and zero-width characters, collapses
 * runs of spaces, trims every line and keeps at most one blank line between paragraphs.
 */
export function normalizeWhitespace(text: string): string {
  return text
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(CONTROL, '')
    .replace(SPACES, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Splits text into paragraphs at blank lines, normalised, empty ones dropped. */
export function splitParagraphs(text: string): string[] {
  return normalizeWhitespace(text)
    .split(/\n\n+/)
    .filter((p) => p.length > 0);
}

/** Plain text: one section per paragraph, no headings. */
export function extractTxt(text: string): ExtractedDocument {
  return { sections: splitParagraphs(text).map((p) => ({ text: p, headingPath: [] })) };
}

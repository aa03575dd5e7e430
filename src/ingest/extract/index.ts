/**
 * extractDocument: bytes → ExtractedDocument, for every format Parley reads. Pure: no I/O
 * beyond the bytes given. Failures are ExtractionError with a stable `reason` and a message a
 * user can act on.
 *
 * Format detection, in order:
 *   1. magic bytes: `%PDF-` → PDF (also further into the first 1024 bytes when a PDF was
 *      declared); a ZIP holding word/document.xml → DOCX; other ZIPs, images, old Office files,
 *      RTF or NUL-laden data → unsupported;
 *   2. the declared Content-Type (ignored when generic: octet-stream, text/plain…);
 *   3. the extension of `filename`, else of the URL path;
 *   4. undeclared text: HTML if it starts like an HTML document, else plain text.
 * A specific declaration that contradicts the bytes (a .pdf that is text, a .docx that is not a
 * ZIP, a .csv that is a PNG) is `type_mismatch`; a declared type Parley cannot read is
 * `unsupported_type`.
 */
import { ExtractionError, type DocumentFormat, type ExtractedDocument } from '../types';
import { extractCsv } from './csv';
import {
  declaredType,
  formatName,
  hasLatePdfHeader,
  looksLikeHtml,
  parseContentType,
  sniff,
  type Sniffed,
} from './detect';
import { extractDocx } from './docx';
import { extractHtml, metaCharset } from './html';
import { extractMarkdown } from './markdown';
import { extractPdf } from './pdf';
import { decodeText, extractTxt } from './text';
import { listZip, ZipFormatError, type ZipEntry } from './zip';

export { normalizeWhitespace } from './text';

/** Default cap on input size: 25 MB keeps a document and its extracted text well inside a Worker's 128 MB. */
export const DEFAULT_MAX_BYTES = 25 * 1024 * 1024;

export interface ExtractInput {
  bytes: Uint8Array;
  /** Original file name; its extension is a type hint. */
  filename?: string;
  /** Declared Content-Type; its `charset` is honoured for text that is not UTF-8. */
  contentType?: string;
  /** Where the document came from: base for relative HTML links, and a type hint by its extension. */
  url?: string;
  /** Larger inputs fail with `too_large`. Default DEFAULT_MAX_BYTES. */
  maxBytes?: number;
}

const SUPPORTED = 'Parley reads PDF, Word (.docx), plain text, Markdown, CSV and HTML.';

function subjectOf(input: ExtractInput): string {
  const name = input.filename?.split(/[/\\]/).pop() || input.url?.split(/[?#]/)[0]?.split('/').pop();
  return name ? `"${name}"` : 'The document';
}

/** OLE containers that hold an "EncryptedPackage" stream are password-protected Office files. */
function isEncryptedOffice(bytes: Uint8Array): boolean {
  const needle = [...'EncryptedPackage'].flatMap((c) => [c.charCodeAt(0), 0]);
  outer: for (
    let i = bytes.indexOf(0x45);
    i !== -1 && i <= bytes.length - needle.length;
    i = bytes.indexOf(0x45, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

type TextFormat = Exclude<DocumentFormat, 'pdf' | 'docx'>;
type Detected = { kind: 'pdf' } | { kind: 'docx'; entries: ZipEntry[] } | { kind: 'text'; declared?: TextFormat };

function detect(input: ExtractInput, subject: string): Detected {
  const declared = declaredType(input);
  if (declared.kind === 'unsupported') {
    throw new ExtractionError(
      'unsupported_type',
      `${subject} has the ${declared.via}, which Parley cannot read. ${SUPPORTED}`,
    );
  }
  const claimed = declared.kind === 'format' ? declared : undefined;
  const mismatch = (actual: string) =>
    new ExtractionError(
      'type_mismatch',
      `${subject} is declared as ${claimed ? `${formatName(claimed.format)} (${claimed.via})` : 'another type'} but its content is ${actual}.`,
    );
  const sniffed: Sniffed =
    claimed?.format === 'pdf' && hasLatePdfHeader(input.bytes) ? { kind: 'pdf' } : sniff(input.bytes);
  switch (sniffed.kind) {
    case 'pdf':
      if (claimed && claimed.format !== 'pdf') throw mismatch('a PDF');
      return { kind: 'pdf' };
    case 'zip': {
      let entries: ZipEntry[];
      try {
        entries = listZip(input.bytes);
      } catch (err) {
        if (!(err instanceof ZipFormatError)) throw err;
        if (claimed && claimed.format !== 'docx') throw mismatch('a ZIP archive');
        throw new ExtractionError('corrupt', `${subject} is a damaged ZIP archive (${err.message}).`);
      }
      const isDocx = entries.some((e) => e.name === 'word/document.xml');
      if (isDocx && (!claimed || claimed.format === 'docx')) return { kind: 'docx', entries };
      if (isDocx) throw mismatch('a Word document (.docx)');
      if (claimed?.format === 'docx') throw mismatch('a ZIP archive without word/document.xml, not a Word document');
      if (claimed) throw mismatch('a ZIP archive');
      throw new ExtractionError(
        'unsupported_type',
        `${subject} is a ZIP archive but not a Word document. ${SUPPORTED}`,
      );
    }
    case 'binary':
      if (claimed?.format === 'docx' && isEncryptedOffice(input.bytes)) {
        throw new ExtractionError(
          'encrypted',
          `${subject} is a password-protected Word document; upload a copy without a password.`,
        );
      }
      if (claimed) throw mismatch(sniffed.label);
      throw new ExtractionError(
        'unsupported_type',
        `${subject} looks like ${sniffed.label}, which Parley cannot read. ${SUPPORTED}`,
      );
    case 'text':
      if (claimed?.format === 'pdf' || claimed?.format === 'docx') throw mismatch('plain text');
      return { kind: 'text', declared: claimed?.format };
  }
}

async function extractTextFormat(input: ExtractInput, declared: TextFormat | undefined): Promise<ExtractedDocument> {
  const { charset } = parseContentType(input.contentType);
  const mayBeHtml = declared === 'html' || declared === undefined;
  const text = decodeText(input.bytes, charset ?? (mayBeHtml ? metaCharset(input.bytes) : undefined));
  const format = declared ?? (looksLikeHtml(text) ? 'html' : 'txt');
  switch (format) {
    case 'md':
      return { format, ...extractMarkdown(text) };
    case 'csv':
      return { format, ...extractCsv(text) };
    case 'html':
      return { format, ...(await extractHtml(text, input.url)) };
    default:
      return { format: 'txt', ...extractTxt(text) };
  }
}

const NO_TEXT_HINT: Partial<Record<DocumentFormat, string>> = {
  pdf: ' It may be a scan or contain only images; text inside images is not read.',
  html: ' Only navigation, scripts or markup were found.',
};

/**
 * Extracts the text of a document. Throws ExtractionError with reason 'empty', 'too_large',
 * 'type_mismatch', 'unsupported_type', 'corrupt', 'encrypted', 'not_utf8' or 'no_text'.
 * PDFs load unpdf (~2.2 MB) on first use only.
 */
export async function extractDocument(input: ExtractInput): Promise<ExtractedDocument> {
  const subject = subjectOf(input);
  if (input.bytes.length === 0) throw new ExtractionError('empty', `${subject} is empty (0 bytes).`);
  const maxBytes = input.maxBytes ?? DEFAULT_MAX_BYTES;
  if (input.bytes.length > maxBytes) {
    throw new ExtractionError(
      'too_large',
      `${subject} is ${input.bytes.length} bytes; the limit is ${maxBytes} bytes.`,
    );
  }
  const detected = detect(input, subject);
  let doc: ExtractedDocument;
  if (detected.kind === 'pdf') doc = { format: 'pdf', ...(await extractPdf(input.bytes)) };
  else if (detected.kind === 'docx') doc = { format: 'docx', ...extractDocx(input.bytes, detected.entries) };
  else doc = await extractTextFormat(input, detected.declared);

  const sections = doc.sections.filter((s) => s.text.trim().length > 0);
  if (sections.length === 0) {
    const hint = (doc.format && NO_TEXT_HINT[doc.format]) ?? '';
    throw new ExtractionError('no_text', `${subject} contains no text to index.${hint}`);
  }
  return { ...doc, sections };
}

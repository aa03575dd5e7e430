/**
 * What a document claims to be (Content-Type, then file extension) and what its bytes say it
 * is (magic numbers). The bytes decide; a specific claim that contradicts them is reported as
 * `type_mismatch` rather than silently overridden, because it usually means a wrong upload.
 */
import type { DocumentFormat } from '../types';

/** What the caller declared, if anything specific. */
export type Declared =
  { kind: 'format'; format: DocumentFormat; via: string } | { kind: 'unsupported'; via: string } | { kind: 'none' };

/** What the first bytes show. */
export type Sniffed = { kind: 'pdf' } | { kind: 'zip' } | { kind: 'binary'; label: string } | { kind: 'text' };

const MIME_FORMATS: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'application/x-pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/x-markdown': 'md',
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/comma-separated-values': 'csv',
  'text/tab-separated-values': 'csv',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
};

/** Content types that say nothing about the format: the extension (or the bytes) decide. */
const GENERIC_MIMES = new Set([
  'text/plain',
  'application/octet-stream',
  'binary/octet-stream',
  'application/x-download',
  'application/force-download',
  'application/vnd.ms-excel', // what Windows browsers send for .csv
]);

const EXT_FORMATS: Record<string, DocumentFormat> = {
  pdf: 'pdf',
  docx: 'docx',
  txt: 'txt',
  text: 'txt',
  md: 'md',
  markdown: 'md',
  csv: 'csv',
  tsv: 'csv',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
};

const UNSUPPORTED_EXTS = new Set(
  (
    'doc dot docm rtf odt xls xlsx ods ppt pptx odp key pages numbers epub json xml ' +
    'png jpg jpeg gif webp bmp tif tiff heic svg mp3 mp4 m4a wav mov avi zip gz tgz tar 7z rar exe dmg'
  ).split(' '),
);

function extensionOf(name: string): string | undefined {
  const base = name.split(/[/\\]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : undefined;
}

function urlExtension(url: string): string | undefined {
  try {
    return extensionOf(decodeURIComponent(new URL(url).pathname));
  } catch {
    return undefined;
  }
}

/** Splits a Content-Type into its lower-cased media type and charset parameter. */
export function parseContentType(contentType?: string): { mime?: string; charset?: string } {
  if (!contentType) return {};
  const [type = '', ...params] = contentType.split(';');
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)"?\s*$/i.exec(p)?.[1]).find((c) => c !== undefined);
  return { mime: type.trim().toLowerCase() || undefined, charset };
}

/** Content type first (unless generic), then the extension of `filename`, else of the URL path. */
export function declaredType(input: { filename?: string; contentType?: string; url?: string }): Declared {
  const { mime } = parseContentType(input.contentType);
  const ext = (input.filename && extensionOf(input.filename)) || (input.url && urlExtension(input.url)) || undefined;
  const extFormat = ext ? EXT_FORMATS[ext] : undefined;
  if (mime && !GENERIC_MIMES.has(mime)) {
    const format = MIME_FORMATS[mime];
    if (format) return { kind: 'format', format, via: `content type ${mime}` };
    // Some other text/* (source code, logs…) is still readable text.
    if (mime.startsWith('text/')) return { kind: 'format', format: extFormat ?? 'txt', via: `content type ${mime}` };
    return { kind: 'unsupported', via: `content type ${mime}` };
  }
  if (ext && extFormat) return { kind: 'format', format: extFormat, via: `.${ext} extension` };
  if (mime === 'text/plain') return { kind: 'format', format: 'txt', via: `content type ${mime}` };
  if (ext && UNSUPPORTED_EXTS.has(ext)) return { kind: 'unsupported', via: `.${ext} extension` };
  return { kind: 'none' };
}

function startsWith(bytes: Uint8Array, ...prefix: number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

const BINARY_SIGNATURES: [label: string, prefix: number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['an old-style Office file (.doc/.xls/.ppt) or an encrypted Office document', [0xd0, 0xcf, 0x11, 0xe0]],
  ['a gzip archive', [0x1f, 0x8b]],
  ['an RTF document', [0x7b, 0x5c, 0x72, 0x74, 0x66]],
];

/** Classifies bytes by magic number; NUL bytes in the first 8 KB (without a UTF-16 BOM) mean binary. */
export function sniff(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, 0x25, 0x50, 0x44, 0x46, 0x2d)) return { kind: 'pdf' };
  if (startsWith(bytes, 0x50, 0x4b, 0x03, 0x04) || startsWith(bytes, 0x50, 0x4b, 0x05, 0x06)) return { kind: 'zip' };
  for (const [label, prefix] of BINARY_SIGNATURES) if (startsWith(bytes, ...prefix)) return { kind: 'binary', label };
  if (startsWith(bytes, 0x52, 0x49, 0x46, 0x46)) return { kind: 'binary', label: 'a media file (RIFF)' };
  const utf16 = startsWith(bytes, 0xff, 0xfe) || startsWith(bytes, 0xfe, 0xff);
  if (!utf16 && bytes.subarray(0, 8192).includes(0)) return { kind: 'binary', label: 'binary data' };
  return { kind: 'text' };
}

/**
 * `%PDF-` somewhere in the first 1024 bytes, which PDF readers accept. Only trusted when the
 * caller also declared a PDF: a web page about PDFs may well contain that string near its top.
 */
export function hasLatePdfHeader(bytes: Uint8Array): boolean {
  return String.fromCharCode(...bytes.subarray(0, 1024)).includes('%PDF-');
}

/** True when decoded text begins like an HTML document (doctype, <html>, <head> or <body>). */
export function looksLikeHtml(text: string): boolean {
  const start = text
    .slice(0, 2048)
    .replace(/^\ufeff/, '')
    .replace(/^(\s|<!--[\s\S]*?-->|<\?xml[^>]*>)*/, '');
  return /^<(!doctype\s+html|html|head|body)\b/i.test(start);
}

/** Human name of a format for error messages. */
export function formatName(format: DocumentFormat): string {
  const names: Record<DocumentFormat, string> = {
    pdf: 'a PDF',
    docx: 'a Word document (.docx)',
    txt: 'plain text',
    md: 'Markdown',
    csv: 'CSV',
    html: 'HTML',
  };
  return names[format];
}

/**
 * The shapes that flow through ingestion: bytes → ExtractedDocument (extract/) → Chunk[]
 * (chunk.ts) → embeddings (embed.ts) → rows in `chunks`.
 */

/** Content types Parley extracts text from. */
export type DocumentFormat = 'pdf' | 'docx' | 'txt' | 'md' | 'csv' | 'html';

/** A run of text that belongs together: a paragraph block under its headings, a CSV record, a PDF page. */
export interface Section {
  text: string;
  /** Headings above this text, outermost first (e.g. ["Pricing", "Refunds"]). */
  headingPath: string[];
  /** 1-based page number, for paginated formats (PDF). */
  page?: number;
}

export interface ExtractedDocument {
  /** The format extraction detected (bytes first, then declared type); chunking tunes sizes by it. */
  format?: DocumentFormat;
  title?: string;
  /** `<link rel="canonical">` of an HTML page, absolute. */
  canonicalUrl?: string;
  /** Links found in an HTML page, absolute (the crawler follows them). */
  links?: string[];
  sections: Section[];
}

export interface Chunk {
  /** 0-based order within the document. */
  position: number;
  text: string;
  headingPath: string[];
  page?: number;
}

/** A readable, per-document reason extraction failed; never retried (the input will not change). */
export class ExtractionError extends Error {
  readonly reason: ExtractionFailure;
  constructor(reason: ExtractionFailure, message: string) {
    super(message);
    this.name = 'ExtractionError';
    this.reason = reason;
  }
}

export type ExtractionFailure =
  'empty' | 'corrupt' | 'encrypted' | 'too_large' | 'unsupported_type' | 'type_mismatch' | 'not_utf8' | 'no_text';

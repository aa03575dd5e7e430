/**
 * PDF through unpdf (pdf.js built for serverless runtimes). unpdf is ~2.2 MB, so it is imported
 * dynamically here — only a PDF pays for loading it. One section per page with `page` set to the
 * 1-based page number. pdf.js's PasswordException means the file needs a password ('encrypted');
 * InvalidPDFException and any other parse failure mean 'corrupt'. Pages without a text layer
 * (scans) yield nothing: OCR is out of scope.
 */
import { ExtractionError, type ExtractedDocument, type Section } from '../types';
import { normalizeWhitespace } from './text';

function toExtractionError(err: unknown): ExtractionError {
  if (err instanceof ExtractionError) return err;
  const name = err instanceof Error ? err.name : '';
  if (name === 'PasswordException') {
    return new ExtractionError('encrypted', 'The PDF is password-protected; upload a copy without a password.');
  }
  return new ExtractionError('corrupt', 'The PDF is damaged or not a valid PDF file and could not be read.');
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field: unknown = Reflect.get(value, key);
  return typeof field === 'string' && field.trim() ? field.trim() : undefined;
}

export async function extractPdf(bytes: Uint8Array): Promise<ExtractedDocument> {
  const { getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js may transfer (detach) the buffer it is given: hand it a copy. Verbosity 0 keeps its
    // warnings about damaged files out of the Worker's logs; the outcome is reported instead.
    pdf = await getDocumentProxy(bytes.slice(), { verbosity: 0 });
  } catch (err) {
    throw toExtractionError(err);
  }
  try {
    // One page at a time, each released after its text is read: parsing every page at once
    // (unpdf's extractText) holds them all in memory, and an isolate has 128 MB.
    const sections: Section[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      const pageText = content.items
        .map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : ''))
        .join('');
      page.cleanup();
      const clean = normalizeWhitespace(pageText);
      if (clean) sections.push({ text: clean, headingPath: [], page: number });
    }
    const meta = await pdf.getMetadata().catch(() => undefined);
    return { title: stringField(meta?.info, 'Title'), sections };
  } catch (err) {
    throw toExtractionError(err);
  } finally {
    await pdf.destroy();
  }
}

/**
 * DOCX: reads word/document.xml (and, when present, word/styles.xml for heading styles and
 * docProps/core.xml for the title) out of the ZIP with zip-bomb limits, then walks the
 * WordprocessingML tags: `<w:p>` paragraphs made of `<w:t>` runs, Heading1…Heading6 (or any
 * style named "heading N", or an outline level) as headings, a "Title" paragraph as the title,
 * and each table row as one "cell | cell" line.
 */
import { ExtractionError, type ExtractedDocument } from '../types';
import { decodeEntities } from './entities';
import { SectionBuilder } from './sections';
import { readZipEntry, ZipFormatError, ZipLimitError, type ZipEntry } from './zip';

/**
 * Limits against zip bombs: per XML part, across all parts read, and output per compressed byte
 * (checked past 1 MB). Real document.xml files compress ~5–30:1; deflate tops out near 1032:1.
 */
export const DOCX_LIMITS = { maxPartBytes: 50 * 1024 * 1024, maxTotalBytes: 50 * 1024 * 1024, maxRatio: 200 };

type Style = number | 'title';

function readPart(bytes: Uint8Array, entries: ZipEntry[], name: string, budget: { left: number }): string | undefined {
  const entry = entries.find((e) => e.name === name);
  if (!entry) return undefined;
  if (entry.encrypted) throw new ExtractionError('encrypted', 'The Word document is password-protected.');
  const limit = Math.min(DOCX_LIMITS.maxPartBytes, budget.left);
  const tooLarge = (detail: string) =>
    new ExtractionError('too_large', `The Word document unpacks to too much data (${detail}); refusing to unpack it.`);
  if (entry.declaredSize > limit)
    throw tooLarge(`${name} declares ${mb(entry.declaredSize)}, the limit is ${mb(limit)}`);
  try {
    const data = readZipEntry(bytes, entry, { maxBytes: limit, maxRatio: DOCX_LIMITS.maxRatio });
    budget.left -= data.length;
    return new TextDecoder().decode(data);
  } catch (err) {
    if (err instanceof ZipLimitError) throw tooLarge(err.message);
    if (err instanceof ZipFormatError)
      throw new ExtractionError('corrupt', `The Word document is damaged: ${err.message}.`);
    throw err;
  }
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const attr = (attrs: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)?.[1];

/** styleId → heading level or 'title', from styles.xml; built-in style names are English in every locale. */
function headingStyles(stylesXml: string | undefined): Map<string, Style> {
  const styles = new Map<string, Style>();
  for (const match of (stylesXml ?? '').matchAll(/<w:style\b([^>]*)>([\s\S]*?)<\/w:style>/g)) {
    const id = attr(match[1] ?? '', 'w:styleId');
    const body = match[2] ?? '';
    const name = /<w:name\b[^>]*\bw:val="([^"]*)"/.exec(body)?.[1]?.toLowerCase() ?? '';
    const outline = /<w:outlineLvl\b[^>]*\bw:val="(\d)"/.exec(body)?.[1];
    const level =
      /^heading ([1-6])$/.exec(name)?.[1] ?? (outline !== undefined ? String(Number(outline) + 1) : undefined);
    if (!id) continue;
    if (name === 'title') styles.set(id, 'title');
    else if (level !== undefined && Number(level) <= 6) styles.set(id, Number(level));
  }
  return styles;
}

function styleOf(styleId: string, styles: Map<string, Style>): Style | undefined {
  const known = styles.get(styleId);
  if (known !== undefined) return known;
  if (/^title$/i.test(styleId)) return 'title';
  const level = /^heading([1-6])$/i.exec(styleId)?.[1];
  return level ? Number(level) : undefined;
}

interface Paragraph {
  parts: string[];
  style?: Style;
}

/** Extracts a DOCX whose ZIP entries were already listed. */
export function extractDocx(bytes: Uint8Array, entries: ZipEntry[]): ExtractedDocument {
  const budget = { left: DOCX_LIMITS.maxTotalBytes };
  const xml = readPart(bytes, entries, 'word/document.xml', budget);
  if (xml === undefined) throw new ExtractionError('corrupt', 'The Word document has no word/document.xml.');
  const styles = headingStyles(readPart(bytes, entries, 'word/styles.xml', budget));
  const coreTitle = /<dc:title>([^<]*)<\/dc:title>/.exec(
    readPart(bytes, entries, 'docProps/core.xml', budget) ?? '',
  )?.[1];

  const builder = new SectionBuilder();
  let title: string | undefined;
  const paragraphs: Paragraph[] = [];
  const rows: string[][] = [];
  const cells: string[][] = [];
  let inText = false;
  let runDepth = 0;
  let fallbackDepth = 0;

  const emit = (text: string) => {
    const cell = cells.at(-1);
    if (cell) cell.push(text);
    else builder.paragraph(text);
  };
  const append = (text: string) => paragraphs.at(-1)?.parts.push(text);
  const closeParagraph = () => {
    const paragraph = paragraphs.pop();
    const content = paragraph?.parts.join('') ?? '';
    const inCell = cells.length > 0;
    if (paragraph?.style === 'title' && !inCell) title ??= content.trim() || undefined;
    else if (typeof paragraph?.style === 'number' && !inCell) builder.heading(paragraph.style, content);
    else emit(content);
  };

  for (const [, close, name, attrs, text] of xml.matchAll(/<(\/?)([^\s/>!?]+)([^>]*)>|([^<]+)/g)) {
    if (text !== undefined) {
      if (inText && fallbackDepth === 0) append(decodeEntities(text));
      continue;
    }
    const selfClosing = (attrs ?? '').endsWith('/');
    if (name === 'mc:Fallback' && !selfClosing) fallbackDepth += close ? -1 : 1;
    if (fallbackDepth > 0) continue;
    switch (name) {
      case 'w:t':
        inText = !close && !selfClosing;
        break;
      case 'w:r':
        if (!selfClosing) runDepth += close ? -1 : 1;
        break;
      case 'w:tab':
        if (runDepth > 0) append(' ');
        break;
      case 'w:br':
      case 'w:cr':
        if (runDepth > 0) append('\n');
        break;
      case 'w:noBreakHyphen':
        append('-');
        break;
      case 'w:pStyle': {
        const paragraph = paragraphs.at(-1);
        const id = attr(attrs ?? '', 'w:val');
        if (paragraph && id) paragraph.style = styleOf(id, styles);
        break;
      }
      case 'w:outlineLvl': {
        const paragraph = paragraphs.at(-1);
        const level = Number(attr(attrs ?? '', 'w:val')) + 1;
        if (paragraph && paragraph.style === undefined && level >= 1 && level <= 6) paragraph.style = level;
        break;
      }
      case 'w:p':
        if (selfClosing) break;
        if (close) closeParagraph();
        else paragraphs.push({ parts: [] });
        break;
      case 'w:tr':
        if (selfClosing) break;
        if (!close) rows.push([]);
        else emit((rows.pop() ?? []).filter((c) => c.length > 0).join(' | '));
        break;
      case 'w:tc':
        if (selfClosing) break;
        if (!close) cells.push([]);
        else rows.at(-1)?.push((cells.pop() ?? []).join(' ').replace(/\s+/g, ' ').trim());
        break;
    }
  }

  title ??= coreTitle ? decodeEntities(coreTitle).trim() || undefined : undefined;
  return { title, sections: builder.sections };
}

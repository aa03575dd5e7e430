/**
 * chunkDocument: structure-aware packing, splitting of long text, overlap and determinism.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_SIZES, chunkDocument, normalizeWhitespace } from '../src/ingest/chunk';
import { extractDocument } from '../src/ingest/extract';
import type { ExtractedDocument, Section } from '../src/ingest/types';

const section = (text: string, headingPath: string[] = [], page?: number): Section =>
  page === undefined ? { text, headingPath } : { text, headingPath, page };

/** Numbered sentences, so a test can tell which ones a chunk holds. */
const sentences = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `Sentence number ${from + i} says something useful about refunds.`).join(' ');

describe('chunkDocument', () => {
  it('packs short paragraphs of one section together', () => {
    const doc: ExtractedDocument = { sections: [section('One.'), section('Two.\n\nThree.')] };
    expect(chunkDocument(doc)).toEqual([{ position: 0, text: 'One.\n\nTwo.\n\nThree.', headingPath: [] }]);
  });

  it('never mixes heading paths or pages in one chunk', () => {
    const doc: ExtractedDocument = {
      sections: [
        section('Intro.', ['Guide']),
        section('Setup.', ['Guide', 'Install']),
        section('More setup.', ['Guide', 'Install']),
        section('Page one.', [], 1),
        section('Page two.', [], 2),
        section('Back to the guide.', ['Guide']),
      ],
    };
    expect(chunkDocument(doc).map((c) => [c.position, c.text, c.headingPath, c.page])).toEqual([
      [0, 'Intro.', ['Guide'], undefined],
      [1, 'Setup.\n\nMore setup.', ['Guide', 'Install'], undefined],
      [2, 'Page one.', [], 1],
      [3, 'Page two.', [], 2],
      [4, 'Back to the guide.', ['Guide'], undefined],
    ]);
  });

  it('splits an over-long paragraph at sentence ends, within the target size', () => {
    const text = sentences(1, 60); // ~3,700 characters in one paragraph
    const chunks = chunkDocument({ sections: [section(text, ['Refunds'])] }, { targetChars: 1000, overlapChars: 0 });
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(1000);
      expect(chunk.text).toMatch(/^Sentence number \d+ .*refunds\.$/s);
      expect(chunk.headingPath).toEqual(['Refunds']);
    }
    expect(chunks.map((c) => c.text).join(' ')).toBe(text);
  });

  it('keeps line breaks and closing quotes when it cuts a long paragraph', () => {
    const list = Array.from({ length: 80 }, (_, i) => `- item ${i} of the packing list`).join('\n');
    const listChunks = chunkDocument({ sections: [section(list)] }, { targetChars: 500, overlapChars: 0 });
    expect(listChunks.length).toBeGreaterThan(3);
    expect(listChunks.every((c) => /^(- item \d+ of the packing list\n?)+$/.test(c.text))).toBe(true);
    expect(listChunks.map((c) => c.text).join('\n')).toBe(list);

    const quoted = Array.from({ length: 40 }, (_, i) => `She said "stop number ${i}." Then she left.`).join(' ');
    const quotedChunks = chunkDocument({ sections: [section(quoted)] }, { targetChars: 300, overlapChars: 0 });
    expect(quotedChunks.map((c) => c.text).join(' ')).toBe(quoted);

    const chinese = '退款需要五个工作日。'.repeat(200); // no spaces at all
    const chineseChunks = chunkDocument({ sections: [section(chinese)] }, { targetChars: 500, overlapChars: 0 });
    expect(chineseChunks.every((c) => c.text.length <= 500 && c.text.endsWith('。'))).toBe(true);
    expect(chineseChunks.map((c) => c.text).join('')).toBe(chinese);
  });

  it('falls back to word boundaries, then to raw slices for a single huge token', () => {
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const wordChunks = chunkDocument({ sections: [section(words)] }, { targetChars: 300, overlapChars: 0 });
    expect(wordChunks.every((c) => c.text.length <= 300 && /^word\d+( word\d+)*$/.test(c.text))).toBe(true);
    expect(wordChunks.map((c) => c.text).join(' ')).toBe(words);

    const blob = 'x'.repeat(2500);
    const blobChunks = chunkDocument({ sections: [section(blob)] }, { targetChars: 1000, overlapChars: 0 });
    expect(blobChunks.map((c) => c.text.length)).toEqual([1000, 1000, 500]);
  });

  it('overlaps consecutive chunks of a section, starting at a sentence boundary', () => {
    const chunks = chunkDocument({ sections: [section(sentences(1, 60))] }, { targetChars: 1000, overlapChars: 150 });
    expect(chunks.length).toBeGreaterThan(3);
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1]?.text ?? '';
      const current = chunks[i]?.text ?? '';
      expect(current.length).toBeLessThanOrEqual(1000);
      // The longest run of whole sentences that the previous chunk ends with and this one starts with.
      const ends = [...current.matchAll(/\./g)].map((m) => m.index + 1);
      const repeated =
        ends
          .map((end) => current.slice(0, end))
          .filter((p) => previous.endsWith(p))
          .pop() ?? '';
      expect(repeated).toMatch(/^Sentence number \d+ /);
      expect(repeated.length).toBeGreaterThan(40);
      expect(repeated.length).toBeLessThanOrEqual(150);
    }
  });

  it('does not overlap across sections, nor for CSV records', () => {
    const long = sentences(1, 40);
    const chunks = chunkDocument({ sections: [section(long, ['A']), section(long, ['B'])] }, { targetChars: 1000 });
    const firstOfB = chunks.find((c) => c.headingPath[0] === 'B');
    expect(firstOfB?.text.startsWith('Sentence number 1 ')).toBe(true);

    const records = Array.from({ length: 200 }, (_, i) => section(`Name: Customer ${i}; Plan: Pro; Price: ${i}`));
    const csvChunks = chunkDocument({ format: 'csv', sections: records });
    expect(csvChunks.every((c) => c.text.length <= CHUNK_SIZES.csv.targetChars)).toBe(true);
    expect(
      csvChunks
        .map((c) => c.text)
        .join('\n\n')
        .split('\n\n'),
    ).toHaveLength(200);
  });

  it('picks sizes by format: an explicit option wins over the document format', () => {
    const doc: ExtractedDocument = { format: 'pdf', sections: [section(sentences(1, 100), [], 1)] };
    expect(Math.max(...chunkDocument(doc).map((c) => c.text.length))).toBeGreaterThan(CHUNK_SIZES.md.targetChars);
    expect(Math.max(...chunkDocument(doc, { format: 'md' }).map((c) => c.text.length))).toBeLessThanOrEqual(
      CHUNK_SIZES.md.targetChars,
    );
    expect(chunkDocument(doc).every((c) => c.page === 1)).toBe(true);
  });

  it('is deterministic and numbers chunks 0..n-1', () => {
    const doc: ExtractedDocument = {
      sections: [section(sentences(1, 50), ['A']), section(sentences(51, 50), ['B']), section('Tail.', ['C'])],
    };
    const first = chunkDocument(doc);
    expect(chunkDocument(structuredClone(doc))).toEqual(first);
    expect(first.map((c) => c.position)).toEqual(first.map((_, i) => i));
  });

  it('chunks an extracted Markdown FAQ by question', async () => {
    const faq =
      '# FAQ\n\n## Can I get a refund?\n\nYes, within 30 days.\n\n## Do you ship abroad?\n\nWe ship to the EU.\n';
    const doc = await extractDocument({ bytes: new TextEncoder().encode(faq), filename: 'faq.md' });
    expect(chunkDocument(doc).map((c) => [c.headingPath.join(' > '), c.text])).toEqual([
      ['FAQ > Can I get a refund?', 'Yes, within 30 days.'],
      ['FAQ > Do you ship abroad?', 'We ship to the EU.'],
    ]);
  });
});

describe('normalizeWhitespace', () => {
  it('unifies line ends, collapses spaces and keeps paragraph breaks', () => {
    expect(normalizeWhitespace('  a\u00a0\u00a0b\t c \r\n\r\n\r\n\r\nd\u200b e  \n')).toBe('a b c\n\nd e');
  });
});

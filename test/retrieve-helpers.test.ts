/**
 * The pure helpers exported beside `retrieve`: `standaloneQuery` (rule-based rewrite of
 * follow-up questions) and `citationsFrom` (one citation per document with a trimmed snippet).
 */
import { describe, expect, it } from 'vitest';
import { citationsFrom, standaloneQuery } from '../src/chat/retrieve';
import type { Passage } from '../src/chat/types';

describe('standaloneQuery', () => {
  const history = [
    { role: 'user', content: 'How do I get a refund for my Aurora kettle?' },
    { role: 'assistant', content: 'Refunds are issued within 14 days.' },
  ];

  it('adds the key terms of the previous user turn to a follow-up', () => {
    expect(standaloneQuery(history, 'How long does it take?')).toBe('How long does it take? refund Aurora kettle');
    expect(standaloneQuery(history, 'And for SKU-7741?')).toBe('And for SKU-7741? refund Aurora kettle');
    expect(standaloneQuery(history, 'how much?')).toBe('how much? refund Aurora kettle');
    expect(standaloneQuery(history, 'What about the kettle warranty?')).toBe(
      'What about the kettle warranty? refund Aurora',
    );
  });

  it('leaves standalone questions and first messages alone, deterministically', () => {
    expect(standaloneQuery(history, 'How do I reset my password?')).toBe('How do I reset my password?');
    expect(standaloneQuery(history, 'Do you ship kettles to Norway?')).toBe('Do you ship kettles to Norway?');
    expect(standaloneQuery([], 'How long does it take?')).toBe('How long does it take?');
    // A trailing copy of the message in the history is not its own context.
    const withCurrent = [...history, { role: 'user', content: 'How long does it take?' }];
    expect(standaloneQuery(withCurrent, 'How long does it take?')).toBe(
      standaloneQuery(history, 'How long does it take?'),
    );
  });

  it('looks one user turn further back when the last one was itself a follow-up', () => {
    const chain = [
      ...history,
      { role: 'user', content: 'and then?' },
      { role: 'assistant', content: 'Then it ships.' },
    ];
    expect(standaloneQuery(chain, 'is it free?')).toBe('is it free? refund Aurora kettle');
  });
});

describe('citationsFrom', () => {
  const passage = (over: Partial<Passage>): Passage => ({
    chunkId: crypto.randomUUID(),
    documentId: 'doc-1',
    sourceId: 'src-1',
    title: 'Manual',
    url: 'https://example.com/manual.pdf',
    page: 3,
    headingPath: [],
    content: 'First sentence here. The descaling cycle takes twenty minutes. Last words.',
    similarity: 0.5,
    score: 0.03,
    ...over,
  });

  it('keeps the best passage per document, its page, and the sentence matching the question', () => {
    const citations = citationsFrom(
      [
        passage({}),
        passage({ content: 'Other chunk of the same manual.' }),
        passage({ documentId: 'doc-2', page: null }),
      ],
      240,
      'how long is descaling?',
    );
    expect(citations).toHaveLength(2);
    expect(citations[0]).toEqual({
      source_id: 'src-1',
      document_id: 'doc-1',
      title: 'Manual',
      url: 'https://example.com/manual.pdf',
      page: 3,
      snippet: 'The descaling cycle takes twenty minutes. Last words.',
    });
    expect(citations[1]).not.toHaveProperty('page');
  });

  it('trims a long sentence on word boundaries around the matching term', () => {
    const long = `${'Lorem ipsum dolor sit amet '.repeat(20)}the warranty lasts two years ${'and more words follow '.repeat(10)}`;
    const [c] = citationsFrom([passage({ content: long })], 100, 'warranty');
    expect(c?.snippet.length).toBeLessThanOrEqual(100);
    expect(c?.snippet).toContain('warranty lasts two years');
    expect(c?.snippet).toMatch(/^…\S.*\S…$/);
    expect(c?.snippet).not.toMatch(/…(?:orem|psum|olor|it|met) /);
  });
});

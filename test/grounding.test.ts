/**
 * The grounding score: faithful answers score high, unrelated or invented ones low, "I don't
 * know" and answers without passages zero; citations narrow the supporting passages; retrieval
 * similarity scales the score; and the extractive answerer's own answers count as grounded.
 */
import { describe, expect, it } from 'vitest';
import { extractiveAnswer, NOT_FOUND_ANSWER } from '../src/chat/extractive';
import { groundingScore } from '../src/chat/grounding';
import type { Passage } from '../src/chat/types';

function passage(content: string, similarity: number, title: string | null = null): Passage {
  return {
    chunkId: crypto.randomUUID(),
    documentId: 'd',
    sourceId: 's',
    title,
    url: null,
    page: null,
    headingPath: [],
    content,
    similarity,
    score: 0.016,
  };
}

const REFUNDS = passage(
  'Refunds are accepted within 30 days of purchase. The refund goes back to the original payment method ' +
    'and usually arrives within five business days.',
  0.82,
  'Refund policy',
);
const SHIPPING = passage('Orders ship from our warehouse in Lyon. Express delivery costs 12 euros.', 0.35, 'Shipping');

describe('groundingScore', () => {
  it('scores a faithful answer high and an unrelated one low', () => {
    const faithful =
      'You can get a refund within 30 days of purchase [1]; the money goes back to your original payment method.';
    const unrelated = 'Our CEO founded the company in 1998 and loves mountain biking on weekends.';
    const high = groundingScore(faithful, [REFUNDS, SHIPPING]);
    const low = groundingScore(unrelated, [REFUNDS, SHIPPING]);
    expect(high).toBeGreaterThan(0.7);
    expect(low).toBeLessThan(0.2);
    expect(groundingScore(faithful, [REFUNDS, SHIPPING])).toBe(high); // Deterministic.
  });

  it('is 0 without passages, for "I don\'t know" answers and for answers without content words', () => {
    expect(groundingScore('Refunds are accepted within 30 days of purchase.', [])).toBe(0);
    expect(groundingScore("I don't know.", [REFUNDS])).toBe(0);
    expect(groundingScore(NOT_FOUND_ANSWER, [REFUNDS])).toBe(0);
    expect(groundingScore('I could not find anything about refunds in the documents.', [REFUNDS])).toBe(0);
    expect(groundingScore('Yes, it is!', [REFUNDS])).toBe(0);
    // Advice that merely contains "can't find" is an answer, not a refusal.
    expect(
      groundingScore("If you can't find your receipt, refunds are accepted within 30 days.", [REFUNDS]),
    ).toBeGreaterThan(0.4);
  });

  it('judges an answer against the passages it cites', () => {
    const answer = 'Express delivery costs 12 euros.';
    expect(groundingScore(`${answer} [2]`, [REFUNDS, SHIPPING])).toBeGreaterThan(0.6);
    // Citing the wrong passage: its words are not there.
    expect(groundingScore(`${answer} [1]`, [REFUNDS, SHIPPING])).toBeLessThan(0.2);
    // A marker for a passage that does not exist is ignored: all passages count.
    expect(groundingScore(`${answer} [7]`, [REFUNDS, SHIPPING])).toBe(groundingScore(answer, [REFUNDS, SHIPPING]));
  });

  it('scales with retrieval similarity, within [0, 1]', () => {
    const answer = 'Refunds are accepted within 30 days of purchase.';
    const strong = groundingScore(answer, [{ ...REFUNDS, similarity: 1 }]);
    const textOnly = groundingScore(answer, [{ ...REFUNDS, similarity: 0 }]);
    expect(strong).toBe(1);
    expect(textOnly).toBe(0.6);
    expect(groundingScore(answer, [{ ...REFUNDS, similarity: 7 }])).toBe(1);
    expect(groundingScore(answer, [{ ...REFUNDS, similarity: Number.NaN }])).toBe(0.6);
  });

  it("counts the extractive answerer's quotes as grounded", () => {
    const { text, cited } = extractiveAnswer('When does the refund arrive?', [SHIPPING, REFUNDS]);
    expect(cited).toEqual([2]);
    expect(groundingScore(text, [SHIPPING, REFUNDS])).toBeGreaterThan(0.9);
  });
});

/**
 * Citations from retrieved passages: one per document, in the order the passages rank, with a
 * short snippet of the document's best passage — the sentence(s) that share the most terms
 * with the question, trimmed on word boundaries.
 */
import type { Citation, Passage } from './types';
import { WORD, keyTerms, stem, words } from './terms';

const ELLIPSIS = '…';

/** Sentence ends (closing quotes and brackets stay with the sentence) and line breaks. */
const SENTENCE_BREAK = /(?<=[.!?…。！？]["'”’)\]]*)\s+|\s*\n+\s*/;

/**
 * One citation per document, best-ranked first (pass `passages` best-first, as `retrieve`
 * returns them). The snippet is at most `maxSnippet` characters: the best passage's sentence
 * sharing the most terms with `query` (the first sentence without a query or a match), followed
 * by the next sentences while they fit. `page` is present only when the passage has one.
 */
export function citationsFrom(passages: readonly Passage[], maxSnippet = 240, query = ''): Citation[] {
  const queryStems = new Set(keyTerms(query).map(stem));
  const seen = new Set<string>();
  const out: Citation[] = [];
  for (const p of passages) {
    if (seen.has(p.documentId)) continue;
    seen.add(p.documentId);
    out.push({
      source_id: p.sourceId,
      document_id: p.documentId,
      title: p.title,
      url: p.url,
      ...(p.page !== null ? { page: p.page } : {}),
      snippet: snippet(p.content, queryStems, maxSnippet),
    });
  }
  return out;
}

/** The most relevant sentence(s) of `content`, at most `max` characters. */
export function snippet(content: string, queryStems: ReadonlySet<string>, max: number): string {
  const sentences = content
    .split(SENTENCE_BREAK)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  if (sentences.length === 0 || max <= 0) return '';

  let best = 0;
  let bestScore = 0;
  sentences.forEach((s, i) => {
    const score = new Set(
      words(s)
        .map(stem)
        .filter((w) => queryStems.has(w)),
    ).size;
    if (score > bestScore) [best, bestScore] = [i, score];
  });

  const first = sentences[best] ?? '';
  if (first.length > max) return window(first, queryStems, max);
  let text = first;
  for (const next of sentences.slice(best + 1)) {
    if (text.length + 1 + next.length > max) break;
    text += ` ${next}`;
  }
  return text;
}

/** A piece of one long sentence: from a little before its first query term, cut at spaces. */
function window(sentence: string, queryStems: ReadonlySet<string>, max: number): string {
  let start = 0;
  const match = [...sentence.matchAll(WORD)].find((m) => queryStems.has(stem(m[0])));
  // Start earlier than the match so it reads in context, but only when the match would not fit.
  if (match?.index !== undefined && match.index + match[0].length > max - 1) {
    const from = Math.max(0, match.index - Math.floor(max / 4));
    const space = sentence.lastIndexOf(' ', from);
    start = space > 0 ? space + 1 : 0;
  }
  const lead = start > 0 ? ELLIPSIS : '';
  const rest = sentence.slice(start);
  if (lead.length + rest.length <= max) return lead + rest;
  const room = max - lead.length - ELLIPSIS.length;
  const cut = rest.lastIndexOf(' ', room);
  const body = (cut > 0 ? rest.slice(0, cut) : rest.slice(0, room)).replace(/[\s,;:]+$/, '');
  return lead + body + ELLIPSIS;
}

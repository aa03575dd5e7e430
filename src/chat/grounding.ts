/**
 * The grounding score of an answer: a number in [0, 1] saying how well the passages it cites
 * support it, computed without any model call (cheap enough for every turn, deterministic).
 *
 *   cited     = the passages the answer cites with `[n]` markers (numbered as in the prompt,
 *               1-based); all passages when it cites none (or only numbers that do not exist)
 *   overlap   = share of the answer's distinct content words (stemmed, markers and function
 *               words left out) that occur in the cited passages' text or titles
 *   retrieval = the highest cosine similarity among the cited passages, clamped to [0, 1]
 *   grounding = overlap × (0.6 + 0.4 × retrieval), rounded to 3 decimals
 *
 * Overlap is the factor that can reach zero: an answer made of words the passages do not hold is
 * ungrounded however well retrieval went. Retrieval only scales it, between 60 % (found by text
 * search alone, similarity 0) and 100 %. The score is 0 with no passages, for an answer without
 * content words, and for an answer saying it does not know (it cites nothing, so grounds nothing).
 */
import { citedNumbers, contentStems, saysNotFound, withoutMarkers } from './grounding-text';
import type { Passage } from './types';

/** Weight of retrieval similarity in the score: see the formula above. */
const RETRIEVAL_WEIGHT = 0.4;

/** The passages an answer cites (1-based `[n]` markers), or all of them when it cites none that exist. */
export function citedPassages(answer: string, passages: Passage[]): Passage[] {
  const cited = citedNumbers(answer)
    .map((n) => passages[n - 1])
    .filter((p): p is Passage => p !== undefined);
  return cited.length > 0 ? cited : passages;
}

export function groundingScore(answer: string, passages: Passage[]): number {
  if (passages.length === 0 || saysNotFound(answer)) return 0;
  const claimed = contentStems(withoutMarkers(answer));
  if (claimed.size === 0) return 0;
  const cited = citedPassages(answer, passages);
  const support = new Set<string>();
  for (const p of cited) {
    for (const s of contentStems(`${p.title ?? ''}\n${p.headingPath.join('\n')}\n${p.content}`)) support.add(s);
  }
  let found = 0;
  for (const s of claimed) if (support.has(s)) found++;
  const overlap = found / claimed.size;
  const retrieval = Math.max(...cited.map((p) => clamp01(p.similarity)));
  return round3(overlap * (1 - RETRIEVAL_WEIGHT + RETRIEVAL_WEIGHT * retrieval));
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

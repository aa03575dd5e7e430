/**
 * Text preparation for the routing rules (route-rules.ts): one normalised form of a message —
 * lower case, accents removed, censored swearing spelled out — split into word tokens, plus a
 * "canonical" form where misspellings of the few words that ask for a person (hmuan,
 * represenative, tlak, speek…) are corrected, so the rules can stay plain regular expressions.
 */

/** Only the start of a long message is inspected; the chat API caps messages at 4,000 characters. */
const MAX_INSPECTED = 4000;

export interface PreparedText {
  /** The message as sent (first MAX_INSPECTED characters). */
  raw: string;
  /** Word tokens of the normalised text ("don't" and "quelqu'un" stay one token). */
  tokens: string[];
  /** Tokens joined by single spaces. */
  plain: string;
  /** `plain` with misspellings of the person-request vocabulary corrected. */
  canon: string;
}

export function prepare(message: string): PreparedText {
  const raw = message.slice(0, MAX_INSPECTED);
  const normalised = raw
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[’‘`´]/g, "'")
    .replace(/\bf[*#@$%!]{1,2}c?k/g, 'fuck')
    .replace(/\bsh[*#@$%!]t/g, 'shit');
  const tokens = (normalised.match(/[\p{L}\p{N}]+(?:'\p{L}+)*/gu) ?? []).slice(0, 1000);
  return { raw, tokens, plain: tokens.join(' '), canon: tokens.map(canonical).join(' ') };
}

/** Collapses runs of a repeated character ("hiiii" → "hi", "thaaanks" → "thanks", "hello" → "helo"). */
export const collapseRuns = (word: string): string => word.replace(/(.)\1+/gu, '$1');

// Nouns for "a person" and the verbs that ask for one. Nouns are corrected by edit distance;
// verbs only from a list, because near neighbours of "talk" and "speak" are common words
// (walk, tall, task, spear, sneak).
const FUZZY_NOUNS = ['human', 'person', 'agent', 'representative', 'operator', 'someone', 'somebody'];
const NOT_MISSPELLINGS = new Set(['humane', 'persona', 'personal', 'argent', 'operate', 'hunan', 'humor']);
const VERB_MISSPELLINGS: Record<string, string> = {
  tlak: 'talk',
  takl: 'talk',
  talkk: 'talk',
  tallk: 'talk',
  tolk: 'talk',
  speek: 'speak',
  spek: 'speak',
  speack: 'speak',
  spaek: 'speak',
  sepak: 'speak',
  speal: 'speak',
  spreak: 'speak',
};

function canonical(token: string): string {
  const verb = VERB_MISSPELLINGS[token];
  if (verb) return verb;
  if (token.length < 4 || NOT_MISSPELLINGS.has(token)) return token;
  for (const noun of FUZZY_NOUNS) {
    if (token === noun) return token;
    const allowed = noun.length >= 10 ? 2 : 1;
    if (Math.abs(token.length - noun.length) <= allowed && editDistance(token, noun) <= allowed) return noun;
  }
  return token;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i];
    if (!row) continue;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The word handling shared by the grounding score (grounding.ts) and the extractive answerer
 * (extractive.ts): content words (lower-cased, accents folded, function words dropped),
 * "stemming-lite" (a few English suffixes, so "refunds"/"refunded"/"refund" meet), sentence
 * splitting, citation markers like `[2]`, and the phrases that mean "I don't know".
 * Deterministic and dependency-free: no model, no I/O.
 */

const WORDS = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;
const NON_ASCII = /[^\p{ASCII}]/u;
const DIGIT = /\p{N}/u;

/** Frequent English function words: they say nothing about what a text is about. */
const STOPWORDS = new Set(
  (
    'a about after all also an and any are as at be been before but by can could did do does for from get ' +
    'got had has have how i if in into is it its just me more most my no not now of on only or other our ' +
    'out over please should so some such than that the their them then there these they this those to too ' +
    'us very was we were what when where which while who whom why will with would you your yours'
  ).split(' '),
);

/** Lower-cased words of `text`, accents folded ("Café" → "cafe"). */
export function words(text: string): string[] {
  let normalised = text.toLowerCase();
  if (NON_ASCII.test(normalised)) normalised = normalised.normalize('NFKD').replace(MARKS, '');
  return normalised.match(WORDS) ?? [];
}

/**
 * Stemming-lite: strips one common English suffix from words longer than four letters
 * ("refunds" → "refund", "takes" → "take", "boxes" → "box", "policies" → "policy",
 * "accepted" → "accept", "shipping" → "shipp"). Crude on purpose — both sides of every
 * comparison go through it, so it only has to be consistent.
 */
export function stem(word: string): string {
  if (word.length <= 4) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (/(ss|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('ss')) return word;
  return word.replace(/(ing|ed|ly|s)$/, '');
}

/** Whether a (lower-cased) word carries meaning: not a function word; 3+ letters or any digit. */
export function isContentWord(word: string): boolean {
  return !STOPWORDS.has(word) && (word.length >= 3 || DIGIT.test(word));
}

/** The distinct stemmed content words of `text`. */
export function contentStems(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of words(text)) if (isContentWord(w)) out.add(stem(w));
  return out;
}

/** The stemmed content words of `text` in order, repeats kept. */
export function contentStemList(text: string): string[] {
  return words(text).filter(isContentWord).map(stem);
}

/** Sentences of a passage: split after `.`, `!`, `?` followed by space, and at line breaks. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0);
}

const MARKER = /\[(\d{1,3})\]/g;

/** The 1-based passage numbers an answer cites with `[n]` markers, in order of first mention. */
export function citedNumbers(answer: string): number[] {
  const seen = new Set<number>();
  for (const m of answer.matchAll(MARKER)) seen.add(Number(m[1]));
  return [...seen];
}

/** `answer` without its `[n]` citation markers. */
export function withoutMarkers(answer: string): string {
  return answer.replace(MARKER, ' ');
}

/**
 * Ways an answer says it has nothing: first person only, so advice such as "if you can't find
 * your receipt…" is not mistaken for a refusal to answer.
 */
const APOSTROPHE = "['’]?";
const NOT = `(?: ?not|n${APOSTROPHE}t)`;
const NO_ANSWER = new RegExp(
  [
    `\\bi do${NOT} know\\b`,
    `\\bi(?: am|${APOSTROPHE}m) not sure\\b`,
    `\\bi (?:could${NOT}|can${NOT}|did${NOT}|was${NOT} able to) find\\b`,
    `\\bi(?: am|${APOSTROPHE}m) unable to find\\b`,
    `\\b(?:knowledge base|documentation|context) (?:does${NOT}|did${NOT}) (?:contain|mention|cover|say)\\b`,
  ].join('|'),
  'i',
);

/** Whether `answer` says it has no answer ("I couldn't find this…", "I don't know."). */
export function saysNotFound(answer: string): boolean {
  return NO_ANSWER.test(answer);
}

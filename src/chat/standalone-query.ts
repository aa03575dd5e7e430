/**
 * Rule-based rewrite of a follow-up question into a standalone search query, for when no model
 * is available to do it: "how long does it take?" after "how do I get a refund?" searches for
 * "how long does it take? refund". Deterministic, no I/O; the model-based rewrite lives elsewhere.
 */
import { keyTerms, words } from './terms';

/** Words that point back at something said before. */
const ANAPHORA = new Set(
  'it its itself that this these those they them their theirs there he him his she her same one ones'.split(' '),
);

/** Openers of a message that continues the previous one: "and for Germany?", "what about returns?". */
const CONTINUATION = /^(?:and|also|but|or|so|then|plus|what about|how about|same for|ok and|okay and)\b/i;

/** Most key terms carried over from the earlier turns. */
const MAX_CARRIED = 6;

/** How many earlier user turns to look back through for key terms. */
const LOOKBACK = 2;

export interface HistoryTurn {
  role: string;
  content: string;
}

/**
 * `message` unchanged when it stands on its own; otherwise `message` followed by the key terms
 * of the latest earlier user turn that has any (looking back {@link LOOKBACK} user turns),
 * without the terms `message` already contains. A message counts as a follow-up when it uses a
 * pronoun that points back ("it", "that", "they", "this"…), opens with a continuation ("and",
 * "what about"…), or has fewer than two key terms of its own ("how much?", "and Germany?").
 * `history` is the conversation before `message`, oldest first; a trailing copy of `message`
 * itself is ignored.
 */
export function standaloneQuery(history: readonly HistoryTurn[], message: string): string {
  const current = message.trim();
  if (!isFollowUp(current)) return current;

  const earlier = history.filter((t) => t.role === 'user').map((t) => t.content.trim());
  if (earlier.at(-1) === current) earlier.pop();

  const own = new Set(keyTerms(current).map((t) => t.toLowerCase()));
  for (const turn of earlier.slice(-LOOKBACK).reverse()) {
    const carried = keyTerms(turn)
      .filter((t) => !own.has(t.toLowerCase()))
      .slice(0, MAX_CARRIED);
    if (carried.length > 0) return current ? `${current} ${carried.join(' ')}` : carried.join(' ');
  }
  return current;
}

/** Whether `message` likely leans on the turns before it (see {@link standaloneQuery}). */
export function isFollowUp(message: string): boolean {
  if (CONTINUATION.test(message)) return true;
  if (words(message).some((w) => ANAPHORA.has(w.toLowerCase()))) return true;
  return keyTerms(message).length < 2;
}

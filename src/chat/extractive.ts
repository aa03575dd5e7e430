/**
 * `parley-extractive-v1`: answers from the retrieved passages without any model. It quotes the
 * one to three sentences that share the most content words with the question (stemming-lite;
 * the passage's retrieval score breaks ties), each followed by its `[n]` citation marker, and
 * says plainly when nothing relevant was found. It is the local provider when no OpenAI key is
 * configured (so `npm run dev` works offline) and the degraded-mode fallback when the model
 * provider keeps failing (resilient.ts). No I/O, deterministic.
 */
import { contentStems, sentences } from './grounding-text';
import type { ChatProvider, Generation, Passage } from './types';

export const EXTRACTIVE_MODEL = 'parley-extractive-v1';

/** What the extractive provider answers when no passage sentence matches the question. */
export const NOT_FOUND_ANSWER =
  "I couldn't find this in the knowledge base. Could you rephrase your question, or ask to talk to a person?";

/** Sentences shorter than this (in words) are headings or fragments, never quoted alone. */
const MIN_SENTENCE_WORDS = 4;
/** Longer sentences are cut at a word boundary, with an ellipsis. */
const MAX_SENTENCE_CHARS = 320;
/** Words per streamed delta. */
const WORDS_PER_DELTA = 2;

export interface ExtractiveOptions {
  /** Reported as `result.degraded`: false for the no-key local mode, true as the fallback. Default false. */
  degraded?: boolean;
  /** Sentences quoted at most. Default 3. */
  maxSentences?: number;
}

export interface ExtractiveAnswer {
  text: string;
  /** 1-based numbers of the passages quoted (as cited in `text`). */
  cited: number[];
}

interface Candidate {
  sentence: string;
  passage: number;
  position: number;
  matched: number;
  score: number;
}

/** Picks the sentences that answer `question` best and writes them with citation markers. */
export function extractiveAnswer(question: string, passages: Passage[], maxSentences = 3): ExtractiveAnswer {
  const wanted = contentStems(question);
  if (wanted.size === 0) return { text: NOT_FOUND_ANSWER, cited: [] };
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  passages.forEach((p, passage) => {
    sentences(p.content).forEach((sentence, position) => {
      const key = sentence.toLowerCase();
      if (seen.has(key) || sentence.split(' ').length < MIN_SENTENCE_WORDS) return;
      seen.add(key);
      let matched = 0;
      for (const s of contentStems(sentence)) if (wanted.has(s)) matched++;
      // Relevant: two question words, or a third of them when the question is short.
      if (matched >= 2 || (matched >= 1 && matched * 3 >= wanted.size)) {
        candidates.push({ sentence, passage, position, matched, score: p.score });
      }
    });
  });
  candidates.sort(
    (a, b) => b.matched - a.matched || b.score - a.score || a.passage - b.passage || a.position - b.position,
  );
  const best = candidates[0];
  if (!best) return { text: NOT_FOUND_ANSWER, cited: [] };
  // Supporting sentences must be at least half as relevant as the best one.
  const floor = Math.max(1, Math.ceil(best.matched / 2));
  const picked = candidates.filter((c) => c.matched >= floor).slice(0, Math.max(1, maxSentences));
  picked.sort((a, b) => a.passage - b.passage || a.position - b.position);
  const text = picked.map((c) => `${clip(c.sentence)} [${c.passage + 1}]`).join(' ');
  return { text, cited: [...new Set(picked.map((c) => c.passage + 1))] };
}

/** The extractive provider (name `local-extractive`). */
export function extractiveProvider(options: ExtractiveOptions = {}): ChatProvider {
  const degraded = options.degraded ?? false;
  const maxSentences = options.maxSentences ?? 3;
  return {
    name: 'local-extractive',
    generate(_messages, context, opts): Promise<Generation> {
      const { text } = extractiveAnswer(context.question, context.passages, maxSentences);
      return Promise.resolve({
        deltas: streamWords(text, opts.signal),
        result: Promise.resolve({ model: EXTRACTIVE_MODEL, degraded }),
      });
    },
  };
}

/** `text` as deltas of a couple of words each, so streaming clients see it arrive in pieces. */
async function* streamWords(text: string, signal: AbortSignal | undefined): AsyncGenerator<string> {
  const pieces = text.match(/\s*\S+/g) ?? [];
  for (let i = 0; i < pieces.length; i += WORDS_PER_DELTA) {
    signal?.throwIfAborted();
    yield pieces.slice(i, i + WORDS_PER_DELTA).join('');
  }
}

function clip(sentence: string): string {
  if (sentence.length <= MAX_SENTENCE_CHARS) return sentence;
  const cut = sentence.slice(0, MAX_SENTENCE_CHARS);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), MAX_SENTENCE_CHARS / 2)).trimEnd()}…`;
}

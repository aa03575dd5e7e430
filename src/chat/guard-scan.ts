/**
 * The incremental secret scanner behind the output guard (guard.ts). Text is pushed in pieces
 * (stream deltas); each push says which prefix of the text is safe to release and whether a
 * secret appeared. Two kinds of protected strings:
 *
 * - short secrets (fewer than `runWords` words, e.g. a canary `CANARY-1234-SECRET`) match on
 *   their letters and digits only, case- and accent-insensitively, so `canary 1234 secret` or
 *   `Canary-1234-Secret` are caught too. Secrets with fewer than 4 letters/digits are ignored.
 * - long secrets (the persona / system prompt) match as any `runWords` (default 6) consecutive
 *   words of theirs appearing verbatim (same word normalisation) in the output.
 *
 * Hold-back strategy: the scanner releases everything except the shortest tail that could still
 * become the start of a match — the longest text suffix that is a proper prefix of a short
 * secret, the words of any partial run of a long secret that the next word could extend, and
 * the last word while it may still grow into a word of a long secret. A secret therefore always
 * completes inside held-back text, however the deltas split it, and ordinary text is delayed by a
 * word or two at most — not at all while its words cannot become a long secret's words.
 */

const MARK = /\p{M}/u;
const ALNUM = /[\p{L}\p{N}]/u;
const MIN_SECRET_CHARS = 4;

export interface ScanStep {
  /** Text now safe to send, continuing what earlier steps released. */
  release: string;
  /** A protected string appeared: send nothing more of this text. */
  blocked: boolean;
}

interface Run {
  /** Which long secret, and the index of its word matched last. */
  secret: number;
  pos: number;
  /** Words matched so far, and the raw offset of the first one. */
  len: number;
  start: number;
}

/** Letters and digits of one character, lower-cased and without accents ('' for anything else). */
function fold(char: string): string {
  let out = '';
  for (const c of char.normalize('NFKD').toLowerCase()) if (ALNUM.test(c)) out += c;
  return out;
}

/** Words of `text` as the scanner sees them (letters/digits runs, folded). */
export function scanWords(text: string): string[] {
  const out: string[] = [];
  let word = '';
  for (const char of text) {
    if (MARK.test(char)) continue;
    const f = fold(char);
    if (f) word += f;
    else if (word) {
      out.push(word);
      word = '';
    }
  }
  if (word) out.push(word);
  return out;
}

export class SecretScanner {
  private readonly short: string[] = [];
  private readonly long: string[][] = [];
  /** Folded word → every (long secret, word index) where it occurs. */
  private readonly index = new Map<string, Array<[number, number]>>();
  /** Every prefix of an indexed word: a partial word outside it cannot become one. */
  private readonly prefixes = new Set<string>();
  private raw = '';
  private released = 0;
  /** Folded letters/digits of the text, and the raw offset each came from. */
  private folded = '';
  private foldedAt: number[] = [];
  private word = '';
  private wordStart = 0;
  private runs: Run[] = [];
  private done = false;

  constructor(
    secrets: string[],
    private readonly runWords = 6,
  ) {
    for (const secret of secrets) {
      const words = scanWords(secret);
      if (words.length >= runWords) {
        const n = this.long.push(words) - 1;
        words.forEach((w, pos) => {
          const at = this.index.get(w) ?? [];
          at.push([n, pos]);
          this.index.set(w, at);
          for (let k = 1; k <= w.length; k++) this.prefixes.add(w.slice(0, k));
        });
      } else {
        const folded = words.join('');
        if (folded.length >= MIN_SECRET_CHARS) this.short.push(folded);
      }
    }
  }

  push(chunk: string): ScanStep {
    if (this.done) return { release: '', blocked: true };
    const before = this.folded.length;
    for (const char of chunk) {
      const at = this.raw.length;
      this.raw += char;
      if (MARK.test(char)) continue;
      const f = fold(char);
      if (f) {
        if (!this.word) this.wordStart = at;
        this.word += f;
        for (const c of f) {
          this.folded += c;
          this.foldedAt.push(at);
        }
      } else if (this.word && this.completeWord()) return this.block();
    }
    if (this.shortSecretSince(before)) return this.block();
    return this.releaseUpTo(this.holdFrom());
  }

  /** The text is complete: the last word cannot grow any more. */
  end(): ScanStep {
    if (this.done) return { release: '', blocked: true };
    if (this.word && this.completeWord()) return this.block();
    this.done = true;
    return this.releaseUpTo(this.raw.length);
  }

  private block(): ScanStep {
    this.done = true;
    return { release: '', blocked: true };
  }

  private releaseUpTo(end: number): ScanStep {
    const release = end > this.released ? this.raw.slice(this.released, end) : '';
    this.released = Math.max(this.released, end);
    return { release, blocked: false };
  }

  /** Extends the partial runs with the word just completed; true when one reached `runWords`. */
  private completeWord(): boolean {
    const word = this.word;
    this.word = '';
    const next: Run[] = [];
    const taken = new Set<string>();
    for (const run of this.runs) {
      if (this.long[run.secret]?.[run.pos + 1] === word) {
        next.push({ ...run, pos: run.pos + 1, len: run.len + 1 });
        taken.add(`${run.secret}:${run.pos + 1}`);
      }
    }
    for (const [secret, pos] of this.index.get(word) ?? []) {
      if (!taken.has(`${secret}:${pos}`)) next.push({ secret, pos, len: 1, start: this.wordStart });
    }
    if (next.some((r) => r.len >= this.runWords)) return true;
    // Only runs the next word could extend can still become a match.
    this.runs = next.filter((r) => r.pos + 1 < (this.long[r.secret]?.length ?? 0));
    return false;
  }

  /** Whether a short secret ends in the folded text added since `before`. */
  private shortSecretSince(before: number): boolean {
    return this.short.some((s) => this.folded.indexOf(s, Math.max(0, before - s.length + 1)) !== -1);
  }

  /** The raw offset from which text must be held back (see the header). */
  private holdFrom(): number {
    let hold = this.raw.length;
    // A word still growing is held only while it could become a word of a long secret.
    if (this.word && this.prefixes.has(this.word)) hold = Math.min(hold, this.wordStart);
    for (const run of this.runs) hold = Math.min(hold, run.start);
    for (const s of this.short) {
      for (let k = Math.min(s.length - 1, this.folded.length); k > 0; k--) {
        if (this.folded.endsWith(s.slice(0, k))) {
          hold = Math.min(hold, this.foldedAt[this.folded.length - k] ?? hold);
          break;
        }
      }
    }
    return hold;
  }
}

/**
 * Builds Section[] for formats with headings (Markdown, HTML, DOCX): keeps the current heading
 * path as a stack — a level-n heading replaces everything at level ≥ n — and stamps it on each
 * paragraph added after it.
 */
import type { Section } from '../types';
import { normalizeWhitespace } from './text';

export class SectionBuilder {
  readonly sections: Section[] = [];
  private readonly headings: { level: number; text: string }[] = [];

  /** Starts a heading of `level` (1 = outermost). Blank headings are ignored. */
  heading(level: number, text: string): void {
    const clean = normalizeWhitespace(text).replace(/\s+/g, ' ');
    if (!clean) return;
    while ((this.headings.at(-1)?.level ?? 0) >= level) this.headings.pop();
    this.headings.push({ level, text: clean });
  }

  /** Adds a paragraph under the current headings; whitespace is normalised, blank text dropped. */
  paragraph(text: string): void {
    const clean = normalizeWhitespace(text);
    if (clean) this.sections.push({ text: clean, headingPath: this.headings.map((h) => h.text) });
  }
}

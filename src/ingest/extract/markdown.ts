/**
 * Markdown: ATX (`## x`) and setext (`x\n---`) headings become the heading path; fenced code
 * blocks are kept verbatim as text (a `#` inside them is not a heading); YAML (`---`) or TOML
 * (`+++`) front matter is skipped, its `title:` used as the title. Inline links and images keep
 * their visible text; link reference definitions, table separator rows and HTML comments go.
 */
import type { ExtractedDocument } from '../types';
import { SectionBuilder } from './sections';

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const LINK_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*\S+/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

/** Returns the index of the first line after front matter, and its title if it declares one. */
function frontMatter(lines: string[]): { start: number; title?: string } {
  const marker = lines[0]?.trim();
  if (marker !== '---' && marker !== '+++') return { start: 0 };
  const end = lines.findIndex(
    (line, i) => i > 0 && (line.trim() === marker || (marker === '---' && line.trim() === '...')),
  );
  if (end === -1) return { start: 0 };
  for (const line of lines.slice(1, end)) {
    const title = /^title\s*[:=]\s*(.+?)\s*$/.exec(line)?.[1];
    if (title) return { start: end + 1, title: title.replace(/^(["'])(.*)\1$/, '$2') };
  }
  return { start: end + 1 };
}

/** Keeps what a reader sees of inline Markdown: link and image text, autolink targets. */
function inlineText(line: string): string {
  return line
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
    .replace(/<(https?:\/\/[^>\s]+)>/g, '$1');
}

export function extractMarkdown(text: string): ExtractedDocument {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .replace(/<!--[\s\S]*?-->/g, '')
    .split('\n');
  const front = frontMatter(lines);
  const builder = new SectionBuilder();
  let firstH1: string | undefined;
  let paragraph: string[] = [];
  const flush = () => {
    builder.paragraph(paragraph.join('\n'));
    paragraph = [];
  };
  const heading = (level: number, content: string) => {
    flush();
    const clean = inlineText(content).trim();
    if (level === 1) firstH1 ??= clean || undefined;
    builder.heading(level, clean);
  };

  for (let i = front.start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line)?.[1];
    if (fence) {
      flush();
      const code: string[] = [];
      const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
      for (i++; i < lines.length && !closing.test(lines[i] ?? ''); i++) code.push(lines[i] ?? '');
      builder.paragraph(code.join('\n'));
      continue;
    }
    const atx = ATX.exec(line);
    if (atx) {
      heading(atx[1]?.length ?? 1, atx[2] ?? '');
      continue;
    }
    if (paragraph.length > 0 && SETEXT.test(line)) {
      const content = paragraph.join(' ');
      paragraph = [];
      heading(line.trim().startsWith('=') ? 1 : 2, content);
      continue;
    }
    if (line.trim() === '' || THEMATIC_BREAK.test(line)) {
      flush();
      continue;
    }
    if (LINK_DEFINITION.test(line) || TABLE_SEPARATOR.test(line)) continue;
    paragraph.push(inlineText(line));
  }
  flush();
  return { title: front.title ?? firstH1, sections: builder.sections };
}

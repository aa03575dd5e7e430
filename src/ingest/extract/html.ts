/**
 * HTML through workerd's streaming HTMLRewriter. Page chrome is dropped (script, style,
 * noscript, nav, aside, form, svg, iframe, template, anything `hidden`, `aria-hidden="true"` or
 * with a navigation/banner/contentinfo role, and header/footer unless inside article/main/section
 * where they hold the article's own heading). <title> becomes the title, h1–h6 the heading path,
 * each block (paragraph, list item, table row as "cell | cell") a paragraph. Links are collected
 * from the whole page, chrome included, because the crawler needs the navigation.
 * HTMLRewriter passes text and attributes through undecoded, so entities are decoded here.
 */
import type { ExtractedDocument } from '../types';
import { decodeEntities } from './entities';
import { SectionBuilder } from './sections';

const SKIPPED = new Set(['script', 'style', 'noscript', 'nav', 'aside', 'form', 'svg', 'iframe', 'template', 'object']);
const SKIPPED_ROLES = new Set(['navigation', 'banner', 'contentinfo']);
const SECTIONING = new Set(['article', 'main', 'section']);
const BLOCKS = new Set(
  (
    'address article blockquote caption dd details dialog div dl dt fieldset figcaption figure hr li main ol p pre ' +
    'section summary table tbody tfoot thead tr ul body'
  ).split(' '),
);
const TABLE_PARTS = new Set(['table', 'thead', 'tbody', 'tfoot', 'tr']);
const HEADING = /^h([1-6])$/;
/** Marks a table-cell boundary inside a paragraph buffer until flush turns it into " | ". */
const CELL = '\ue000';

/**
 * Runs `actions` at the element's end tag. An element keeps only one end-tag handler, so all
 * actions go through one registration. False for elements that have no end tag (void, self-closed).
 */
function onEnd(element: Element, ...actions: (() => void)[]): boolean {
  try {
    element.onEndTag(() => actions.forEach((action) => action()));
    return true;
  } catch {
    return false;
  }
}

/** The charset a page declares in `<meta charset>` or `<meta http-equiv content>`, if any. */
export function metaCharset(bytes: Uint8Array): string | undefined {
  const head = String.fromCharCode(...bytes.subarray(0, 1024));
  return /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1];
}

class HtmlCollector {
  readonly builder = new SectionBuilder();
  readonly links = new Set<string>();
  title?: string;
  canonicalUrl?: string;
  firstH1?: string;
  private base?: URL;
  private skipDepth = 0;
  private sectioningDepth = 0;
  private preDepth = 0;
  private cellDepth = 0;
  private buffer: string[] = [];
  private heading?: { level: number; parts: string[] };
  private titleParts?: string[];

  constructor(url?: string) {
    this.base = this.resolve(url ?? '', undefined);
  }

  private resolve(href: string, base: URL | undefined): URL | undefined {
    try {
      const url = new URL(decodeEntities(href.trim()), base);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
    } catch {
      return undefined;
    }
  }

  private absolute(href: string | null): string | undefined {
    const url = href === null ? undefined : this.resolve(href, this.base);
    if (!url) return undefined;
    url.hash = '';
    return url.href;
  }

  element(el: Element): void {
    const tag = el.tagName.toLowerCase();
    if (tag === 'a') {
      const link = this.absolute(el.getAttribute('href'));
      if (link) this.links.add(link);
    } else if (tag === 'base' && this.skipDepth === 0) {
      this.base = this.resolve(el.getAttribute('href') ?? '', this.base) ?? this.base;
    } else if (tag === 'link' && /(^|\s)canonical(\s|$)/i.test(el.getAttribute('rel') ?? '')) {
      this.canonicalUrl ??= this.absolute(el.getAttribute('href'));
    }
    if (this.skipDepth > 0) return;

    if (this.isChrome(el, tag)) {
      this.flush();
      if (onEnd(el, () => this.skipDepth--)) this.skipDepth++;
      return;
    }
    const atEnd: (() => void)[] = [];
    if (SECTIONING.has(tag)) {
      this.sectioningDepth++;
      atEnd.push(() => this.sectioningDepth--);
    }
    if (tag === 'pre') {
      this.preDepth++;
      atEnd.push(() => this.preDepth--);
    }

    const level = HEADING.exec(tag)?.[1];
    if (tag === 'title' && this.title === undefined) {
      const parts: string[] = [];
      this.titleParts = parts;
      atEnd.push(() => {
        this.title = inline(parts.join('')) || undefined;
        this.titleParts = undefined;
      });
    } else if (level) {
      this.flush();
      const heading = { level: Number(level), parts: [] as string[] };
      this.heading = heading;
      atEnd.push(() => {
        const text = inline(heading.parts.join(''));
        if (heading.level === 1) this.firstH1 ??= text || undefined;
        this.builder.heading(heading.level, text);
        if (this.heading === heading) this.heading = undefined;
      });
    } else if (BLOCKS.has(tag) && this.cellDepth > 0 && !TABLE_PARTS.has(tag)) {
      // A block inside a table cell (<td><p>…</p></td>) stays in the row's line.
      this.buffer.push(' ');
    } else if (BLOCKS.has(tag)) {
      this.flush();
      atEnd.push(() => this.flush());
    } else if (tag === 'td' || tag === 'th') {
      this.buffer.push(CELL);
      this.cellDepth++;
      atEnd.push(() => this.cellDepth--);
    } else if (tag === 'br') {
      (this.heading?.parts ?? this.buffer).push(this.heading ? ' ' : '\n');
    }
    if (atEnd.length > 0 && !onEnd(el, ...atEnd)) {
      // No end tag to wait for (void or self-closed element): it ends right here.
      atEnd.forEach((action) => action());
    }
  }

  private isChrome(el: Element, tag: string): boolean {
    if (SKIPPED.has(tag)) return true;
    if ((tag === 'header' || tag === 'footer') && this.sectioningDepth === 0) return true;
    if (el.hasAttribute('hidden') || el.getAttribute('aria-hidden')?.trim().toLowerCase() === 'true') return true;
    return SKIPPED_ROLES.has(el.getAttribute('role')?.trim().toLowerCase() ?? '');
  }

  text(chunk: Text): void {
    if (this.skipDepth > 0 || !chunk.text) return;
    const target = this.titleParts ?? this.heading?.parts ?? this.buffer;
    target.push(this.preDepth > 0 && target === this.buffer ? chunk.text : chunk.text.replace(/\s+/g, ' '));
  }

  /** Ends the current paragraph: decodes entities, turns cell marks into " | ". */
  flush(): void {
    if (this.buffer.length === 0) return;
    const raw = decodeEntities(this.buffer.join(''));
    this.buffer = [];
    const cells = raw.split(CELL).map((cell) => cell.trim());
    this.builder.paragraph(cells.filter((cell) => cell.length > 0).join(' | '));
  }
}

function inline(text: string): string {
  return decodeEntities(text).replace(/\s+/g, ' ').trim();
}

/** Extracts an HTML page; `url` makes relative links and the canonical URL absolute. */
export async function extractHtml(html: string, url?: string): Promise<ExtractedDocument> {
  const collector = new HtmlCollector(url);
  const rewriter = new HTMLRewriter()
    .on('*', { element: (el) => collector.element(el) })
    .onDocument({ text: (chunk) => collector.text(chunk) });
  // The handlers only run while the transformed body is consumed.
  await rewriter
    .transform(new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } }))
    .arrayBuffer();
  collector.flush();
  return {
    title: collector.title ?? collector.firstH1,
    canonicalUrl: collector.canonicalUrl,
    links: [...collector.links],
    sections: collector.builder.sections,
  };
}

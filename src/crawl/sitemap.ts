/**
 * Sitemaps (sitemaps.org protocol): a `<urlset>` lists pages, a `<sitemapindex>` lists more
 * sitemaps. Parsed with a tolerant scan of `<loc>` elements — sitemaps are machine-written and
 * often slightly malformed — after rejecting anything that is not XML.
 */
export interface SitemapEntries {
  kind: 'urlset' | 'index';
  urls: string[];
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };

export function parseSitemap(xml: string, limit = 50_000): SitemapEntries | undefined {
  const head = xml.slice(0, 2000).toLowerCase();
  const isIndex = head.includes('<sitemapindex');
  if (!isIndex && !head.includes('<urlset')) return undefined;
  const urls: string[] = [];
  const loc = /<loc>\s*(?:<!\[CDATA\[)?\s*([^<\]]+?)\s*(?:\]\]>)?\s*<\/loc>/gi;
  for (let match = loc.exec(xml); match && urls.length < limit; match = loc.exec(xml)) {
    const url = match[1]!.replace(/&(amp|lt|gt|quot|apos);/g, (entity) => ENTITIES[entity] ?? entity);
    if (/^https?:\/\//i.test(url)) urls.push(url);
  }
  return { kind: isIndex ? 'index' : 'urlset', urls };
}

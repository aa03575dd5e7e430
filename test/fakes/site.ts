/**
 * A small company website on loopback for crawl tests and the crawl benchmark.
 *
 *   /robots.txt          disallows /shop/private/, lists /sitemap.xml (+ Crawl-delay if asked)
 *   /shop/               links to every shop page (some twice, with tracking parameters)
 *   /shop/refunds        text about refunds; links back and to /shop/missing and /shop/broken
 *   /shop/shipping       text about shipping
 *   /shop/old-shipping   301 → /shop/shipping
 *   /shop/shipping-print same text, <link rel=canonical href=/shop/shipping>
 *   /shop/private/notes  disallowed by robots.txt (must never be fetched)
 *   /shop/missing        404;  /shop/broken 500
 *   /shop/report.pdf     application/pdf (not HTML: the crawler refuses it)
 *   /moves/              links to three redirects: /moves/ok (301 → /moves/landing),
 *                        /moves/to-private (301 → /shop/private/notes, robots-disallowed) and
 *                        /moves/off-site (302 → the same server as http://localhost:PORT, another site)
 *   /mixed/              links to /mixed/a and /mixed/b (pages), /mixed/garbage (labelled HTML,
 *                        really PDF bytes) and /mixed/gone (404)
 *   /busy                429 always;  /busy-twice  429 (Retry-After: 1) twice, then a page
 *   /docs/               an index linking to every page of the docs section
 *   /docs/1 … /docs/N    a section of N linked pages (N = `docsPages`, default 200)
 *   /sitemap.xml         sitemap index → /sitemap-shop.xml (urlset of the shop pages)
 *
 * Test controls: `GET /__hits` counts requests per path; `GET /__log` lists requests in order
 * ({path, host, at} with `at` in ms); `POST /__edit` replaces the refunds text; `POST /__remove`
 * makes /shop/shipping 404 from then on. `POST /__fork?crawl_delay=S&docs=N` starts a private
 * copy of the site on its own port and answers `{origin}`: tests that change the site or count
 * its requests use a fork, so they never see each other's state. Forks close with their parent.
 */
import { createServer, type ServerResponse, type Server } from 'node:http';

export interface Site {
  readonly origin: string;
  close(): Promise<void>;
}

export interface SiteOptions {
  docsPages?: number;
  /** Crawl-delay in robots.txt, seconds (none by default). */
  crawlDelay?: number;
}

const page = (title: string, body: string, head = '') =>
  `<!doctype html><html><head><title>${title}</title>${head}</head><body><nav><a href="/shop/">Home</a> Menu</nav><main><h1>${title}</h1>${body}</main><footer>© Shop</footer></body></html>`;
const links = (paths: string[]) => `<ul>${paths.map((p) => `<li><a href="${p}">${p}</a></li>`).join('')}</ul>`;
const SHIPPING = '<p>Orders ship within 2 business days. Express shipping arrives next day.</p>';
const PAGES: Record<string, [string, string]> = {
  '/moves/landing': ['Moved here', '<p>This page is where the moved links lead. It explains our warranty terms.</p>'],
  '/mixed/a': ['Returns', '<p>Returns are accepted within 30 days with the original packaging.</p>'],
  '/mixed/b': ['Warranty', '<p>Every device carries a two year warranty covering manufacturing faults.</p>'],
};

export async function startSite(opts: SiteOptions = {}): Promise<Site> {
  const docsPages = opts.docsPages ?? 200;
  const hits = new Map<string, number>();
  const requests: { path: string; host: string; at: number }[] = [];
  const forks = new Set<Site>();
  let refunds = 'Refunds are issued within 14 days of purchase. Keep your receipt. Contact support for a return label.';
  let shippingRemoved = false;
  let origin = '';

  function respond(res: ServerResponse, path: string, url: URL, body: Buffer): void {
    const html = (status: number, text: string) =>
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(text);
    const xml = (text: string) => res.writeHead(200, { 'content-type': 'application/xml' }).end(text);
    const redirect = (status: number, location: string) => res.writeHead(status, { location }).end();
    const docN = /^\/docs\/(\d+)$/.exec(path);
    const n = Number(docN?.[1] ?? 0);

    if (path === '/__hits') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(hits)));
    } else if (path === '/__log') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(requests));
    } else if (path === '/__edit') {
      refunds = body.toString('utf8');
      res.writeHead(204).end();
    } else if (path === '/__remove') {
      shippingRemoved = true;
      res.writeHead(204).end();
    } else if (path === '/__fork') {
      const delay = url.searchParams.get('crawl_delay');
      const docs = url.searchParams.get('docs');
      void startSite({
        docsPages: docs ? Number(docs) : docsPages,
        crawlDelay: delay ? Number(delay) : undefined,
      }).then((fork) => {
        forks.add(fork);
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ origin: fork.origin }));
      });
    } else if (path === '/robots.txt') {
      const delay = opts.crawlDelay !== undefined ? `Crawl-delay: ${opts.crawlDelay}\n` : '';
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(`User-agent: *\nDisallow: /shop/private/\n${delay}Sitemap: ${origin}/sitemap.xml\n`);
    } else if (path === '/shop/') {
      html(
        200,
        page(
          'Shop help',
          `<p>Welcome to the shop help centre.</p><ul>
            <li><a href="/shop/refunds">Refunds</a></li><li><a href="/shop/refunds?utm_source=nav">Refunds again</a></li>
            <li><a href="/shop/shipping">Shipping</a></li><li><a href="/shop/old-shipping">Old shipping</a></li>
            <li><a href="/shop/shipping-print">Print</a></li><li><a href="/shop/private/notes">Private</a></li>
            <li><a href="/shop/report.pdf">Report</a></li><li><a href="https://elsewhere.example/">Elsewhere</a></li></ul>`,
        ),
      );
    } else if (path === '/shop/refunds') {
      const more = '<a href="/shop/">Back</a> <a href="/shop/missing">Missing</a> <a href="/shop/broken">Broken</a>';
      html(200, page('Refunds', `<p>${refunds}</p><p>${more}</p>`));
    } else if (path === '/shop/shipping' && !shippingRemoved) {
      html(200, page('Shipping', SHIPPING));
    } else if (path === '/shop/shipping-print') {
      html(200, page('Shipping', SHIPPING, `<link rel="canonical" href="${origin}/shop/shipping">`));
    } else if (path === '/shop/old-shipping') {
      redirect(301, '/shop/shipping');
    } else if (path === '/shop/broken') {
      html(500, page('Error', '<p>Internal error</p>'));
    } else if (path === '/shop/report.pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf' }).end('%PDF-1.4\n');
    } else if (path === '/moves/') {
      html(
        200,
        page('Moves', `<p>Pages that moved.</p>${links(['/moves/ok', '/moves/to-private', '/moves/off-site'])}`),
      );
    } else if (path === '/moves/ok') {
      redirect(301, '/moves/landing');
    } else if (path === '/moves/to-private') {
      redirect(301, '/shop/private/notes');
    } else if (path === '/moves/off-site') {
      redirect(302, origin.replace('127.0.0.1', 'localhost') + '/moves/landing');
    } else if (path === '/mixed/') {
      html(
        200,
        page(
          'Help centre',
          `<p>All help pages.</p>${links(['/mixed/a', '/mixed/b', '/mixed/garbage', '/mixed/gone'])}`,
        ),
      );
    } else if (path === '/mixed/garbage') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('%PDF-1.4\n%\u00e2\u00e3\n1 0 obj <<>> endobj\n');
    } else if (PAGES[path]) {
      const [title, text] = PAGES[path];
      html(200, page(title, text));
    } else if (path === '/busy' || (path === '/busy-twice' && (hits.get(path) ?? 0) <= 2)) {
      res.writeHead(429, path === '/busy' ? {} : { 'retry-after': '1' }).end('slow down');
    } else if (path === '/busy-twice') {
      html(200, page('Patience', '<p>This page answers on the third try, after two polite waits.</p>'));
    } else if (path === '/sitemap.xml') {
      xml(
        `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${origin}/sitemap-shop.xml</loc></sitemap></sitemapindex>`,
      );
    } else if (path === '/sitemap-shop.xml') {
      const locs = ['/shop/', '/shop/refunds', '/shop/shipping'].map((p) => `<url><loc>${origin}${p}</loc></url>`);
      xml(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${locs.join('')}</urlset>`);
    } else if (path === '/docs/') {
      const all = Array.from({ length: docsPages }, (_, i) => `<li><a href="/docs/${i + 1}">Doc ${i + 1}</a></li>`);
      html(200, page('Documentation', `<p>All documentation pages.</p><ul>${all.join('')}</ul>`));
    } else if (docN && n >= 1 && n <= docsPages) {
      const next = [n + 1, n + 2, 1]
        .filter((m) => m <= docsPages)
        .map((m) => `<a href="/docs/${m}">Doc ${m}</a>`)
        .join(' ');
      const text = `Document ${n} explains feature ${n} of the product in some detail. ${'Lorem ipsum dolor sit amet. '.repeat(20)}`;
      html(200, page(`Doc ${n}`, `<p>${text}</p><p>${next}</p>`));
    } else {
      html(404, page('Not found', '<p>No such page</p>'));
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (!path.startsWith('/__')) {
      hits.set(path, (hits.get(path) ?? 0) + 1);
      requests.push({ path, host: req.headers.host ?? '', at: Date.now() });
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => respond(res, path, url, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    origin,
    close: async () => {
      await Promise.all([...forks].map((f) => f.close()));
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

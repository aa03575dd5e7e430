/**
 * A small company website on loopback for crawl tests and the crawl benchmark.
 *
 *   /robots.txt          disallows /shop/private/, lists /sitemap.xml
 *   /shop/               links to every shop page (some twice, with tracking parameters)
 *   /shop/refunds        text about refunds; links back and to /shop/missing and /shop/broken
 *   /shop/shipping       text about shipping
 *   /shop/old-shipping   301 → /shop/shipping
 *   /shop/shipping-print same text, <link rel=canonical href=/shop/shipping>
 *   /shop/private/notes  disallowed by robots.txt (must never be fetched)
 *   /shop/missing        404;  /shop/broken 500
 *   /shop/report.pdf     application/pdf (not HTML: the crawler refuses it)
 *   /docs/               an index linking to every page of the docs section
 *   /docs/1 … /docs/N    a section of N linked pages (N = `docsPages`, default 200)
 *   /sitemap.xml         sitemap index → /sitemap-shop.xml (urlset of the shop pages)
 * `GET /__hits` returns how often each path was requested; `POST /__edit` replaces the refunds
 * text (to test re-syncs); `POST /__remove` makes /shop/shipping 404 from then on.
 */
import { createServer, type Server } from 'node:http';

export interface Site {
  readonly origin: string;
  close(): Promise<void>;
}

const page = (title: string, body: string, head = '') =>
  `<!doctype html><html><head><title>${title}</title>${head}</head><body><nav><a href="/shop/">Home</a> Menu</nav><main><h1>${title}</h1>${body}</main><footer>© Shop</footer></body></html>`;

export async function startSite(opts: { docsPages?: number } = {}): Promise<Site> {
  const docsPages = opts.docsPages ?? 200;
  const hits = new Map<string, number>();
  let refunds = 'Refunds are issued within 14 days of purchase. Keep your receipt. Contact support for a return label.';
  let shippingRemoved = false;
  let origin = '';

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const html = (status: number, body: string) =>
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (path === '/__hits') {
        hits.delete('/__hits');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(hits)));
      } else if (path === '/__edit') {
        refunds = Buffer.concat(chunks).toString('utf8');
        res.writeHead(204).end();
      } else if (path === '/__remove') {
        shippingRemoved = true;
        res.writeHead(204).end();
      } else if (path === '/robots.txt') {
        res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end(`User-agent: *\nDisallow: /shop/private/\nSitemap: ${origin}/sitemap.xml\n`);
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
        html(
          200,
          page(
            'Refunds',
            `<p>${refunds}</p><p><a href="/shop/">Back</a> <a href="/shop/missing">Missing</a> <a href="/shop/broken">Broken</a></p>`,
          ),
        );
      } else if (path === '/shop/shipping' && !shippingRemoved) {
        html(200, page('Shipping', '<p>Orders ship within 2 business days. Express shipping arrives next day.</p>'));
      } else if (path === '/shop/shipping-print') {
        html(
          200,
          page(
            'Shipping',
            '<p>Orders ship within 2 business days. Express shipping arrives next day.</p>',
            `<link rel="canonical" href="${origin}/shop/shipping">`,
          ),
        );
      } else if (path === '/shop/old-shipping') {
        res.writeHead(301, { location: '/shop/shipping' }).end();
      } else if (path === '/shop/broken') {
        html(500, page('Error', '<p>Internal error</p>'));
      } else if (path === '/shop/report.pdf') {
        res.writeHead(200, { 'content-type': 'application/pdf' }).end('%PDF-1.4\n');
      } else if (path === '/sitemap.xml') {
        res
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(
            `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${origin}/sitemap-shop.xml</loc></sitemap></sitemapindex>`,
          );
      } else if (path === '/sitemap-shop.xml') {
        const locs = ['/shop/', '/shop/refunds', '/shop/shipping']
          .map((p) => `<url><loc>${origin}${p}</loc></url>`)
          .join('');
        res
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${locs}</urlset>`);
      } else if (path === '/docs/') {
        const links = Array.from(
          { length: docsPages },
          (_, i) => `<li><a href="/docs/${i + 1}">Doc ${i + 1}</a></li>`,
        ).join('');
        html(200, page('Documentation', `<p>All documentation pages.</p><ul>${links}</ul>`));
      } else if (/^\/docs\/\d+$/.test(path) && Number(path.slice(6)) >= 1 && Number(path.slice(6)) <= docsPages) {
        const n = Number(path.slice(6));
        const links = [n + 1, n + 2, 1]
          .filter((m) => m <= docsPages)
          .map((m) => `<a href="/docs/${m}">Doc ${m}</a>`)
          .join(' ');
        html(
          200,
          page(
            `Doc ${n}`,
            `<p>Document ${n} explains feature ${n} of the product in some detail. ${'Lorem ipsum dolor sit amet. '.repeat(20)}</p><p>${links}</p>`,
          ),
        );
      } else {
        html(404, page('Not found', '<p>No such page</p>'));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

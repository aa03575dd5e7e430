/**
 * A small website on loopback for the crawler's fetch tests: redirect chains and loops,
 * redirects to forbidden targets, large and slow bodies, odd content types and error statuses.
 *
 *   /page                    200 text/html
 *   /redirect/N              302 → /redirect/N-1 … → /page (N ≥ 1 redirects)
 *   /loop/a, /loop/b         302 to each other
 *   /redirect-to?url=U       302 → U (any Location, e.g. http://private.test/ or file:///etc/passwd)
 *   /big?bytes=N&declare=1   200 text/html of N bytes, chunked unless declare=1 (Content-Length)
 *   /slow                    200 text/html that sends a byte every 200 ms, forever
 *   /image                   200 image/png
 *   /status/CODE?retry=R     CODE, with Retry-After: R when given
 *   /robots.txt              200 text/plain robots file
 */
import { createServer, type Server } from 'node:http';

export interface CrawlSite {
  readonly port: number;
  close(): Promise<void>;
}

const CRAWL_SITE_ROBOTS =
  'User-agent: *\nDisallow: /private/\nCrawl-delay: 2\nSitemap: http://example.com/sitemap.xml\n';

export async function startCrawlSite(): Promise<CrawlSite> {
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const redirect = (location: string) => res.writeHead(302, { location }).end();
    const redirectN = /^\/redirect\/(\d+)$/.exec(path);
    const status = /^\/status\/(\d{3})$/.exec(path);

    if (path === '/page') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body>hello</body></html>');
    } else if (redirectN) {
      const n = Number(redirectN[1]);
      redirect(n > 1 ? `/redirect/${n - 1}` : '/page');
    } else if (path === '/loop/a' || path === '/loop/b') {
      redirect(path === '/loop/a' ? '/loop/b' : '/loop/a');
    } else if (path === '/redirect-to') {
      redirect(url.searchParams.get('url') ?? '/page');
    } else if (path === '/big') {
      const body = Buffer.alloc(Number(url.searchParams.get('bytes') ?? 0), 'a');
      const headers: Record<string, string | number> = { 'content-type': 'text/html' };
      if (url.searchParams.get('declare') === '1') headers['content-length'] = body.length;
      res.writeHead(200, headers);
      // Write in pieces so an undeclared body really streams.
      for (let i = 0; i < body.length; i += 16_384) res.write(body.subarray(i, i + 16_384));
      res.end();
    } else if (path === '/slow') {
      res.writeHead(200, { 'content-type': 'text/html' });
      const timer = setInterval(() => res.write('.'), 200);
      timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
    } else if (path === '/image') {
      res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    } else if (status) {
      const retry = url.searchParams.get('retry');
      res.writeHead(Number(status[1]), retry ? { 'retry-after': retry } : {}).end('status');
    } else if (path === '/robots.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(CRAWL_SITE_ROBOTS);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

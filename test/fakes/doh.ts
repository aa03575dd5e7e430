/**
 * A local DNS-over-HTTPS resolver speaking the dns-json format of cloudflare-dns.com/dns-query
 * (`GET /dns-query?name=…&type=A|AAAA`, `accept: application/dns-json`), answering from a small
 * fixed table so the crawler's SSRF tests can resolve names to public, private and special
 * addresses. `GET /__count?name=…` tells how many queries a name received (cache tests).
 */
import { createServer, type Server } from 'node:http';

export interface FakeDoh {
  /** The resolver URL to pass as `resolverUrl`. */
  readonly url: string;
  close(): Promise<void>;
}

type Rec = { type: 'A' | 'AAAA' | 'CNAME'; data: string; ttl?: number };

/** The table: every other name is NXDOMAIN; `servfail.test` fails. */
export const DOH_TABLE: Record<string, Rec[]> = {
  'public.test': [{ type: 'A', data: '93.184.216.34', ttl: 300 }],
  'public6.test': [{ type: 'AAAA', data: '2606:2800:220:1:248:1893:25c8:1946' }],
  'private.test': [{ type: 'A', data: '10.0.0.5' }],
  'private172.test': [{ type: 'A', data: '172.20.1.1' }],
  'private192.test': [{ type: 'A', data: '192.168.1.10' }],
  'meta.test': [{ type: 'A', data: '169.254.169.254' }],
  'meta6.test': [{ type: 'AAAA', data: 'fd00:ec2::254' }],
  'linklocal6.test': [{ type: 'AAAA', data: 'fe80::1' }],
  'v6private.test': [{ type: 'AAAA', data: 'fd00::1' }],
  'loop.test': [{ type: 'A', data: '127.0.0.1' }],
  'cgnat.test': [{ type: 'A', data: '100.64.0.1' }],
  'mapped.test': [{ type: 'AAAA', data: '::ffff:10.0.0.1' }],
  'nat64.test': [{ type: 'AAAA', data: '64:ff9b::a00:1' }],
  'sixtofour.test': [{ type: 'AAAA', data: '2002:c0a8:101::1' }],
  'zero.test': [{ type: 'A', data: '0.0.0.0' }],
  'mixed.test': [
    { type: 'A', data: '93.184.216.34' },
    { type: 'A', data: '10.0.0.6' },
  ],
  'alias.test': [
    { type: 'CNAME', data: 'private.test.' },
    { type: 'A', data: '10.0.0.5' },
  ],
  'alias-internal.test': [{ type: 'CNAME', data: 'metadata.google.internal.' }],
};

const TYPES = { A: 1, AAAA: 28, CNAME: 5 } as const;

export async function startFakeDoh(): Promise<FakeDoh> {
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/dns-json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/__count') return send(200, { count: counts.get(url.searchParams.get('name') ?? '') ?? 0 });
    if (url.pathname !== '/dns-query') return send(404, { error: 'not found' });
    // Like cloudflare-dns.com: without the JSON media type this is not a dns-json request.
    if (!(req.headers.accept ?? '').includes('application/dns-json')) return send(400, { error: 'bad accept' });
    const name = (url.searchParams.get('name') ?? '').toLowerCase().replace(/\.$/, '');
    const type = url.searchParams.get('type') === 'AAAA' ? 'AAAA' : 'A';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const question = [{ name: `${name}.`, type: TYPES[type] }];
    if (name === 'servfail.test') return send(200, { Status: 2, Question: question });
    const records = DOH_TABLE[name];
    if (!records) {
      const soa = { name: 'test.', type: 6, TTL: 30, data: 'ns.test. hostmaster.test. 1 7200 900 1209600 30' };
      return send(200, { Status: 3, TC: false, RD: true, RA: true, Question: question, Authority: [soa] });
    }
    const answer = records
      .filter((r) => r.type === type || r.type === 'CNAME')
      .map((r) => ({ name: `${name}.`, type: TYPES[r.type], TTL: r.ttl ?? 60, data: r.data }));
    send(200, { Status: 0, TC: false, RD: true, RA: true, AD: false, CD: false, Question: question, Answer: answer });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/dns-query`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A local stand-in for Sentry's ingest API: accepts envelopes at `POST /api/<project>/envelope/`
 * (what toucan-js sends for a DSN `http://key@127.0.0.1:PORT/<project>`), parses them, and lets
 * tests read what arrived at `GET /__events?request_id=…`.
 */
import { createServer, type Server } from 'node:http';

export interface FakeSentry {
  readonly port: number;
  readonly dsn: string;
  close(): Promise<void>;
}

interface StoredEvent {
  headers: Record<string, string | string[] | undefined>;
  items: unknown[];
}

export async function startFakeSentry(): Promise<FakeSentry> {
  const events: StoredEvent[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'POST' && /^\/api\/[^/]+\/envelope\/?$/.test(url.pathname)) {
        // An envelope is newline-delimited JSON: a header, then (item header, item payload) pairs.
        const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
        const items: unknown[] = [];
        for (let i = 1; i + 1 < lines.length; i += 2) items.push(JSON.parse(lines[i + 1]!));
        events.push({ headers: req.headers, items });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'fake' }));
        return;
      }
      if (req.method === 'GET' && url.pathname === '/__events') {
        const requestId = url.searchParams.get('request_id');
        const matching = events.filter((e) => !requestId || JSON.stringify(e.items).includes(requestId));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(matching));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    dsn: `http://publickey@127.0.0.1:${port}/1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

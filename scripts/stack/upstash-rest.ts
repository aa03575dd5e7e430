/**
 * An Upstash-compatible REST endpoint in front of a real Redis, for @upstash/redis and
 * @upstash/ratelimit in local development and tests. It speaks the parts of Upstash's REST
 * protocol those clients use: `POST /` (one command), `POST /pipeline`, `POST /multi-exec`,
 * Bearer-token auth, `{result}` / `{error}` bodies, and `Upstash-Encoding: base64` responses
 * (which @upstash/redis asks for by default).
 *
 * One addition that is not Upstash's: `GET /__parley/stats` (same Bearer token) answers
 * `{"requests": n, "commands": m}` — the HTTP requests this endpoint has served and the Redis
 * commands they carried (a pipeline of 4 is 1 request, 4 commands), counted since it started.
 * Stats requests themselves are not counted. Tests and benchmarks read it to count the round
 * trips a Worker request costs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';

type Command = (string | number)[];
type Reply = { result: unknown } | { error: string };

/** What `GET /__parley/stats` answers. */
export interface UpstashRestStats {
  requests: number;
  commands: number;
}

export const STATS_PATH = '/__parley/stats';

export interface UpstashRest {
  readonly url: string;
  close(): Promise<void>;
}

export async function startUpstashRest(opts: { port: number; redisUrl: string; token: string }): Promise<UpstashRest> {
  // Fail fast while Redis is down instead of queueing commands forever; reconnect in the background.
  const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false });
  redis.on('error', () => {});
  const stats: UpstashRestStats = { requests: 0, commands: 0 };
  const server = createServer((req, res) => {
    handle(redis, opts.token, stats, req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  await listen(server, opts.port);
  return {
    url: `http://127.0.0.1:${opts.port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      redis.disconnect();
    },
  };
}

async function handle(
  redis: Redis,
  token: string,
  stats: UpstashRestStats,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== STATS_PATH) stats.requests++;
  if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'Unauthorized' });
  if (path === STATS_PATH) {
    return req.method === 'GET' ? send(res, 200, stats) : send(res, 405, { error: 'only GET is supported' });
  }
  if (req.method !== 'POST') return send(res, 405, { error: 'only POST is supported' });
  const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return send(res, 400, { error: 'ERR failed to parse command' });
  }
  if (path === '/pipeline' || path === '/multi-exec') {
    if (!Array.isArray(body) || !body.every(isCommand)) return send(res, 400, { error: 'ERR invalid pipeline' });
    stats.commands += body.length;
    if (redis.status !== 'ready') return send(res, 503, { error: 'ERR redis unavailable' });
    const batch = path === '/multi-exec' ? redis.multi() : redis.pipeline();
    for (const [name, ...args] of body) batch.call(String(name), ...args);
    const results = (await batch.exec().catch((err: Error) => err)) ?? [];
    if (results instanceof Error) return send(res, 400, { error: results.message });
    const replies: Reply[] = results.map(([err, value]) =>
      err ? { error: err.message } : { result: encode(value, base64) },
    );
    return send(res, 200, replies);
  }
  if (path !== '/' || !isCommand(body)) return send(res, 400, { error: 'ERR invalid command' });
  stats.commands++;
  if (redis.status !== 'ready') return send(res, 503, { error: 'ERR redis unavailable' });
  const [name, ...args] = body;
  try {
    const value = await redis.call(String(name), ...args);
    return send(res, 200, { result: encode(value, base64) });
  } catch (err) {
    return send(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}

function isCommand(value: unknown): value is Command {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' || typeof v === 'number');
}

/** Upstash base64-encodes every string reply except the status "OK". */
function encode(value: unknown, base64: boolean): unknown {
  if (!base64) return value;
  if (typeof value === 'string') return value === 'OK' ? value : Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  return value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

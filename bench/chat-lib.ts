/**
 * Helpers of `npm run bench:chat`: a tenant made through the public API (owner, project with
 * raised limits, publishable key, end-user sessions), one chat turn as SSE or JSON with its
 * client-side timings, the CPU time of the Worker's workerd processes and the connections to a
 * local port (both read from /proc), and the small statistics the bench prints.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { percentile } from './lib.ts';

/** Passed to the Worker explicitly, so the bench does not depend on .dev.vars. */
export const WORKER_VARS = {
  SUPABASE_URL: 'http://127.0.0.1:54321',
  SUPABASE_JWT_SECRET: 'parley-bench-supabase-jwt-secret-0123456789abcdef',
  SESSION_SECRET: 'parley-bench-session-secret-0123456789abcdef',
};

/** A fresh owner's access token for the bench's Supabase settings (HS256). */
export async function ownerToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'authenticated', email: 'bench@example.com' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(crypto.randomUUID())
    .setIssuer(`${WORKER_VARS.SUPABASE_URL}/auth/v1`)
    .setAudience('authenticated')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(WORKER_VARS.SUPABASE_JWT_SECRET));
}

async function api<T>(base: string, token: string, method: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface BenchTenant {
  projectId: string;
  /** End-user session tokens, one per simulated visitor. */
  sessions: string[];
}

/**
 * An owner, a project and `visitors` anonymous end-user sessions opened with a publishable key,
 * all through the API. The project's rate limits are raised and its daily token budget set far
 * out of reach (the budget check still runs each turn), so the bench measures chat, not the
 * limiter: 60 turns per minute per end user is the default.
 */
export async function createTenant(base: string, visitors: number): Promise<BenchTenant> {
  const owner = await ownerToken();
  const { id: projectId } = await api<{ id: string }>(base, owner, 'POST', '/api/v1/projects', { name: 'Bench chat' });
  const open = { per_minute: 1_000_000, per_hour: 10_000_000 };
  const settings = { rate_limits: { ip: open, key: open, end_user: open, project: open }, daily_token_budget: 1e12 };
  await api(base, owner, 'PATCH', `/api/v1/projects/${projectId}`, { settings });
  const keys = `/api/v1/projects/${projectId}/keys`;
  const { key } = await api<{ key: string }>(base, owner, 'POST', keys, { type: 'publishable', name: 'widget' });
  const sessions: string[] = [];
  for (let i = 0; i < visitors; i++) {
    sessions.push((await api<{ token: string }>(base, key, 'POST', '/api/v1/auth/session', {})).token);
  }
  return { projectId, sessions };
}

export interface StreamedTurn {
  /** `performance.now()` when the request was sent. */
  startedAt: number;
  status: number;
  /** Milliseconds from sending the request to the `meta` event and to the first `delta`. */
  metaMs?: number;
  firstDeltaMs?: number;
  totalMs: number;
  citations: number;
  /** `delta` events received (the Worker batches model tokens into them). */
  deltas: number;
  done?: { cached?: boolean; degraded?: boolean; grounding?: number; usage?: { completion_tokens: number } };
  error?: string;
}

/** One turn with `stream: true`, read event by event as it arrives. */
export async function streamTurn(base: string, token: string, message: string): Promise<StreamedTurn> {
  const t0 = performance.now();
  const turn: StreamedTurn = { startedAt: t0, status: 0, totalMs: 0, citations: 0, deltas: 0 };
  try {
    const res = await fetch(`${base}/api/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message, stream: true }),
    });
    turn.status = res.status;
    if (res.status !== 200 || !res.body) {
      turn.error = `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
      return turn;
    }
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const bytes of res.body) {
      buffered += decoder.decode(bytes, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1]?.trim();
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        const at = performance.now() - t0;
        if (event === 'meta') turn.metaMs ??= at;
        else if (event === 'delta') {
          turn.firstDeltaMs ??= at;
          turn.deltas++;
        } else if (event === 'citations')
          turn.citations = (JSON.parse(data) as { citations: unknown[] }).citations.length;
        else if (event === 'done') turn.done = JSON.parse(data) as StreamedTurn['done'];
        else if (event === 'error') turn.error = data;
      }
    }
    if (!turn.done && !turn.error) turn.error = 'stream ended without a done event';
  } catch (err) {
    turn.error = err instanceof Error ? err.message : String(err);
  } finally {
    turn.totalMs = performance.now() - t0;
  }
  return turn;
}

/** One turn answered as JSON: status, client latency and the number of citations. */
export async function jsonTurn(
  base: string,
  token: string,
  message: string,
): Promise<{ status: number; ms: number; citations: number }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  });
  const body = (await res.json()) as { message?: { citations?: unknown[] } };
  return { status: res.status, ms: performance.now() - t0, citations: body.message?.citations?.length ?? 0 };
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** The resolution of `cpuMs`, per process. */
export const CPU_TICK_MS = 1000 / CLOCK_TICKS;

/** comm, parent pid and CPU ticks (user + system, all threads) of a process, from /proc/<pid>/stat. */
function stat(pid: number): { comm: string; ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const rest = text.slice(close + 2).split(' ');
    return {
      comm: text.slice(text.indexOf('(') + 1, close),
      ppid: Number(rest[1]),
      ticks: Number(rest[11]) + Number(rest[12]),
    };
  } catch {
    return undefined; // the process exited meanwhile
  }
}

/** The workerd processes among this process's descendants (wrangler dev's runtime). */
export function workerdPids(root: number = process.pid): number[] {
  const children = new Map<number, number[]>();
  const comms = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    comms.set(pid, s.comm);
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    if (comms.get(pid) === 'workerd') found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** CPU time the processes have used so far, in ms (resolution: one clock tick per process). */
export function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (stat(pid)?.ticks ?? 0) * CPU_TICK_MS, 0);
}

/** The fields of every IPv4 and IPv6 TCP socket line in /proc/net (`[sl, local, remote, state, …]`). */
export function tcpSockets(): string[][] {
  const sockets: string[][] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) if (line.trim()) sockets.push(line.trim().split(/\s+/));
  }
  return sockets;
}

/** Established TCP connections to a local server port (IPv4 and IPv6), from /proc/net. */
export function connectionsTo(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return tcpSockets().filter(([, local, , state]) => state === '01' && local?.endsWith(hexPort)).length;
}

export function p50p95(values: number[]): { p50: number; p95: number; text: string } {
  const sorted = [...values].sort((a, b) => a - b);
  const [p50, p95] = [percentile(sorted, 50), percentile(sorted, 95)];
  return { p50, p95, text: `p50 ${ms(p50)}  p95 ${ms(p95)}  (n=${sorted.length})` };
}

export const ms = (n: number): string => `${n.toFixed(1)} ms`;

/** Distinct problems of the turns and how often each happened, e.g. `3× HTTP 500 …`. */
export function problems(turns: StreamedTurn[]): string {
  const counts = new Map<string, number>();
  for (const { error } of turns) {
    if (!error) continue;
    const key = error.replace(/,?"request_id":"[^"]*"/g, '').slice(0, 160);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([e, n]) => `${n}× ${e}`).join('; ') || 'none';
}

/** Most streams open at once, as the client saw them: from the `meta` event to the end of the body. */
export function mostOpen(turns: StreamedTurn[]): number {
  const edges = turns
    .filter((t) => t.metaMs !== undefined)
    .flatMap((t): Array<[number, number]> => [
      [t.startedAt + t.metaMs!, 1],
      [t.startedAt + t.totalMs, -1],
    ])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (open += step));
  return most;
}

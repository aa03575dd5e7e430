/**
 * Benchmark plumbing: a private local stack plus `wrangler dev` on free ports, request timing
 * and percentiles. Benchmarks print numbers; they never assert.
 */
import { build } from 'esbuild';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnStack, type RunningStack } from '../scripts/stack/client.ts';
import { freePort, stopChild, waitForPort } from '../scripts/stack/proc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WRANGLER = `${ROOT}node_modules/wrangler/bin/wrangler.js`;

export interface BenchWorker {
  url: string;
  /** wrangler's inspector proxy for the Worker (Chrome DevTools Protocol over a WebSocket). */
  inspectorUrl: string;
  stack: RunningStack;
  stop(): Promise<void>;
}

/** What `wrangler dev` reads to build the Worker (node_modules resolve from ROOT, two levels up). */
const WORKER_SOURCES = [
  'wrangler.toml',
  '.dev.vars',
  'package.json',
  'tsconfig.json',
  'src',
  'queues',
  'durable-objects',
];

// Deliberate module state: one copy of the sources per bench run, removed when it exits.
let snapshot: string | undefined;

/**
 * A copy of the Worker's sources taken the first time a bench starts a Worker. `wrangler dev`
 * rebuilds and restarts the Worker whenever a file it watches changes; with the working tree
 * being edited while a bench runs, a restart mid-measurement drops in-flight queue work (a crawl
 * stalled for minutes that way). Every Worker of a run builds from this copy, so a run measures
 * one version of the code: the working tree as it was when the run started.
 */
function workerSources(): string {
  if (snapshot) return snapshot;
  const dir = `${ROOT}.parley/bench-src-${process.pid}`;
  for (const name of WORKER_SOURCES) {
    if (existsSync(`${ROOT}${name}`)) cpSync(`${ROOT}${name}`, `${dir}/${name}`, { recursive: true });
  }
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return (snapshot = dir);
}

/**
 * Starts the stack and the Worker under `wrangler dev`, as `npm run dev` does, on free ports,
 * building the Worker from the run's copy of the sources (see workerSources).
 */
export async function startWorker(extraVars: Record<string, string> = {}): Promise<BenchWorker> {
  const sources = workerSources();
  const stack = await spawnStack();
  const port = await freePort();
  const inspectorPort = await freePort();
  // A private persistence directory: two benches sharing one would share (and steal) queue messages.
  const persistDir = `${ROOT}.parley/bench-wrangler-${process.pid}-${port}`;
  const vars = { UPSTASH_REDIS_REST_URL: stack.upstashUrl, UPSTASH_REDIS_REST_TOKEN: stack.upstashToken, ...extraVars };
  const child = spawn(
    process.execPath,
    [
      WRANGLER,
      'dev',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      persistDir,
      '--inspector-port',
      String(inspectorPort),
      '--show-interactive-dev-session=false',
      '--log-level',
      'error',
      ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
    ],
    {
      cwd: sources,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: stack.databaseUrl,
      },
    },
  );
  await waitForPort(port, 60_000, child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${url}/health`).catch(() => undefined))?.ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    inspectorUrl: `ws://127.0.0.1:${inspectorPort}/ws`,
    stack,
    stop: async () => {
      await stopChild(child);
      await stack.stop();
      rmSync(persistDir, { recursive: true, force: true });
    },
  };
}

/**
 * Parley's own modules, loaded into this Node process: `exports` are `export … from './src/…'`
 * lines, bundled with esbuild (TypeScript, the Worker's dependencies) and imported from memory.
 */
export async function bundleParley<T>(exports: string[], external: string[] = []): Promise<T> {
  const bundle = await build({
    stdin: { contents: exports.join('\n'), resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    external,
  });
  const code = Buffer.from(bundle.outputFiles[0]!.text).toString('base64');
  return (await import(`data:text/javascript;base64,${code}`)) as T;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export interface LatencyReport {
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  rps: number;
  errors: number;
}

/** Sends `total` requests with `concurrency` in flight and reports client-side latency. */
export async function measure(
  total: number,
  concurrency: number,
  send: () => Promise<Response>,
): Promise<LatencyReport> {
  const times: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t0 = performance.now();
        const res = await send().catch(() => undefined);
        if (!res || res.status >= 500) errors++;
        await res?.arrayBuffer();
        times.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return {
    requests: total,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    rps: total / elapsed,
    errors,
  };
}

export function formatLatency(name: string, r: LatencyReport): string {
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  return `${name.padEnd(36)} p50 ${ms(r.p50).padStart(10)}  p95 ${ms(r.p95).padStart(10)}  p99 ${ms(r.p99).padStart(10)}  ${r.rps.toFixed(0).padStart(6)} req/s  (${r.requests} requests, ${r.errors} errors)`;
}

/** Raw and gzip size of the deploy bundle, from `wrangler deploy --dry-run`. */
export function bundleSize(): { raw: string; gzip: string } {
  const out = execFileSync(
    process.execPath,
    [WRANGLER, 'deploy', '--dry-run', '--env', 'production', '--outdir', `${ROOT}.parley/bundle`],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const match = /Total Upload:\s*([\d.]+\s*\w+)\s*\/\s*gzip:\s*([\d.]+\s*\w+)/.exec(out);
  if (!match) throw new Error(`could not read the bundle size from wrangler:\n${out}`);
  return { raw: match[1]!, gzip: match[2]! };
}

export function machine(): string {
  const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const model =
    /model name\s*:\s*(.+)/.exec(execFileSync('cat', ['/proc/cpuinfo'], { encoding: 'utf8' }))?.[1] ?? 'unknown CPU';
  const memGiB = (
    Number(/MemTotal:\s*(\d+)/.exec(execFileSync('cat', ['/proc/meminfo'], { encoding: 'utf8' }))?.[1]) /
    1024 /
    1024
  ).toFixed(0);
  return `${cpus} cores (${model}), ${memGiB} GiB RAM, Node ${process.version}`;
}

/**
 * `bench:chat`, part 2c: what the local runtime charges for the operations a chat turn is made
 * of, apart from Parley's own code. bench/floor-worker.ts — a Worker doing one operation per
 * path with the clients Parley uses (postgres.js, Upstash REST over fetch, the openai SDK, an SSE
 * response) — is bundled with esbuild and run in bare `workerd`: the binary `wrangler dev`
 * starts, configured by hand, so there is no dev proxy, inspector or wrangler middleware. Each
 * path's process CPU over sequential requests, divided by their number, is its cost per request;
 * compare with Parley's `GET /health` under `wrangler dev`, measured beside it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { freePort, stopChild, waitForPort } from '../scripts/stack/proc.ts';
import { cpuMs } from './chat-lib.ts';

/** The workerd binary wrangler uses (the `workerd` package exports its path as `default`). */
const WORKERD = (createRequire(import.meta.url)('workerd') as { default: string }).default;

export interface FloorTargets {
  databaseUrl: string;
  upstashUrl: string;
  upstashToken: string;
  openaiBaseUrl: string;
  openaiKey: string;
}

/** Path → [requests measured, label]; the SSE and fetch counts match a turn's order of magnitude. */
const OPERATIONS: Array<[string, number, string]> = [
  ['/noop', 300, 'a Worker answering "ok"'],
  ['/fetch?n=1', 200, 'one Upstash REST call'],
  ['/fetch?n=5', 100, 'five Upstash REST calls'],
  ['/pg?n=1', 100, 'postgres.js: connect, one query, close'],
  ['/pg?n=5', 100, 'postgres.js: connect, five queries, close'],
  ['/openai', 50, 'a streamed answer, the openai SDK iterator'],
  ['/provider', 50, "the same answer, Parley's provider"],
  ['/sse?n=25', 100, 'an SSE response of 25 events'],
];

export interface FloorCost {
  path: string;
  label: string;
  cpuMs: number;
  /** What the last request answered (the model answer's chunk count for /openai). */
  answer: string;
}

function config(port: number, t: FloorTargets): string {
  const text = (name: string, value: string) => `(name = "${name}", text = ${JSON.stringify(value)})`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .floor),
    (name = "loopback", network = (allow = ["public", "private", "local"]))
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const floor :Workerd.Worker = (
  modules = [ (name = "floor.js", esModule = embed "floor.js") ],
  compatibilityDate = "2026-11-01",
  globalOutbound = "loopback",
  bindings = [
    ${text('DATABASE_URL', t.databaseUrl)}, ${text('UPSTASH_URL', t.upstashUrl)},
    ${text('UPSTASH_TOKEN', t.upstashToken)}, ${text('OPENAI_BASE_URL', t.openaiBaseUrl)},
    ${text('OPENAI_API_KEY', t.openaiKey)}
  ]
);
`;
}

async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./floor-worker.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** CPU per request of each operation in bare workerd, against the given stack and model. */
export async function runtimeFloor(targets: FloorTargets): Promise<FloorCost[]> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-floor-'));
  const port = await freePort();
  writeFileSync(join(dir, 'floor.js'), await bundle());
  writeFileSync(join(dir, 'floor.capnp'), config(port, targets));
  const child = spawn(WORKERD, ['serve', join(dir, 'floor.capnp')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const costs: FloorCost[] = [];
  try {
    await waitForPort(port, 30_000, child);
    for (const [path, requests, label] of OPERATIONS) {
      let answer = '';
      const get = async () => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        answer = await res.text();
        if (!res.ok) throw new Error(`${path}: ${res.status} ${answer.slice(0, 200)}`);
      };
      for (let i = 0; i < 10; i++) await get();
      const before = cpuMs([child.pid!]);
      for (let i = 0; i < requests; i++) await get();
      costs.push({ path, label, cpuMs: (cpuMs([child.pid!]) - before) / requests, answer: answer.slice(0, 40) });
    }
    return costs;
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

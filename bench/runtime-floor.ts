/**
 * `bench:chat`, part 2c: what the local runtime costs per request before any of Parley's code —
 * the floor under the "CPU per turn of workerd" figure. A Worker that answers "ok" at once runs in
 * bare `workerd` (the same binary `wrangler dev` starts, configured by hand: no dev proxy, no
 * inspector, no wrangler middleware), and its process CPU over sequential requests is divided by
 * their number. Compare with Parley's `GET /health` under `wrangler dev`, measured beside it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild, waitForPort } from '../scripts/stack/proc.ts';
import { cpuMs } from './chat-lib.ts';

/** The workerd binary wrangler uses (the `workerd` package exports its path as `default`). */
const WORKERD = (createRequire(import.meta.url)('workerd') as { default: string }).default;
const NOOP = `export default { async fetch() { return new Response('ok'); } };\n`;

function config(port: number): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .noop) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const noop :Workerd.Worker = (
  modules = [ (name = "noop.js", esModule = embed "noop.js") ],
  compatibilityDate = "2026-11-01"
);
`;
}

/** CPU per request of a no-op Worker in bare workerd, in ms. */
export async function bareWorkerdCpuPerRequest(requests = 500): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-floor-'));
  const port = await freePort();
  writeFileSync(join(dir, 'noop.js'), NOOP);
  writeFileSync(join(dir, 'floor.capnp'), config(port));
  const child = spawn(WORKERD, ['serve', join(dir, 'floor.capnp')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitForPort(port, 30_000, child);
    const url = `http://127.0.0.1:${port}/`;
    for (let i = 0; i < 50; i++) await (await fetch(url)).arrayBuffer();
    const before = cpuMs([child.pid!]);
    for (let i = 0; i < requests; i++) await (await fetch(url)).arrayBuffer();
    return (cpuMs([child.pid!]) - before) / requests;
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

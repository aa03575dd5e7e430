/** Starts scripts/stack/serve.ts as a child process and waits for its ready line. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChild } from './proc.ts';

export interface RunningStack {
  databaseUrl: string;
  upstashUrl: string;
  upstashToken: string;
  /** The REST endpoint's request counter (`GET`, same Bearer token); see upstash-rest.ts. */
  upstashStatsUrl: string;
  ports: { postgres: number; redis: number; upstash: number };
  /** Stops or restarts one server of the stack (outage drills; see serve.ts). */
  control(command: StackCommand): Promise<void>;
  stop(): Promise<void>;
}

export type StackCommand = `${'stop' | 'start'} ${'postgres' | 'redis'}`;

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));

/** Generous: the first start on a fresh machine installs redis-server with apt-get. */
const START_TIMEOUT_MS = 300_000;

export function spawnStack(opts: { nodePath?: string; timeoutMs?: number } = {}): Promise<RunningStack> {
  const child = spawn(opts.nodePath ?? process.execPath, [SERVE], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`local stack did not start within ${opts.timeoutMs ?? START_TIMEOUT_MS} ms\n${stderr.join('')}`),
      );
    }, opts.timeoutMs ?? START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local stack exited with code ${code}\n${stderr.join('')}`));
    });
    // The first line says whether the stack is ready; each later line answers one control command.
    const answers: ((line: string) => void)[] = [];
    let first = true;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!first) return answers.shift()?.(line);
      first = false;
      clearTimeout(timer);
      const info = JSON.parse(line) as { ready: boolean; error?: string } & Omit<RunningStack, 'stop' | 'control'>;
      if (!info.ready) return reject(new Error(`local stack failed: ${info.error}`));
      const control = (command: StackCommand): Promise<void> =>
        new Promise((done, fail) => {
          answers.push((answer) => {
            const result = JSON.parse(answer) as { ok: boolean; error?: string };
            if (result.ok) done();
            else fail(new Error(`stack command "${command}" failed: ${result.error}`));
          });
          child.stdin.write(`${command}\n`);
        });
      resolve({ ...info, control, stop: () => stopChild(child, 10_000) });
    });
  });
}

/** HTTP requests (round trips) and Redis commands the stack's Upstash REST endpoint has served. */
export async function upstashStats(stack: RunningStack): Promise<{ requests: number; commands: number }> {
  const res = await fetch(stack.upstashStatsUrl, { headers: { authorization: `Bearer ${stack.upstashToken}` } });
  if (!res.ok) throw new Error(`Upstash REST stats answered ${res.status}`);
  return (await res.json()) as { requests: number; commands: number };
}

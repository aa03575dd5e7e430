/**
 * `bench:chat`, part 2b: the CPU a turn's own code costs, apart from the local runtime. Parley's
 * turn (resolvePrincipal, checkLimits, startTurn, completeTurn) is bundled with esbuild and run
 * in Node with the same clients the Worker uses (postgres.js, Upstash REST, the openai SDK)
 * against the same stack and fake model; process.cpuUsage() over the turns, divided by their
 * number. Node's own HTTP and socket work is included, Hono's routing and workerd are not. It
 * runs as a child process (`nodeTurnCpu` spawns this file), so that the bench's client and the
 * fake model, which live in the parent, are not counted.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { bundleParley } from './lib.ts';

const WARMUP_TURNS = 10;

interface Turns {
  resolvePrincipal(token: string, sql: unknown, config: unknown, touch: (id: string) => void): Promise<Resolved>;
  checkLimits(redis: unknown, checks: unknown[], settings: unknown): Promise<{ status: string }>;
  rateLimitRedis(config: unknown): unknown;
  chatDeps(config: unknown, sql: unknown): unknown;
  startTurn(deps: unknown, input: unknown): Promise<unknown>;
  completeTurn(turn: unknown, sink: unknown): Promise<{ degraded: boolean }>;
}
interface Resolved {
  principal: { kind: string; projectId: string; endUserId: string };
  project: { id: string; settings: unknown; knowledge: unknown };
}

function load(): Promise<Turns> {
  return bundleParley<Turns>(
    [
      "export { resolvePrincipal } from './src/auth/principal.ts';",
      "export { checkLimits, rateLimitRedis } from './src/ratelimit.ts';",
      "export { chatDeps } from './src/chat/deps.ts';",
      "export { startTurn, completeTurn } from './src/chat/turn.ts';",
    ],
    ['postgres'],
  );
}

export interface NodeTurnCpu {
  cpuMsPerTurn: number;
  degraded: number;
}

interface Options {
  databaseUrl: string;
  config: Record<string, string>;
  sessions: string[];
  questions: string[];
}

/** Runs the turns in a child Node process (the fake model keeps serving here) and returns its CPU per turn. */
export async function nodeTurnCpu(opts: Options): Promise<NodeTurnCpu> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify(opts));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/chat-node.ts exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as NodeTurnCpu;
}

/** Runs `questions` as streamed turns (a live sink that discards them) and measures CPU per turn. */
async function measure(opts: Options): Promise<NodeTurnCpu> {
  const turns = await load();
  const config = { ENVIRONMENT: 'development', OPENAI_TIMEOUT_MS: 10_000, ...opts.config };
  const sql = postgres(opts.databaseUrl, { max: 4, fetch_types: false, onnotice: () => {} });
  const sink = { live: true, meta: () => {}, delta: () => {}, citations: () => {} };
  const turn = async (token: string, message: string) => {
    const { principal, project } = await turns.resolvePrincipal(token, sql, config, () => {});
    const checks = [
      { dimension: 'ip', identifier: `${project.id}:local` },
      { dimension: 'end_user', identifier: principal.endUserId },
      { dimension: 'project', identifier: project.id },
    ];
    await turns.checkLimits(turns.rateLimitRedis(config), checks, project.settings);
    const deps = turns.chatDeps(config, sql);
    const started = await turns.startTurn(deps, {
      projectId: project.id,
      settings: project.settings,
      knowledge: project.knowledge,
      endUserId: principal.endUserId,
      message,
    });
    return turns.completeTurn(started, sink);
  };
  try {
    // Warm-up turns (connections, JIT) are not counted.
    for (let i = 0; i < WARMUP_TURNS; i++) {
      await turn(opts.sessions[i % opts.sessions.length]!, `Warm-up ${i}: what is the warranty, please?`);
    }
    let degraded = 0;
    const before = process.cpuUsage();
    for (const [i, q] of opts.questions.entries()) {
      if ((await turn(opts.sessions[i % opts.sessions.length]!, q)).degraded) degraded++;
    }
    const used = process.cpuUsage(before);
    return { cpuMsPerTurn: (used.user + used.system) / 1000 / opts.questions.length, degraded };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  console.log(JSON.stringify(await measure(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Options)));
}

/**
 * `npm run bench:chat`: chat turns through `wrangler dev` against a private local stack, with
 * 10,000 chunks in the project and a fake OpenAI model (test/fakes/openai.ts) whose time to
 * first token is fixed. Prints:
 *  1. the time Parley adds before the first token: client time to the first `delta` SSE event
 *     minus the fake's fixed time to first token (target ≤ 30 ms p95);
 *  2. CPU time per turn of the Worker's workerd processes, from /proc (target ≤ 5 ms), of the
 *     turn's own code run in Node with the same clients (bench/chat-node.ts), and what bare
 *     workerd charges for each kind of operation a turn makes (bench/runtime-floor.ts);
 *  3. cache-hit latency: a first-turn question asked again from a new conversation;
 *  4. concurrent SSE streams held without error (target ≥ 200): streams opened one every
 *     RAMP_MS with a slow token rate, so that all of them are open at once when they succeed.
 * The Worker gets one model key; the fake is restarted on the same port with slower defaults
 * for part 4 (`sk-test-…` keys take the fake's default knobs). Benchmarks print; they never assert.
 */
import os from 'node:os';
import { startFakeOpenAI, type FakeOpenAI } from '../test/fakes/openai.ts';
import type { ScenarioKnobs } from '../test/support/openai-scenario.ts';
import { catalogue, question, retrievalTimes, seedKnowledge } from './chat-knowledge.ts';
import {
  connectionsTo,
  CPU_TICK_MS,
  cpuMs,
  createTenant,
  jsonTurn,
  mostOpen,
  ms,
  p50p95,
  problems,
  streamTurn,
  workerdPids,
  WORKER_VARS,
  type StreamedTurn,
} from './chat-lib.ts';
import { nodeTurnCpu } from './chat-node.ts';
import { startWorker } from './lib.ts';
import { runtimeFloor } from './runtime-floor.ts';

const TTFT_MS = 200;
const TOKEN_GAP_MS = 5;
const SLOW_TOKEN_GAP_MS = 4000;
const DOCUMENTS = 20;
const SECTIONS_PER_DOCUMENT = 500; // one chunk each
const VISITORS = 20;
const WARMUP = 10;
const TURNS = 100;
const HEALTH_REQUESTS = 200;
const CACHE_QUESTIONS = 40;
const STREAMS = 200;
const RAMP_MS = 75;
const KEY = `sk-test-bench-chat-${crypto.randomUUID()}`;
const FAST: ScenarioKnobs = { ttftMs: TTFT_MS, tokenDelayMs: TOKEN_GAP_MS };
const SLOW: ScenarioKnobs = { ttftMs: TTFT_MS, tokenDelayMs: SLOW_TOKEN_GAP_MS };
// Disjoint question ranges (each section has its own product), so no phase meets another's cache.
const Q = { check: 9990, warmup: 9900, turns: 0, turnStep: 61, cache: 7000, streams: 8000, node: 6500 };
const NODE_TURNS = 100;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

const cpus = os.cpus();
const machine =
  `${cpus.length} cores (${cpus[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ` +
  `Node ${process.version}`;
console.log(`Parley bench:chat — ${machine}; load average ${os.loadavg()[0]!.toFixed(1)} at start`);
let openai: FakeOpenAI = await startFakeOpenAI({ defaults: FAST });
// LOG_LEVEL=warn: locally every console line travels through wrangler's inspector (bench/baseline.ts).
const worker = await startWorker({
  ...WORKER_VARS,
  LOG_LEVEL: 'warn',
  OPENAI_API_KEY: KEY,
  OPENAI_BASE_URL: openai.url,
});
const summary: Array<[string, string, string]> = [];
try {
  // 1. Setup: a tenant through the API, then 10,000 chunks.
  const tenant = await createTenant(worker.url, VISITORS);
  const session = (i: number) => tenant.sessions[i % tenant.sessions.length]!;
  let t0 = performance.now();
  const chunks = await seedKnowledge(
    worker.stack.databaseUrl,
    tenant.projectId,
    catalogue(DOCUMENTS, SECTIONS_PER_DOCUMENT),
  );
  console.log(
    `setup: ${chunks} chunks in ${DOCUMENTS} text sources in ${((performance.now() - t0) / 1000).toFixed(0)} s — ` +
      `inserted directly into Postgres by the ingestion pipeline's own code (extract → chunk → local embedder ` +
      `parley-local-v1 → upsertChunks), skipping only the queue and R2, then ANALYZE (PGlite has no autovacuum); ` +
      `a synthetic catalogue, one product per chunk`,
  );
  const check = await streamTurn(worker.url, session(0), question(Q.check));
  console.log(
    `check: "${question(Q.check)}" → ${check.citations} citations, grounding ${check.done?.grounding ?? '?'}, ` +
      `degraded ${check.done?.degraded ?? '?'}${check.error ? `, error ${check.error}` : ''}`,
  );
  console.log(
    `model: fake OpenAI, ${TTFT_MS} ms to first token then ${TOKEN_GAP_MS} ms between tokens; Worker ` +
      `LOG_LEVEL=warn; project rate limits raised, daily token budget set out of reach (it is still checked)`,
  );
  for (let i = 0; i < WARMUP; i++) await streamTurn(worker.url, session(i), question(Q.warmup + i));

  // 2. Time Parley adds before the first token, and CPU per turn, over sequential streamed turns.
  const pids = workerdPids();
  let cpu0 = cpuMs(pids);
  for (let i = 0; i < HEALTH_REQUESTS; i++) await (await fetch(`${worker.url}/health`)).arrayBuffer();
  const cpuHealth = (cpuMs(pids) - cpu0) / HEALTH_REQUESTS;
  cpu0 = cpuMs(pids);
  t0 = performance.now();
  const turns: StreamedTurn[] = [];
  for (let i = 0; i < TURNS; i++) {
    turns.push(await streamTurn(worker.url, session(i), question(Q.turns + i * Q.turnStep)));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuPerTurn = (cpuMs(pids) - cpu0) / TURNS;
  const turnQuestions = Array.from({ length: TURNS }, (_, i) => question(Q.turns + i * Q.turnStep));
  const retrieval = p50p95(await retrievalTimes(worker.stack.databaseUrl, tenant.projectId, turnQuestions));
  const good = turns.filter((t) => t.firstDeltaMs !== undefined && !t.error && t.done && !t.done.degraded);
  const added = p50p95(good.map((t) => t.firstDeltaMs! - TTFT_MS));
  const meta = p50p95(good.map((t) => t.metaMs!));
  console.log(`\nstreamed turns (cache misses, one at a time): ${good.length}/${TURNS} answered by the model`);
  console.log(`  first SSE event (meta)                ${meta.text}`);
  console.log(`  first delta − ${TTFT_MS} ms model TTFT       ${added.text}   (target p95 ≤ 30 ms)`);
  console.log(`  of which retrieval alone, timed from Node  ${retrieval.text}   (same questions, same local Postgres)`);
  console.log(
    `  turns with citations ${turns.filter((t) => t.citations > 0).length}/${TURNS}; ` +
      `degraded ${turns.filter((t) => t.done?.degraded).length}; problems: ${problems(turns)}`,
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log(
    `  answers: ${mean(good.map((t) => t.done?.usage?.completion_tokens ?? 0)).toFixed(0)} completion tokens ` +
      `(model chunks) and ${mean(good.map((t) => t.deltas)).toFixed(0)} delta events per turn on average`,
  );
  console.log(
    `  the output guard holds a first word back only while it could still become a word of the persona ` +
      `(then for one token gap: ${TOKEN_GAP_MS} ms here)`,
  );
  console.log(
    `CPU of workerd (pids ${pids.join(', ')}): ${ms(cpuPerTurn)} per turn over ${TURNS} turns in ` +
      `${seconds.toFixed(1)} s   (target ≤ 5 ms; resolution ${ms((CPU_TICK_MS * pids.length) / TURNS)})`,
  );
  console.log(
    `  all of local workerd's CPU: the Worker plus the runtime's own work (HTTP, sockets to Postgres, Redis and ` +
      `the model, the dev proxy); for scale, GET /health costs ${ms(cpuHealth)} of it per request`,
  );
  // 2c. What bare workerd charges for each kind of operation a turn makes (bench/runtime-floor.ts).
  const floor = await runtimeFloor({
    databaseUrl: worker.stack.databaseUrl,
    upstashUrl: worker.stack.upstashUrl,
    upstashToken: worker.stack.upstashToken,
    openaiBaseUrl: openai.url,
    // A 100-word answer, one content chunk a word as the fake streams it (about a turn's answer).
    openaiKey: openai.scenario({ ttftMs: 1, tokenDelayMs: 0, reply: 'The warranty covers parts. '.repeat(25).trim() }),
  });
  console.log(
    `the local runtime's own cost per request, in bare workerd (no dev proxy, inspector or wrangler ` +
      `middleware; GET /health under wrangler dev: ${ms(cpuHealth)}):`,
  );
  for (const f of floor) {
    const chunks = f.path === '/openai' ? ` (${f.answer} content chunks)` : '';
    console.log(`  ${f.label.padEnd(44)} ${ms(f.cpuMs)}${chunks}`);
  }
  const noop = floor.find((f) => f.path === '/noop')!.cpuMs;
  summary.push(['added time to first token', `p50 ${ms(added.p50)} / p95 ${ms(added.p95)}`, '≤ 30 ms p95']);
  summary.push(['  of which retrieval (PGlite)', `p50 ${ms(retrieval.p50)} / p95 ${ms(retrieval.p95)}`, '—']);
  summary.push(['CPU per turn (all of workerd)', `${ms(cpuPerTurn)} (GET /health: ${ms(cpuHealth)})`, '≤ 5 ms']);
  summary.push(['  a no-op Worker, bare workerd', ms(noop), '—']);

  // 2b. The turn's own code, apart from the local runtime: the same functions and clients in Node.
  const own = await nodeTurnCpu({
    databaseUrl: worker.stack.databaseUrl,
    config: {
      ...WORKER_VARS,
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: openai.url,
      UPSTASH_REDIS_REST_URL: worker.stack.upstashUrl,
      UPSTASH_REDIS_REST_TOKEN: worker.stack.upstashToken,
    },
    sessions: tenant.sessions,
    questions: Array.from({ length: NODE_TURNS }, (_, i) => question(Q.node + i)),
  });
  console.log(
    `CPU of the turn's own code, run in Node (auth, limits, startTurn, completeTurn; same clients, same stack): ` +
      `${ms(own.cpuMsPerTurn)} per turn over ${NODE_TURNS} turns (${own.degraded} degraded) — bench/chat-node.ts`,
  );
  summary.push(["  the turn's own code, in Node", ms(own.cpuMsPerTurn), '≤ 5 ms']);

  // 3. Cache hits: each question asked once (a miss that fills the cache), then again from new conversations.
  const cacheQuestions = Array.from({ length: CACHE_QUESTIONS }, (_, i) => question(Q.cache + i));
  for (const [i, q] of cacheQuestions.entries()) await jsonTurn(worker.url, session(i), q);
  cpu0 = cpuMs(pids);
  const streamed: StreamedTurn[] = [];
  for (const [i, q] of cacheQuestions.entries()) streamed.push(await streamTurn(worker.url, session(i + 1), q));
  const cpuPerHit = (cpuMs(pids) - cpu0) / CACHE_QUESTIONS;
  const json: number[] = [];
  for (const [i, q] of cacheQuestions.entries()) json.push((await jsonTurn(worker.url, session(i + 2), q)).ms);
  const hits = streamed.filter((t) => t.done?.cached);
  const hitFirst = p50p95(hits.map((t) => t.firstDeltaMs!));
  const hitJson = p50p95(json);
  console.log(`\ncache hits (a first-turn question again, new conversation): ${hits.length}/${CACHE_QUESTIONS} cached`);
  console.log(`  stream, first delta                   ${hitFirst.text}`);
  console.log(`  stream, done                          ${p50p95(hits.map((t) => t.totalMs)).text}`);
  console.log(`  JSON, whole response                  ${hitJson.text}`);
  console.log(`  CPU of workerd per streamed hit ${ms(cpuPerHit)}; problems: ${problems(streamed)}`);
  summary.push(['cache hit, stream first delta', `p50 ${ms(hitFirst.p50)} / p95 ${ms(hitFirst.p95)}`, '—']);
  summary.push(['cache hit, JSON response', `p50 ${ms(hitJson.p50)} / p95 ${ms(hitJson.p95)}`, '—']);

  // 4. Concurrent streams: the fake restarts on the same port, now slow, and a stream opens every RAMP_MS.
  await openai.close();
  openai = await startFakeOpenAI({ port: openai.port, defaults: SLOW });
  let peakPostgres = 0;
  const sampler = setInterval(() => {
    peakPostgres = Math.max(peakPostgres, connectionsTo(worker.stack.ports.postgres));
  }, 100);
  t0 = performance.now();
  const all = await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      await sleep(i * RAMP_MS);
      return streamTurn(worker.url, session(i), question(Q.streams + i));
    }),
  );
  clearInterval(sampler);
  const held = all.filter((t) => t.done && !t.error && t.firstDeltaMs !== undefined);
  const open = mostOpen(all);
  const atModel = openai.requests(KEY).maxInFlight;
  console.log(
    `\nconcurrent SSE streams (one opened every ${RAMP_MS} ms; fake: ${TTFT_MS} ms TTFT, ${SLOW_TOKEN_GAP_MS} ms ` +
      `between tokens): ${held.length}/${STREAMS} finished with done and no error in ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  console.log(
    `  most open at once: ${open} at the client (meta → end of body), ${atModel} in flight at the model; ` +
      `most Postgres connections at once: ${peakPostgres}`,
  );
  console.log(`  first SSE event (meta)                ${p50p95(all.map((t) => t.metaMs ?? t.totalMs)).text}`);
  console.log(`  stream duration                       ${p50p95(held.map((t) => t.totalMs)).text}`);
  console.log(
    `  each open stream keeps its turn's Postgres connection until the answer is stored; first-event times grow ` +
      `when the local Postgres (PGlite: one query at a time) queues the turns' setup`,
  );
  console.log(`  degraded ${held.filter((t) => t.done?.degraded).length}; problems: ${problems(all)}`);
  summary.push([
    'concurrent SSE streams',
    `${open} open at once; ${held.length}/${STREAMS} finished without error; ${peakPostgres} Postgres conns`,
    '≥ 200 at once',
  ]);
} finally {
  await worker.stop();
  await openai.close();
}

console.log(
  `\nSummary — ${machine}; load average ${os.loadavg()[0]!.toFixed(1)} at the end; ` +
    `${DOCUMENTS * SECTIONS_PER_DOCUMENT} chunks; model TTFT ${TTFT_MS} ms`,
);
const rows: Array<[string, string, string]> = [['metric', 'result', 'target'], ...summary];
const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const row of rows) console.log(`  ${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  │  ')}`);

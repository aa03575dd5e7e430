/**
 * The file phases of `npm run bench:ingest`: uploads through `POST /api/v1/projects/:id/sources/files`
 * to the Worker under `wrangler dev`, each into a fresh Worker and stack, so workerd's memory
 * baseline is not an earlier phase's leftovers:
 *  4. a 100,000-row CSV (~8 MB, under the 10 MB default `max_upload_bytes`): upload time, time
 *     to ready, chunks per minute, and whether every row reached the chunks (order ids counted in
 *     Postgres, a few rows looked up whole);
 *  5. the 10 MB PDF of phase 3 (10.1 MiB: the project's `max_upload_bytes` is raised through the
 *     API), this time parsed by the queue consumer inside workerd.
 * From just before each upload until the source is ready, VmRSS of both workerd processes (the
 * dev proxy and the Worker) is sampled every 5 ms. RSS is the whole process — the isolate's heap
 * plus the runtime's own memory — so it bounds from above what the 128 MB isolate limit counts.
 * The Worker isolate's own V8 heap is read beside it through the inspector (bench/heap.ts).
 * Embeddings come from the fake OpenAI server with phase 1's latency per request.
 */
import { loadavg } from 'node:os';
import postgres, { type Sql } from 'postgres';
import type { FakeOpenAI } from '../test/fakes/openai.ts';
import { cpuMs, WORKER_VARS, workerdPids } from './chat-lib.ts';
import { buildCsv, record } from './csv.ts';
import { benchApi, ownerToken, waitReady, type BenchApi, type SourceView } from './ingest-api.ts';
import { startWorker } from './lib.ts';
import { buildPdf } from './pdf.ts';
import { sampleHeap, type HeapReport } from './heap.ts';
import { listenerOf, sampleRss, type RssReport } from './rss.ts';

const n = (x: number) => x.toLocaleString('en-US');
const mib = (kib: number) => (kib / 1024).toFixed(1);
const sec = (ms: number) => (ms / 1000).toFixed(1);

interface Upload {
  label: string;
  name: string;
  type: string;
  bytes: Uint8Array;
  timeoutMs: number;
  /** Lines about what reached Postgres, printed after the common ones. */
  check(sql: Sql, sourceId: string): Promise<string[]>;
}

/** wrangler dev runs two workerd processes: the dev proxy (it listens on the dev port) and the Worker. */
const processName = (pid: number, proxyPid: number | undefined) =>
  proxyPid === undefined ? `workerd ${pid}` : pid === proxyPid ? 'dev proxy' : 'Worker';

function memoryLine(label: string, reports: RssReport[], proxyPid: number | undefined, uploadMs: number): string {
  const parts = reports.map((r) => {
    const name = processName(r.pid, proxyPid);
    const hwm = r.highWaterKiB === undefined ? '' : `, kernel high-water +${mib(r.highWaterKiB - r.baselineKiB)} MB`;
    return (
      `${name} (pid ${r.pid}) ${mib(r.baselineKiB)} MB → peak +${mib(r.peakKiB - r.baselineKiB)} MB${hwm} ` +
      `at ${sec(r.peakAtMs)} s`
    );
  });
  return (
    `  ${label} workerd RSS over the baseline taken just before the upload (${n(reports[0]?.samples ?? 0)} samples, ` +
    `every 5 ms; the upload returned at ${sec(uploadMs)} s): ${parts.join('; ')}. ` +
    `Isolate limit 128 MB; RSS also counts the runtime's own memory, not only the isolate heap.`
  );
}

interface Outcome {
  sourceId: string;
  uploadMs: number;
  /** From the upload's answer to the source's last status. */
  readyMs: number;
  source?: SourceView;
  problem?: string;
  /** Status polls that failed (see waitReady). */
  pollErrors: string[];
}

/** Uploads the file and polls its source until it is ready, failed or out of time. */
async function uploadAndWait(api: BenchApi, projectId: string, upload: Upload): Promise<Outcome> {
  const t0 = performance.now();
  const accepted = await api.upload<{ id: string }>(`/api/v1/projects/${projectId}/sources/files`, upload);
  const uploadMs = performance.now() - t0;
  const outcome: Outcome = { sourceId: accepted.id, uploadMs, readyMs: 0, pollErrors: [] };
  try {
    outcome.source = await waitReady(api, projectId, accepted.id, upload.timeoutMs, outcome.pollErrors);
  } catch (err) {
    outcome.problem = err instanceof Error ? err.message : String(err);
  }
  outcome.readyMs = performance.now() - t0 - uploadMs;
  return outcome;
}

function outcomeLine(upload: Upload, o: Outcome, notes: string[]): string {
  const chunks = o.source?.stats.chunks ?? 0;
  const polls = o.pollErrors.length
    ? `; ${o.pollErrors.length} status polls failed meanwhile (first: ${o.pollErrors[0]!.slice(0, 160)})`
    : '';
  return (
    `${upload.label}: ${(upload.bytes.length / 1024 / 1024).toFixed(2)} MiB uploaded in ${sec(o.uploadMs)} s; ` +
    (o.source
      ? `status ${o.source.status} after ${sec(o.readyMs)} s more; ${o.source.stats.documents} document(s), ` +
        `${o.source.stats.documents_failed} failed; ${n(chunks)} chunks = ` +
        `${n(Math.round(chunks / (o.readyMs / 60_000)))} chunks/min` +
        (o.source.error ? `; error: ${o.source.error}` : '')
      : `NOT READY after ${sec(o.readyMs)} s: ${o.problem}`) +
    `${polls} (${notes.join('; ')})`
  );
}

/** What reached Postgres: embedding models, job failures, then the upload's own checks. */
async function postgresLines(sql: Sql, projectId: string, upload: Upload, sourceId: string): Promise<string[]> {
  const models = await sql<{ model: string; chunks: number }[]>`
    select embedding_model as model, count(*)::int as chunks from chunks where source_id = ${sourceId} group by 1`;
  const failures = await sql<{ attempts: number; last_error: string; dead: boolean }[]>`
    select attempts, last_error, dead_lettered_at is not null as dead from job_failures where project_id = ${projectId}`;
  return [
    `chunks by embedding model: ${models.map((m) => `${m.model} × ${n(m.chunks)}`).join(', ') || 'none'}`,
    `job failures: ${failures.map((f) => `${f.attempts} attempt(s)${f.dead ? ', dead-lettered' : ''}: ${f.last_error}`).join('; ') || 'none'}`,
    ...(await upload.check(sql, sourceId)),
  ];
}

/** The default upload limit (DEFAULT_MAX_UPLOAD_BYTES in src/sources/schemas.ts). */
const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** Uploads one file into a fresh Worker, waits for it, and prints what happened. */
async function ingestUpload(openai: FakeOpenAI, embedLatencyMs: number, upload: Upload): Promise<void> {
  const key = openai.scenario({ latencyMs: embedLatencyMs, only: 'embeddings' });
  const vars = { ...WORKER_VARS, OPENAI_API_KEY: key, OPENAI_BASE_URL: openai.url, LOG_LEVEL: 'warn' };
  const worker = await startWorker(vars);
  const sql = postgres(worker.stack.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const api = benchApi(worker.url, await ownerToken());
    const project = await api.call<{ id: string }>('/api/v1/projects', { name: `bench ${upload.label}` });
    // 5 polls a second for minutes would meet the default per-IP limit (300 a minute).
    const open = { per_minute: 1_000_000, per_hour: 10_000_000 };
    const settings: Record<string, unknown> = { rate_limits: { ip: open, key: open, end_user: open, project: open } };
    const notes = [`embeddings: fake OpenAI server, ${embedLatencyMs} ms a request`];
    if (upload.bytes.length > DEFAULT_MAX_UPLOAD_BYTES) {
      // An owner may raise the limit up to 50 MB; the PDF of phase 3 is just over the default.
      settings.max_upload_bytes = Math.ceil(upload.bytes.length / 1024 / 1024) * 1024 * 1024;
      notes.push(`project max_upload_bytes raised to ${n(settings.max_upload_bytes as number)} through the API`);
    }
    await api.call(`/api/v1/projects/${project.id}`, { settings }, 'PATCH');

    const pids = workerdPids();
    const proxyPid = listenerOf(pids, Number(new URL(worker.url).port));
    const cpu0 = pids.map((pid) => cpuMs([pid]));
    notes.push(`load average ${loadavg()[0]!.toFixed(2)} at the start`);
    const heap = await sampleHeap(worker.inspectorUrl, 20);
    const rss = sampleRss(pids, 5);
    let outcome: Outcome;
    let memory: RssReport[];
    let isolate: HeapReport;
    try {
      outcome = await uploadAndWait(api, project.id, upload);
    } finally {
      memory = rss.stop();
      isolate = await heap.stop();
    }
    const cpu = pids.map((pid, i) => `${processName(pid, proxyPid)} ${sec(cpuMs([pid]) - cpu0[i]!)} s`);
    const embeddings = openai.requests(key).requests.filter((r) => r.path.endsWith('/embeddings')).length;
    notes.push(`${embeddings} embedding requests`);

    console.log(outcomeLine(upload, outcome, notes));
    console.log(
      `  ${upload.label} Worker isolate's V8 heap in use (Runtime.getHeapUsage through the inspector, ` +
        `${n(isolate.samples)} reads every 20 ms between the isolate's tasks${isolate.errors ? `, ${isolate.errors} unanswered` : ''}): ` +
        `${isolate.baselineMb.toFixed(1)} MB before the upload → peak ${isolate.peakMb.toFixed(1)} MB at ` +
        `${sec(isolate.peakAtMs)} s (isolate limit 128 MB)`,
    );
    console.log(memoryLine(upload.label, memory, proxyPid, outcome.uploadMs));
    console.log(
      `  ${upload.label} workerd CPU from upload to ready (whole processes): ${cpu.join(', ')} ` +
        `(a Cloudflare queue consumer invocation gets 30 s of CPU by default)`,
    );
    try {
      for (const line of await postgresLines(sql, project.id, upload, outcome.sourceId)) console.log(`  ${line}`);
    } catch (err) {
      console.log(`  Postgres checks failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  } finally {
    await sql.end({ timeout: 2 });
    await worker.stop();
  }
}

/** Phase 4: every order id counted in the chunks, and a few rows looked up as whole records. */
function csvUpload(rows: number): Upload {
  return {
    label: `csv (${n(rows)} rows)`,
    name: 'orders.csv',
    type: 'text/csv',
    bytes: buildCsv(rows),
    timeoutMs: 30 * 60_000,
    async check(sql, sourceId) {
      const [ids] = await sql<{ distinct_ids: number; mentions: number }[]>`
        select count(distinct m.id[1])::int as distinct_ids, count(*)::int as mentions
        from chunks c, regexp_matches(c.content, 'ORD-[0-9]{7}', 'g') as m(id)
        where c.source_id = ${sourceId}`;
      const probes = [0, 1, Math.floor(rows / 4), Math.floor(rows / 2), Math.floor((rows * 3) / 4), rows - 2, rows - 1];
      const missing: number[] = [];
      for (const i of probes) {
        const [hit] = await sql<{ found: boolean }[]>`
          select exists (select 1 from chunks where source_id = ${sourceId} and strpos(content, ${record(i)}) > 0) as found`;
        if (!hit?.found) missing.push(i + 1);
      }
      return [
        `rows in Postgres: ${n(ids?.distinct_ids ?? 0)} distinct order ids of ${n(rows)} (${n(ids?.mentions ?? 0)} mentions); ` +
          `rows ${probes.map((i) => n(i + 1)).join(', ')} looked up as whole records: ${probes.length - missing.length}/${probes.length} found` +
          (missing.length ? ` (missing: ${missing.map(n).join(', ')})` : ''),
      ];
    },
  };
}

/** Phase 5: every page of the PDF has chunks. */
function pdfUpload(bytes: Uint8Array): Upload {
  const pages = new TextDecoder().decode(bytes).match(/\/Type \/Page \//g)?.length ?? 0;
  return {
    label: `pdf (${(bytes.length / 1024 / 1024).toFixed(0)} MB)`,
    name: 'handbook.pdf',
    type: 'application/pdf',
    bytes,
    timeoutMs: 15 * 60_000,
    async check(sql, sourceId) {
      const [got] = await sql<{ pages: number }[]>`
        select count(distinct page)::int as pages from chunks where source_id = ${sourceId}`;
      return [`pages in Postgres: ${n(got?.pages ?? 0)} of ${n(pages)} pages have chunks`];
    },
  };
}

/** Phases 4 and 5; a phase that throws is reported and the next one still runs. */
export async function fileIngestion(
  openai: FakeOpenAI,
  opts: { embedLatencyMs: number; csvRows: number; pdfBytes: number },
): Promise<void> {
  for (const upload of [csvUpload(opts.csvRows), pdfUpload(buildPdf(opts.pdfBytes))]) {
    try {
      await ingestUpload(openai, opts.embedLatencyMs, upload);
    } catch (err) {
      console.log(`${upload.label}: FAILED — ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

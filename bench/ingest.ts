/**
 * `npm run bench:ingest`:
 *  1. chunks embedded per minute through the real pipeline (wrangler dev, queues, Postgres),
 *     with a fake OpenAI embedding server answering each request after a fixed latency, so
 *     batching shows (target ≥ 2,000 chunks/min);
 *  2. a crawl of a 200-page loopback site, against the floor the politeness rate allows
 *     (1 request per second per host);
 *  3. peak memory of parsing a 10 MB PDF with the same extraction code (run in Node; V8 heap +
 *     array buffers sampled every 2 ms), against the 128 MB isolate limit;
 *  4. a 100,000-row CSV and 5. the same 10 MB PDF uploaded through the files API, each into a
 *     fresh Worker: time to ready, rows found in Postgres, workerd's RSS (bench/ingest-files.ts).
 */
import { build } from 'esbuild';
import { loadavg } from 'node:os';
import { startFakeOpenAI } from '../test/fakes/openai.ts';
import { startSite } from '../test/fakes/site.ts';
import { WORKER_VARS } from './chat-lib.ts';
import { benchApi, ownerToken, waitReady } from './ingest-api.ts';
import { fileIngestion } from './ingest-files.ts';
import { machine, startWorker } from './lib.ts';
import { buildPdf } from './pdf.ts';

const EMBED_LATENCY_MS = 150;
const DOCS = 200;

console.log(`Parley bench:ingest — ${machine()}; load average ${loadavg()[0]!.toFixed(2)} at the start`);
const openai = await startFakeOpenAI();
const key = openai.scenario({ latencyMs: EMBED_LATENCY_MS, only: 'embeddings' });
const site = await startSite({ docsPages: DOCS });
const worker = await startWorker({
  ...WORKER_VARS,
  OPENAI_API_KEY: key,
  OPENAI_BASE_URL: openai.url,
  LOG_LEVEL: 'warn',
});

try {
  const api = benchApi(worker.url, await ownerToken());
  const project = await api.call<{ id: string }>('/api/v1/projects', { name: 'bench' });

  // 1. Embedding throughput: 20 text sources of ~100 KB each (~1,000+ chunks in all).
  const paragraph = (i: number) =>
    `Section ${i}. ${'Customers may return products within thirty days for a full refund if unused. '.repeat(8)}`;
  const text = (n: number) =>
    Array.from({ length: 60 }, (_, i) => `## Topic ${n}.${i}\n\n${paragraph(i)}`).join('\n\n');
  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: 20 }, (_, n) =>
      api.call<{ id: string }>(`/api/v1/projects/${project.id}/sources`, {
        type: 'text',
        title: `Doc ${n}`,
        content: text(n),
      }),
    ),
  );
  let chunks = 0;
  for (const { id } of ids) chunks += (await waitReady(api, project.id, id, 600_000)).stats.chunks;
  const minutes = (performance.now() - t0) / 60_000;
  const requests = openai.requests(key).requests.filter((r) => r.path.endsWith('/embeddings'));
  console.log(
    `embedding: ${chunks} chunks in ${(minutes * 60).toFixed(1)} s = ${Math.round(chunks / minutes)} chunks/min ` +
      `(${requests.length} embedding requests, ${EMBED_LATENCY_MS} ms each; target ≥ 2,000 chunks/min)`,
  );

  // 2. Crawl of the 200-page section (its index page plus 200 pages).
  const t1 = performance.now();
  const crawl = await api.call<{ id: string }>(`/api/v1/projects/${project.id}/sources`, {
    type: 'website',
    url: `${site.origin}/docs/`,
    max_pages: DOCS + 1,
    max_depth: 2,
  });
  const crawled = await waitReady(api, project.id, crawl.id, 1_800_000);
  const seconds = (performance.now() - t1) / 1000;
  const floor = crawled.stats.pages_fetched + crawled.stats.pages_failed; // 1 request per second per host
  console.log(
    `crawl: ${crawled.stats.pages_fetched} pages fetched, ${crawled.stats.pages_failed} failed, status ${crawled.status}, ` +
      `${seconds.toFixed(1)} s (politeness floor ≈ ${floor} s at 1 req/s; ${(seconds / floor).toFixed(2)}× the floor)`,
  );
} finally {
  await worker.stop();
  await site.close();
}

// 3. Peak memory parsing a 10 MB PDF with the same extraction code.
const bundle = await build({
  entryPoints: ['src/ingest/extract/pdf.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  write: false,
  logLevel: 'silent',
});
const moduleUrl = `data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0]!.text).toString('base64')}`;
const { extractPdf: extract } = (await import(moduleUrl)) as {
  extractPdf: (bytes: Uint8Array) => Promise<{ sections: unknown[] }>;
};
const pdf = buildPdf(10 * 1024 * 1024);
const usage = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
globalThis.gc?.();
const baseline = usage();
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, usage())), 2);
const t2 = performance.now();
const doc = await extract(pdf);
clearInterval(sampler);
peak = Math.max(peak, usage());
console.log(
  `pdf: ${(pdf.length / 1024 / 1024).toFixed(1)} MB, ${doc.sections.length} sections in ${((performance.now() - t2) / 1000).toFixed(1)} s; ` +
    `peak memory +${((peak - baseline) / 1024 / 1024).toFixed(1)} MB over baseline (limit 128 MB per isolate)`,
);

// 4. and 5. Files through the API, parsed inside workerd.
try {
  await fileIngestion(openai, { embedLatencyMs: EMBED_LATENCY_MS, csvRows: 100_000, pdfBytes: 10 * 1024 * 1024 });
} finally {
  await openai.close();
}

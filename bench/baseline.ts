/**
 * `npm run bench`: the baseline of the local stack — /health and /ready latency and throughput
 * through `wrangler dev`, and the deploy bundle size. Targets: /health p95 < 5 ms locally;
 * bundle ≤ 1 MB gzip. Runs twice: with the default request log line (LOG_LEVEL=info; locally
 * every console line travels through wrangler's inspector, which is most of the cost) and with
 * LOG_LEVEL=warn.
 */
import { bundleSize, formatLatency, machine, measure, startWorker } from './lib.ts';

const HEALTH_REQUESTS = 2000;
const READY_REQUESTS = 500;

console.log(`Parley bench baseline — ${machine()}`);
for (const logLevel of ['info', 'warn']) {
  const worker = await startWorker({ LOG_LEVEL: logLevel });
  try {
    // Warm up the isolate and connection paths.
    await measure(200, 4, () => fetch(`${worker.url}/health`));
    await measure(50, 2, () => fetch(`${worker.url}/ready`));
    const line = (name: string, r: Awaited<ReturnType<typeof measure>>) =>
      console.log(formatLatency(`${name} [LOG_LEVEL=${logLevel}]`, r));
    line('GET /health ×1', await measure(HEALTH_REQUESTS, 1, () => fetch(`${worker.url}/health`)));
    line('GET /health ×10', await measure(HEALTH_REQUESTS, 10, () => fetch(`${worker.url}/health`)));
    line('GET /ready ×1', await measure(READY_REQUESTS, 1, () => fetch(`${worker.url}/ready`)));
    line('GET /ready ×10', await measure(READY_REQUESTS, 10, () => fetch(`${worker.url}/ready`)));
  } finally {
    await worker.stop();
  }
}
const size = bundleSize();
console.log(`deploy bundle (wrangler deploy --dry-run)   raw ${size.raw}   gzip ${size.gzip}   (target ≤ 1 MB gzip)`);

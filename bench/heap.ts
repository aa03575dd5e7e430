/**
 * The Worker isolate's V8 heap while it works, read through wrangler's inspector proxy with the
 * Chrome DevTools Protocol (`Runtime.getHeapUsage`, a cheap counter read, not a profile). This is
 * the memory the 128 MB isolate limit is about, unlike a process's RSS (bench/rss.ts), which also
 * counts the runtime, the local R2 and Queues simulators and I/O buffers.
 */

export interface HeapReport {
  samples: number;
  /** MB used by the isolate's heap when sampling started. */
  baselineMb: number;
  /** The most seen in use, and when (ms after the start). */
  peakMb: number;
  peakAtMs: number;
  /** Requests that failed (the sampler keeps going). */
  errors: number;
}

interface HeapUsage {
  usedSize: number;
  totalSize: number;
}

/** Opens the inspector and reads the heap every `intervalMs` until stopped. */
export async function sampleHeap(inspectorUrl: string, intervalMs = 20): Promise<{ stop(): Promise<HeapReport> }> {
  // wrangler's inspector proxy accepts DevTools clients from its own origin (Node's WebSocket
  // takes headers as undici's extension of the constructor's options).
  const origin = new URL(inspectorUrl.replace(/^ws/, 'http')).origin;
  const WebSocketWithHeaders = WebSocket as unknown as new (url: string, init: object) => WebSocket;
  const socket = new WebSocketWithHeaders(inspectorUrl, { headers: { Origin: origin } });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`inspector at ${inspectorUrl} did not answer`)), {
      once: true,
    });
  });
  let id = 0;
  const waiting = new Map<number, (usage: HeapUsage | undefined) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: HeapUsage };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
    if (message.id !== undefined) waiting.delete(message.id);
  });
  const read = () =>
    new Promise<HeapUsage | undefined>((resolve) => {
      const request = ++id;
      waiting.set(request, resolve);
      socket.send(JSON.stringify({ id: request, method: 'Runtime.getHeapUsage' }));
      setTimeout(() => {
        waiting.delete(request);
        resolve(undefined);
      }, 2_000);
    });

  const started = performance.now();
  const first = await read();
  const report: HeapReport = {
    samples: first ? 1 : 0,
    baselineMb: (first?.usedSize ?? 0) / 2 ** 20,
    peakMb: (first?.usedSize ?? 0) / 2 ** 20,
    peakAtMs: 0,
    errors: first ? 0 : 1,
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      const usage = await read();
      if (!usage) report.errors++;
      else {
        report.samples++;
        const mb = usage.usedSize / 2 ** 20;
        if (mb > report.peakMb) {
          report.peakMb = mb;
          report.peakAtMs = performance.now() - started;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      socket.close();
      return report;
    },
  };
}

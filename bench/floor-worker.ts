/**
 * The Worker bench/runtime-floor.ts runs in bare workerd: each path does one of the things a chat
 * turn does, with the clients Parley uses, and nothing else — so its CPU per request is what that
 * operation costs the runtime. Bundled by esbuild for workerd; never deployed.
 *   /noop              answer "ok"
 *   /fetch?n=N         N Upstash REST calls (GET), one after another
 *   /pg?n=N            open a postgres.js connection, run N parameterised queries, close it
 *   /openai            one streamed chat completion through the openai SDK's iterator, read to the end
 *   /provider          the same through Parley's provider (src/chat/openai-provider.ts: the SDK
 *                      plus a silence watchdog and usage/finish bookkeeping)
 *   /sse?n=N           an SSE response of N small events, written one by one
 */
import OpenAI from 'openai';
import postgres from 'postgres';
import { openaiProvider } from '../src/chat/openai-provider';

interface Env {
  DATABASE_URL: string;
  UPSTASH_URL: string;
  UPSTASH_TOKEN: string;
  OPENAI_BASE_URL: string;
  OPENAI_API_KEY: string;
}

const encoder = new TextEncoder();

async function sse(n: number): Promise<Response> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  void (async () => {
    for (let i = 0; i < n; i++) await writer.write(encoder.encode(`event: delta\ndata: {"text":"word ${i} "}\n\n`));
    await writer.close();
  })();
  return new Response(readable, { headers: { 'content-type': 'text/event-stream' } });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? 1);
    switch (url.pathname) {
      case '/noop':
        return new Response('ok');
      case '/fetch':
        for (let i = 0; i < n; i++) {
          const res = await fetch(`${env.UPSTASH_URL}/get/parley-floor`, {
            headers: { authorization: `Bearer ${env.UPSTASH_TOKEN}` },
          });
          await res.arrayBuffer();
        }
        return new Response('ok');
      case '/pg': {
        const sql = postgres(env.DATABASE_URL, { max: 1, fetch_types: false, onnotice: () => {} });
        for (let i = 0; i < n; i++) await sql`select ${'floor'}::text as a, ${i}::int as b`;
        await sql.end({ timeout: 1 });
        return new Response('ok');
      }
      case '/openai': {
        const client = new OpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL, maxRetries: 0 });
        const stream = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'What is the warranty?' }],
        });
        let chunks = 0;
        for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) chunks++;
        return new Response(String(chunks));
      }
      case '/provider': {
        const provider = openaiProvider({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL, maxRetries: 0 });
        const question = 'What is the warranty?';
        const generation = await provider.generate(
          [{ role: 'user', content: question }],
          { question, passages: [] },
          {},
        );
        let text = '';
        for await (const delta of generation.deltas) text += delta;
        return new Response(String(text.split(' ').length));
      }
      case '/sse':
        return sse(n);
      default:
        return new Response('not found', { status: 404 });
    }
  },
};

/**
 * The public API as `npm run bench:ingest` uses it: an owner token, JSON calls, a multipart file
 * upload, and polling a source until it is `ready` or `failed`.
 */
import { ownerToken } from './chat-lib.ts';

export { ownerToken };

export interface SourceView {
  status: string;
  error: string | null;
  stats: {
    chunks: number;
    documents: number;
    documents_failed: number;
    pages_fetched: number;
    pages_failed: number;
    pages_discovered: number;
  };
}

export interface BenchApi {
  call<T>(path: string, body?: unknown, method?: string): Promise<T>;
  /** POSTs `bytes` as the multipart field `file`; resolves with the JSON answer. */
  upload<T>(path: string, file: { name: string; type: string; bytes: Uint8Array }): Promise<T>;
}

/** An owner's HS256 token, as Supabase Auth issues them locally (1 hour). */
export function benchApi(base: string, token: string): BenchApi {
  const headers = { authorization: `Bearer ${token}`, 'cf-connecting-ip': '203.0.113.9' };
  const answer = async <T>(what: string, res: Response): Promise<T> => {
    if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    call: async (path, body, method = body === undefined ? 'GET' : 'POST') =>
      answer(
        path,
        await fetch(`${base}${path}`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      ),
    upload: async (path, file) => {
      const form = new FormData();
      form.append('file', new Blob([file.bytes], { type: file.type }), file.name);
      return answer(path, await fetch(`${base}${path}`, { method: 'POST', headers, body: form }));
    },
  };
}

/**
 * Polls the source every 200 ms until it is `ready` or `failed`; throws after `timeoutMs`. With
 * `pollErrors`, a poll that fails (an error status, a dropped connection) is recorded there and
 * polling goes on: the local Postgres (PGlite) serves one transaction at a time, so while a large
 * document's chunks are written every other request that needs it can time out.
 */
export async function waitReady(
  api: BenchApi,
  projectId: string,
  sourceId: string,
  timeoutMs: number,
  pollErrors?: string[],
): Promise<SourceView> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const source = await api.call<SourceView>(`/api/v1/projects/${projectId}/sources/${sourceId}`);
      if (source.status === 'ready' || source.status === 'failed') return source;
      last = JSON.stringify(source);
    } catch (err) {
      if (!pollErrors) throw err;
      pollErrors.push(err instanceof Error ? err.message : String(err));
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s: ${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

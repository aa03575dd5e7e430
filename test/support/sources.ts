/** Helpers for ingestion tests: add sources through the API and wait for their work to land. */
import { call } from './http';
import { auth, postJson, type Tenant } from './tenants';

export interface SourceView {
  id: string;
  type: string;
  status: string;
  error: string | null;
  stats: {
    documents: number;
    chunks: number;
    pages_discovered: number;
    pages_fetched: number;
    pages_failed: number;
    documents_failed: number;
    documents_skipped: number;
  };
}

export interface DocumentView {
  id: string;
  key: string;
  url: string | null;
  title: string | null;
  status: string;
  error: string | null;
  chunk_count: number;
}

export async function addSource(tenant: Tenant, body: unknown): Promise<string> {
  const res = await call(`/api/v1/projects/${tenant.projectId}/sources`, postJson(tenant.secretKey, body));
  if (res.status !== 202) throw new Error(`source not accepted: ${res.status} ${await res.text()}`);
  return (await res.json<{ id: string }>()).id;
}

export async function upload(
  tenant: Tenant,
  name: string,
  bytes: Uint8Array | string,
  type = 'application/octet-stream',
): Promise<Response> {
  const form = new FormData();
  form.append('file', new File([bytes], name, { type }));
  return call(`/api/v1/projects/${tenant.projectId}/sources/files`, {
    method: 'POST',
    headers: auth(tenant.secretKey),
    body: form,
  });
}

export async function getSource(tenant: Tenant, sourceId: string): Promise<SourceView> {
  const res = await call(`/api/v1/projects/${tenant.projectId}/sources/${sourceId}`, {
    headers: auth(tenant.secretKey),
  });
  return res.json<SourceView>();
}

export async function documents(tenant: Tenant, sourceId: string): Promise<DocumentView[]> {
  const res = await call(`/api/v1/projects/${tenant.projectId}/sources/${sourceId}/documents?limit=100`, {
    headers: auth(tenant.secretKey),
  });
  return (await res.json<{ data: DocumentView[] }>()).data;
}

/** Polls until the source is `ready` or `failed`; returns every state seen on the way. */
export async function settled(
  tenant: Tenant,
  sourceId: string,
  timeoutMs = 60_000,
): Promise<{ source: SourceView; seen: string[] }> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const source = await getSource(tenant, sourceId);
    if (seen[seen.length - 1] !== source.status) seen.push(source.status);
    if (source.status === 'ready' || source.status === 'failed') return { source, seen };
    if (Date.now() > deadline)
      throw new Error(`source ${sourceId} still ${source.status} after ${timeoutMs} ms: ${JSON.stringify(source)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Helpers for chat tests: send turns as JSON or SSE and read the events. */
import { call } from './http';
import { addSource, settled } from './sources';
import { createTenant, openSession, postJson, type Tenant } from './tenants';

export interface ChatAnswer {
  conversation_id: string;
  message: {
    id: string;
    role: string;
    content: string;
    citations: {
      source_id: string;
      document_id: string;
      title: string | null;
      url: string | null;
      page?: number;
      snippet: string;
    }[];
    grounding: number;
    degraded: boolean;
  };
  handoff: boolean;
  ticket_id?: string;
}

export async function ask(
  token: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ res: Response; answer?: ChatAnswer }> {
  const res = await call('/api/v1/chat', postJson(token, body, headers));
  return { res, answer: res.status === 200 ? await res.json<ChatAnswer>() : undefined };
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Parses a whole `text/event-stream` body into events. */
export async function readEvents(res: Response): Promise<SseEvent[]> {
  const text = await res.text();
  return text
    .split(/\n\n/)
    .map((block) => {
      const event = /^event: ?(.*)$/m.exec(block)?.[1]?.trim();
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      return event && data ? { event, data: JSON.parse(data) as Record<string, unknown> } : undefined;
    })
    .filter((e): e is SseEvent => e !== undefined);
}

/** A small help centre: returns within 30 days, delivery in three to five working days. */
export const HELP_CENTRE =
  '# Returns\n\nItems can be returned within 30 days for a full refund.\n\n# Delivery\n\nStandard delivery takes three to five working days.';

/** A fresh tenant whose knowledge (`content`) is ingested and ready, and an end-user session token. */
export async function chatter(
  opts: { project?: Record<string, unknown>; content?: string } = {},
): Promise<{ tenant: Tenant; token: string }> {
  const tenant = await createTenant(opts.project);
  await settled(tenant, await addSource(tenant, { type: 'text', title: 'Help', content: opts.content ?? HELP_CENTRE }));
  return { tenant, token: (await openSession(tenant)).body!.token };
}

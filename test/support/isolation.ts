/**
 * Two tenants for the isolation suites: A, the victim, with a ready source, an end user's
 * conversation and a handed-over ticket; B, the attacker, with an end user and a conversation
 * of its own. Plus the checks: an answer's status and that it holds nothing of A, and A's data
 * as A reads it (to compare before and after).
 */
import { expect } from 'vitest';
import { ask } from './chat';
import { call, type ErrorEnvelope } from './http';
import { addSource, documents, settled } from './sources';
import { auth, createTenant, openSession, postJson, type Tenant } from './tenants';

/** A customer user id both tenants have: the same words must not mean the same person. */
export const SHARED_USER = 'customer-42';

/** What a route can name: A's in most calls, random or B's in others. */
export interface Ids {
  project: string;
  source: string;
  ticket: string;
  conversation: string;
  /** An assistant answer in `conversation`. */
  message: string;
  /** The end user who owns `conversation`. */
  endUser: string;
}

export interface World {
  a: Tenant;
  b: Tenant;
  /** The client address of every request of the test, so it has rate-limit buckets of its own. */
  ip: string;
  aIds: Ids;
  aSession: string;
  aVisitor: string;
  bSession: string;
  /** A conversation of B's end user (the `bSession` one). */
  bConversation: string;
  /** A word only A's knowledge and A's end user's question contain. */
  marker: string;
  /** Ids and words of A that no answer to anyone else may contain. */
  secrets: string[];
}

export async function world(): Promise<World> {
  const [a, b] = await Promise.all([createTenant({ name: 'Victim A' }), createTenant({ name: 'Attacker B' })]);
  const marker = `zephyrite-${crypto.randomUUID().slice(0, 8)}`;
  const knowledge = (async () => {
    const content = `# Refunds\n\nRefunds are issued within 14 days; quote code ${marker}.\n\n# Shipping\n\nIn 2 days.`;
    const id = await addSource(a, { type: 'text', title: `Handbook ${marker}`, content });
    await settled(a, id);
    return { id, documents: (await documents(a, id)).map((d) => d.id) };
  })();
  const aUser = (await openSession(a)).body!;
  const bUser = (await openSession(b)).body!;
  const [source, question, handoff, alice, bQuestion] = await Promise.all([
    knowledge,
    ask(aUser.token, { message: `Where is my parcel? ${marker}` }),
    ask(a.secretKey, { message: 'I want to talk to a human', user_id: SHARED_USER }),
    call('/api/v1/auth/session', postJson(a.secretKey, { user_id: SHARED_USER })),
    ask(bUser.token, { message: 'Hello there' }),
  ]);
  if (!question.answer || !handoff.answer?.ticket_id || !bQuestion.answer) throw new Error('world setup failed');
  const aIds: Ids = {
    project: a.projectId,
    source: source.id,
    ticket: handoff.answer.ticket_id,
    conversation: question.answer.conversation_id,
    message: question.answer.message.id,
    endUser: aUser.end_user_id,
  };
  return {
    a,
    b,
    ip: `2001:db8:1::${crypto.randomUUID().slice(0, 4)}`,
    aIds,
    aSession: aUser.token,
    aVisitor: aUser.visitor_id!,
    bSession: bUser.token,
    bConversation: bQuestion.answer.conversation_id,
    marker,
    secrets: [
      ...Object.values(aIds),
      ...source.documents,
      handoff.answer.conversation_id,
      (await alice.json<{ end_user_id: string }>()).end_user_id,
      marker,
      a.identitySecret,
    ],
  };
}

export const randomIds = (): Ids => ({
  project: crypto.randomUUID(),
  source: crypto.randomUUID(),
  ticket: crypto.randomUUID(),
  conversation: crypto.randomUUID(),
  message: crypto.randomUUID(),
  endUser: crypto.randomUUID(),
});

export const upperCase = (ids: Ids): Ids =>
  Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, v.toUpperCase()])) as unknown as Ids;

export const projectPath = (ids: Ids): string => `/api/v1/projects/${ids.project}`;

export type Status = 200 | 201 | 400 | 401 | 403 | 404;

const CODES: Partial<Record<Status, string>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
};

/**
 * Checks one answer softly (so every failing case of a route is reported, not only the first):
 * its status and error code, and that it holds nothing of A. Returns what a caller learns from
 * a refusal, to compare with the refusal for ids that exist nowhere.
 */
export async function expectAnswer(w: World, res: Response, status: Status, label: string): Promise<string> {
  const text = await res.text();
  const error = res.status >= 400 ? (JSON.parse(text) as Partial<ErrorEnvelope>).error : undefined;
  const got = error ? `${res.status} ${error.code}` : String(res.status);
  expect.soft(got, label).toBe(CODES[status] ? `${status} ${CODES[status]}` : String(status));
  expect
    .soft(
      w.secrets.filter((s) => text.includes(s)),
      `${label}: A's data in the answer`,
    )
    .toEqual([]);
  return `${got} ${error?.message ?? ''}`;
}

/** A's data as A reads it through its own credentials: sources, jobs, audit, ticket, conversations. */
export async function aView(w: World): Promise<Record<string, string>> {
  const { a, aIds: i, aSession } = w;
  const p = projectPath(i);
  const reads: [string, string][] = [
    [`${p}/sources`, a.secretKey],
    [`${p}/sources/${i.source}/documents`, a.secretKey],
    [`${p}/jobs`, a.secretKey],
    [`${p}/audit`, a.owner],
    [`${p}/tickets/${i.ticket}`, a.owner],
    [`${p}/conversations`, a.owner],
    [`/api/v1/conversations/${i.conversation}`, aSession],
    [`/api/v1/conversations?user_id=${SHARED_USER}`, a.secretKey],
  ];
  const view: Record<string, string> = {};
  for (const [path, token] of reads) {
    const res = await call(path, { headers: auth(token, { 'cf-connecting-ip': w.ip }) });
    view[path] = `${res.status} ${await res.text()}`;
  }
  return view;
}

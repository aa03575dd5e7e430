/**
 * Tenants never see each other's data (issue 3's isolation suite, for every route that is not a
 * project or key route — those are in isolation.test.ts). Tenant A has a ready source, an end
 * user's conversation and a handed-over ticket; every route is called on A's ids with each of
 * tenant B's credentials (and with none), and answers as specified: another tenant's ids 404
 * exactly like ids that exist nowhere, a credential kind the route does not take 403, a bad
 * credential 401. Answers that succeed carry only B's own data, and A's data reads the same
 * afterwards: nothing created, synced, deleted, patched, replied to or rated.
 */
import { describe, expect, it } from 'vitest';
import { call } from './support/http';
import {
  aView,
  expectAnswer,
  projectPath as p,
  randomIds,
  SHARED_USER,
  upperCase,
  world,
  type Ids,
  type Status,
  type World,
} from './support/isolation';
import { auth, openSession, postJson, type Tenant } from './support/tenants';

const QUESTION = 'How long do refunds take, and which code do I quote?';

type CredentialKey =
  | 'none'
  | 'garbage'
  | 'unknownKey'
  | 'bOwner'
  | 'bSecret'
  | 'bSecretAsUser'
  | 'bSecretAsAEndUser'
  | 'bPublishable'
  | 'bSession';

interface Credential {
  key: CredentialKey;
  name: string;
  token?: (w: World) => string;
  /** The end user a secret key acts for (`user_id`, or `user` on the OpenAI route). */
  user?: (w: World) => string;
}

const CREDENTIALS: Credential[] = [
  { key: 'none', name: 'no credential' },
  { key: 'garbage', name: 'a garbage bearer', token: () => 'not-a-credential' },
  { key: 'unknownKey', name: 'a well-formed unknown secret key', token: () => `sk_${'x'.repeat(32)}` },
  { key: 'bOwner', name: "B's owner token", token: (w) => w.b.owner },
  { key: 'bSecret', name: "B's secret key", token: (w) => w.b.secretKey },
  {
    key: 'bSecretAsUser',
    name: `B's secret key as ${SHARED_USER}`,
    token: (w) => w.b.secretKey,
    user: () => SHARED_USER,
  },
  {
    key: 'bSecretAsAEndUser',
    name: "B's secret key with A's end_user_id as user_id",
    token: (w) => w.b.secretKey,
    user: (w) => w.aIds.endUser,
  },
  { key: 'bPublishable', name: "B's publishable key", token: (w) => w.b.publishableKey },
  { key: 'bSession', name: "B's end-user session", token: (w) => w.bSession },
];

/** The status each credential gets; 2xx answers are B's own, never A's. */
type Outcomes = Record<CredentialKey, Status>;
/** Everywhere but POST /auth/session: no or a bad credential 401, a publishable key 403. */
const REFUSED = { none: 401, garbage: 401, unknownKey: 401, bPublishable: 403 } as const;
/** Sources and jobs: the project's owner/admin or its secret key. */
const MANAGERS: Outcomes = {
  ...REFUSED,
  ...{ bOwner: 404, bSecret: 404, bSecretAsUser: 404, bSecretAsAEndUser: 404, bSession: 403 },
};
/** Audit, tickets, the inbox: the project's people (owner tokens) only. */
const PEOPLE: Outcomes = {
  ...REFUSED,
  ...{ bOwner: 404, bSecret: 403, bSecretAsUser: 403, bSecretAsAEndUser: 403, bSession: 403 },
};
/** An end user's conversation by id: a session, or a secret key acting for a user_id (400 without). */
const END_USER_ID: Outcomes = {
  ...REFUSED,
  ...{ bOwner: 403, bSecret: 400, bSecretAsUser: 404, bSecretAsAEndUser: 404, bSession: 404 },
};
/** An end user's own things (their list, a new answer): B's end user gets B's, nothing of A's. */
const END_USER_OWN: Outcomes = { ...END_USER_ID, bSecretAsUser: 200, bSecretAsAEndUser: 200, bSession: 200 };
const MODELS: Outcomes = { ...END_USER_OWN, bSecret: 200 };
const SESSIONS: Outcomes = {
  ...REFUSED,
  ...{ bOwner: 403, bSecret: 201, bSecretAsUser: 201, bSecretAsAEndUser: 201, bPublishable: 201, bSession: 403 },
};

interface Route {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: (ids: Ids) => string;
  /** A JSON body that would succeed for A: refusals must not depend on a bad body. */
  body?: (ids: Ids) => Record<string, unknown>;
  upload?: true;
  /** Where a secret key names the end user; the query by default. */
  user?: 'user_id' | 'user';
  outcomes: Outcomes;
  /** A's ids inside B's own project or conversation, by B's callers who may use that. */
  inside?: { container: (w: World) => Partial<Ids>; callers: CredentialKey[]; status?: 200 };
}

const inBProject = (callers: CredentialKey[], status?: 200): Route['inside'] => ({
  container: (w) => ({ project: w.b.projectId }),
  callers,
  status,
});
const forManagers = inBProject(['bOwner', 'bSecret']);
const forPeople = inBProject(['bOwner']);
const sourceRoute = (method: Route['method'], suffix = ''): Route => ({
  name: `${method} /projects/:id/sources/:source_id${suffix}`,
  method,
  path: (i) => `${p(i)}/sources/${i.source}${suffix}`,
  outcomes: MANAGERS,
  inside: forManagers,
});
const chatRoute = (stream: boolean): Route => ({
  name: `POST /chat${stream ? ' (streamed)' : ''} with a conversation_id`,
  method: 'POST',
  path: () => '/api/v1/chat',
  body: (i) => ({ message: 'What did I ask before?', conversation_id: i.conversation, stream }),
  user: 'user_id',
  outcomes: END_USER_ID,
});

const ROUTES: Route[] = [
  {
    name: 'POST /projects/:id/sources',
    method: 'POST',
    path: (i) => `${p(i)}/sources`,
    body: () => ({ type: 'text', title: 'Injected', content: 'Injected by B' }),
    outcomes: MANAGERS,
  },
  {
    name: 'POST /projects/:id/sources/files',
    method: 'POST',
    path: (i) => `${p(i)}/sources/files`,
    upload: true,
    outcomes: MANAGERS,
  },
  { name: 'GET /projects/:id/sources', method: 'GET', path: (i) => `${p(i)}/sources`, outcomes: MANAGERS },
  sourceRoute('GET'),
  sourceRoute('GET', '/documents'),
  sourceRoute('POST', '/sync'),
  sourceRoute('DELETE'),
  { name: 'GET /projects/:id/jobs', method: 'GET', path: (i) => `${p(i)}/jobs`, outcomes: MANAGERS },
  { name: 'GET /projects/:id/audit', method: 'GET', path: (i) => `${p(i)}/audit`, outcomes: PEOPLE },
  { name: 'GET /projects/:id/tickets', method: 'GET', path: (i) => `${p(i)}/tickets`, outcomes: PEOPLE },
  {
    name: 'GET /projects/:id/tickets/:ticket_id',
    method: 'GET',
    path: (i) => `${p(i)}/tickets/${i.ticket}`,
    outcomes: PEOPLE,
    inside: forPeople,
  },
  {
    name: 'PATCH /projects/:id/tickets/:ticket_id',
    method: 'PATCH',
    path: (i) => `${p(i)}/tickets/${i.ticket}`,
    body: () => ({ status: 'resolved', priority: 'low' }),
    outcomes: PEOPLE,
    inside: forPeople,
  },
  {
    name: 'POST /projects/:id/tickets/:ticket_id/messages',
    method: 'POST',
    path: (i) => `${p(i)}/tickets/${i.ticket}/messages`,
    body: () => ({ content: 'Injected agent reply' }),
    outcomes: PEOPLE,
    inside: forPeople,
  },
  {
    name: 'GET /projects/:id/conversations?end_user_id',
    method: 'GET',
    path: (i) => `${p(i)}/conversations?end_user_id=${i.endUser}`,
    outcomes: PEOPLE,
    inside: inBProject(['bOwner'], 200),
  },
  {
    name: 'GET /projects/:id/conversations/:conversation_id',
    method: 'GET',
    path: (i) => `${p(i)}/conversations/${i.conversation}`,
    outcomes: PEOPLE,
    inside: forPeople,
  },
  { name: 'GET /conversations', method: 'GET', path: () => '/api/v1/conversations', outcomes: END_USER_OWN },
  {
    name: 'GET /conversations/:id',
    method: 'GET',
    path: (i) => `/api/v1/conversations/${i.conversation}`,
    outcomes: END_USER_ID,
  },
  {
    name: 'DELETE /conversations/:id',
    method: 'DELETE',
    path: (i) => `/api/v1/conversations/${i.conversation}`,
    outcomes: END_USER_ID,
  },
  {
    name: 'POST /conversations/:id/messages/:message_id/feedback',
    method: 'POST',
    path: (i) => `/api/v1/conversations/${i.conversation}/messages/${i.message}/feedback`,
    body: () => ({ rating: 'down', comment: 'Injected' }),
    outcomes: END_USER_ID,
    inside: { container: (w) => ({ conversation: w.bConversation }), callers: ['bSession'] },
  },
  chatRoute(false),
  chatRoute(true),
  {
    name: 'POST /auth/session',
    method: 'POST',
    path: () => '/api/v1/auth/session',
    body: () => ({}),
    user: 'user_id',
    outcomes: SESSIONS,
  },
  {
    name: 'POST /v1/chat/completions',
    method: 'POST',
    path: () => '/v1/chat/completions',
    body: () => ({ model: 'parley', messages: [{ role: 'user', content: QUESTION }] }),
    user: 'user',
    outcomes: END_USER_OWN,
  },
  { name: 'GET /v1/models', method: 'GET', path: () => '/v1/models', outcomes: MODELS },
];

type Caller = Pick<Credential, 'token' | 'user'>;

function send(w: World, route: Route, ids: Ids, cred: Caller): Promise<Response> {
  const headers: Record<string, string> = { 'cf-connecting-ip': w.ip, ...(cred.token ? auth(cred.token(w)) : {}) };
  const user = cred.user?.(w);
  let path = route.path(ids);
  if (user && !route.user) path += `${path.includes('?') ? '&' : '?'}user_id=${user}`;
  let body: BodyInit | undefined;
  if (route.upload) {
    const form = new FormData();
    form.append('file', new File(['Injected by B'], 'injected.txt', { type: 'text/plain' }));
    body = form;
  } else if (route.body) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ ...route.body(ids), ...(user && route.user ? { [route.user]: user } : {}) });
  }
  return call(path, { method: route.method, headers, body });
}

describe('tenant isolation of sources, jobs, conversations, chat and tickets', () => {
  it.each(ROUTES)('$name: B’s credentials on A’s ids get the specified refusal, never A’s data', async (route) => {
    const w = await world();
    const before = await aView(w);
    for (const cred of CREDENTIALS) {
      const label = `${cred.name} on ${route.name}`;
      const status = route.outcomes[cred.key];
      const onA = await expectAnswer(w, await send(w, route, w.aIds, cred), status, label);
      // The answer for A's real ids is the answer for ids that exist nowhere: nothing leaks.
      const onNothing = await expectAnswer(w, await send(w, route, randomIds(), cred), status, `${label} (random ids)`);
      if (status >= 400) expect.soft(onA, `${label}: differs from random ids`).toBe(onNothing);
    }
    expect(await aView(w)).toEqual(before);
  });

  it.each(ROUTES.filter((r) => r.inside))('$name: A’s ids inside B’s own project or conversation', async (route) => {
    const w = await world();
    const before = await aView(w);
    const { container, callers, status = 404 } = route.inside!;
    for (const cred of CREDENTIALS.filter((c) => callers.includes(c.key))) {
      const label = `${cred.name} on ${route.name}, inside B's own`;
      const inB = (ids: Ids) => send(w, route, { ...ids, ...container(w) }, cred);
      const onA = await expectAnswer(w, await inB(w.aIds), status, label);
      await expectAnswer(w, await inB(upperCase(w.aIds)), status, `${label} (upper-case ids)`);
      const onNothing = await expectAnswer(w, await inB(randomIds()), status, `${label} (random ids)`);
      expect.soft(onA, `${label}: differs from random ids`).toBe(onNothing);
    }
    expect(await aView(w)).toEqual(before);
  });

  it('B’s end users get answers from B’s knowledge only, while A’s get A’s', async () => {
    const w = await world();
    const asB = CREDENTIALS.filter((c) => ['bSession', 'bSecretAsUser', 'bSecretAsAEndUser'].includes(c.key));
    const newTurns: Route[] = [
      { ...chatRoute(false), name: 'POST /chat', body: () => ({ message: QUESTION }) },
      { ...chatRoute(true), name: 'POST /chat (streamed)', body: () => ({ message: QUESTION, stream: true }) },
      ROUTES.find((r) => r.name === 'POST /v1/chat/completions')!,
    ];
    for (const route of newTurns) {
      for (const cred of asB)
        await expectAnswer(w, await send(w, route, w.aIds, cred), 200, `${cred.name} on ${route.name}`);
      // The same question does reach A's knowledge for A's own end user. (A streamed answer also
      // quotes its sources whole in the `citations` event, so a leak cannot hide between deltas.)
      const own = await send(w, route, w.aIds, { token: () => w.aSession });
      expect(await own.text(), route.name).toContain(w.marker);
    }
  });

  it('another end user of A, by session or secret key, cannot reach A’s end user’s conversation', async () => {
    const w = await world();
    const before = await aView(w);
    const other = (await openSession(w.a)).body!.token;
    const others: [string, Caller][] = [
      ["another A end user's session", { token: () => other }],
      ["A's secret key for another user", { token: () => w.a.secretKey, user: () => 'someone-else' }],
    ];
    for (const route of ROUTES.filter((r) => r.outcomes === END_USER_ID)) {
      for (const [name, caller] of others) {
        await expectAnswer(w, await send(w, route, w.aIds, caller), 404, `${name} on ${route.name}`);
      }
    }
    expect(await aView(w)).toEqual(before);
  });

  it('identities do not cross tenants: A’s user_hash or visitor id opens only a new, empty B end user', async () => {
    const w = await world();
    const { a, b } = w;
    const hash = async (secret: string) => {
      const raw = new TextEncoder().encode(secret);
      const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(SHARED_USER));
      return [...new Uint8Array(mac)].map((x) => x.toString(16).padStart(2, '0')).join('');
    };
    const open = (tenant: Tenant, body: Record<string, string>) =>
      call('/api/v1/auth/session', postJson(tenant.publishableKey, body, { 'cf-connecting-ip': w.ip }));
    const verified = (tenant: Tenant, secret: string) =>
      hash(secret).then((user_hash) => open(tenant, { user_id: SHARED_USER, user_hash }));

    expect((await verified(a, a.identitySecret)).status).toBe(201);
    await expectAnswer(w, await verified(b, a.identitySecret), 401, "A's user_hash with B's key");
    await expectAnswer(w, await verified(a, b.identitySecret), 401, "B's user_hash with A's key");

    for (const [what, res] of [
      [`B's verified ${SHARED_USER}`, await verified(b, b.identitySecret)],
      ["A's visitor id with B's key", await open(b, { visitor_id: w.aVisitor })],
    ] as const) {
      expect(res.status, what).toBe(201);
      const { token } = await res.clone().json<{ token: string }>();
      await expectAnswer(w, res, 201, what);
      const list = await call('/api/v1/conversations', { headers: auth(token) });
      expect(await list.json(), what).toEqual({ data: [], next_cursor: null });
    }
  });
});

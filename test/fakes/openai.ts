/**
 * A local OpenAI-compatible server for tests and benchmarks, speaking OpenAI's wire protocol:
 * `POST /v1/embeddings`, `POST /v1/chat/completions` (JSON or SSE streaming), `GET /v1/models`,
 * errors as `{"error":{"message","type","param","code"}}` with OpenAI's statuses and headers.
 *
 * Behaviour is chosen per API key, so test files running in parallel never share state:
 * - `sk-test-<anything>` behaves normally (send a unique suffix to get a private request log);
 *   any other key gets 401 `invalid_api_key`, no key gets 401 too.
 * - `POST /__scenarios` with `ScenarioKnobs` (test/support/openai-scenario.ts) as JSON answers
 *   201 `{"key":"sk-scn-…"}`: that key adds latency (latencyMs, ttftMs, tokenDelayMs), injects
 *   faults (failFirst / failEvery / failRate choose which requests fail; failWith lists the
 *   statuses — 429 with retry-after, retry-after-ms and x-ratelimit-* headers, 500, 503 … — or
 *   'hang', taken in turn), can drop a stream midway (dropAfterTokens) or fix the chat reply.
 *   `only` limits latency and faults to 'embeddings' or 'chat'.
 * - `GET /__requests?key=…` answers `RecordedRequests`: every request of that key in arrival
 *   order (path, status, outcome, model, input counts, stream, tokens sent) and the most it had
 *   in flight at once.
 * Streams stop as soon as the client disconnects; hung requests end when the client gives up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RecordedRequest, RecordedRequests, ScenarioKnobs } from '../support/openai-scenario.ts';
import { answerChat, CHAT_MODELS, parseChat } from './openai-chat.ts';
import { createEmbeddings, EMBEDDING_MODELS } from './openai-embeddings.ts';
import { keyRegistry, nextFault, parseJson, parseKnobs } from './openai-scenarios.ts';
import { faultFailure, invalid, pause, sendFailure, sendJson } from './openai-wire.ts';

export interface FakeOpenAIOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Knobs for `sk-test-…` keys; default none (fast and healthy). */
  defaults?: ScenarioKnobs;
}

export interface FakeOpenAI {
  /** Base URL for the SDK, ending in `/v1`. */
  readonly url: string;
  /** Origin of the admin endpoints (`/__scenarios`, `/__requests`). */
  readonly origin: string;
  readonly port: number;
  /** Registers a scenario in-process (what `POST /__scenarios` does) and returns its key. */
  scenario(knobs: ScenarioKnobs): string;
  requests(key: string): RecordedRequests;
  close(): Promise<void>;
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const { stateOf, scenario, requests, record: log } = keyRegistry(opts.defaults);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    // `/lane/<name>/v1/…` is served as `/v1/…`: a distinct base URL (and so a circuit breaker of
    // its own in the Worker) for tests that make the provider fail.
    url.pathname = url.pathname.replace(/^\/lane\/[\w-]+(?=\/v1\/)/, '');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    if (route === 'POST /__scenarios') {
      const knobs = parseKnobs(raw);
      if (typeof knobs === 'string') return sendJson(res, 400, { error: knobs });
      return sendJson(res, 201, { key: scenario(knobs), knobs });
    }
    if (route === 'GET /__requests') return sendJson(res, 200, requests(url.searchParams.get('key') ?? ''));

    const key = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const state = key ? stateOf(key) : undefined;
    if (!key || !state) {
      const message = key
        ? `Incorrect API key provided: ${key.slice(0, 3)}***${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      return sendFailure(res, {
        status: 401,
        message,
        type: 'invalid_request_error',
        param: null,
        code: key ? 'invalid_api_key' : null,
      });
    }
    const endpoint =
      route === 'POST /v1/embeddings'
        ? 'embeddings'
        : route === 'POST /v1/chat/completions'
          ? 'chat'
          : url.pathname.startsWith('/v1/models') && req.method === 'GET'
            ? 'models'
            : null;
    if (!endpoint) return sendFailure(res, { ...invalid(`Invalid URL (${req.method} ${url.pathname})`), status: 404 });

    const body = parseJson(raw);
    const record: RecordedRequest = {
      seq: ++state.seq,
      method: req.method ?? '',
      path: url.pathname,
      status: null,
      outcome: 'ok',
      ...summarise(body),
    };
    log(state, record);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    const gone = new AbortController();
    res.on('close', () => {
      state.inFlight--;
      record.status = res.headersSent ? res.statusCode : null;
      if (!res.writableFinished && record.outcome === 'ok') record.outcome = 'disconnected';
      if (!res.writableFinished) gone.abort();
    });

    const { knobs } = state;
    if (!knobs.only || knobs.only === endpoint) {
      if (!(await pause(knobs.latencyMs ?? 0, gone.signal))) return;
      const fault = nextFault(state);
      if (fault === 'hang') {
        record.outcome = 'hang';
        return; // Never answered: the socket closes when the client times out or the server stops.
      }
      if (fault !== null) {
        record.outcome = 'fault';
        const { failure, headers } = faultFailure(fault, knobs.retryAfterMs);
        return sendFailure(res, failure, headers);
      }
    }

    if (endpoint === 'models') return listModels(res, url.pathname);
    if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
      record.outcome = 'error';
      return sendFailure(
        res,
        invalid(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        ),
      );
    }
    const fields = body as Record<string, unknown>;
    if (endpoint === 'embeddings') {
      const outcome = createEmbeddings(fields);
      if (outcome.ok) return sendJson(res, 200, outcome.body);
      record.outcome = 'error';
      return sendFailure(res, outcome.failure);
    }
    const parsed = parseChat(fields);
    if (!parsed.ok) {
      record.outcome = 'error';
      return sendFailure(res, parsed.failure);
    }
    await answerChat(res, parsed.request, knobs, gone.signal, record);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendFailure(res, {
        status: 500,
        message: `fake OpenAI bug: ${String(err)}`,
        type: 'server_error',
        param: null,
        code: null,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/v1`,
    origin,
    port,
    scenario,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function listModels(res: ServerResponse, path: string): void {
  const model = (id: string) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' });
  const ids = [...EMBEDDING_MODELS, ...CHAT_MODELS];
  const one = decodeURIComponent(path.replace(/^\/v1\/models\/?/, ''));
  if (!one) return sendJson(res, 200, { object: 'list', data: ids.map(model) });
  if (ids.includes(one)) return sendJson(res, 200, model(one));
  sendFailure(res, {
    status: 404,
    message: `The model '${one}' does not exist`,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  });
}

/** The request log's view of a body: never the texts themselves, only their shape. */
function summarise(body: unknown): Partial<RecordedRequest> {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const s: Partial<RecordedRequest> = {};
  if (typeof b.model === 'string') s.model = b.model;
  if (b.input !== undefined) {
    const inputs =
      Array.isArray(b.input) && (b.input.length === 0 || typeof b.input[0] !== 'number') ? b.input : [b.input];
    s.inputs = inputs.length;
    s.inputChars = inputs.reduce((n: number, x: unknown) => n + (typeof x === 'string' ? x.length : 0), 0);
  }
  if (typeof b.dimensions === 'number') s.dimensions = b.dimensions;
  if (typeof b.encoding_format === 'string') s.encodingFormat = b.encoding_format;
  if (Array.isArray(b.messages)) s.messages = b.messages.length;
  if (b.messages !== undefined) s.stream = b.stream === true;
  return s;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

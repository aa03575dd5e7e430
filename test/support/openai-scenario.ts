/**
 * The admin wire types of the fake OpenAI server (test/fakes/openai.ts), shared by the server
 * (Node) and the workerd helpers (test/support/fake-openai.ts). No imports: both tsconfigs use it.
 */

/** What a faulty request gets: an HTTP status in OpenAI's error format, or no answer at all. */
export type Fault = number | 'hang';

/** Per-key behaviour, registered with `POST /__scenarios`. All delays in ms; all knobs optional. */
export interface ScenarioKnobs {
  /** Delay before the response headers, on every affected request. */
  latencyMs?: number;
  /** Chat: time from the headers (first chunk with the role) to the first content token. */
  ttftMs?: number;
  /** Chat: time between content tokens. A non-streaming answer waits ttft + all token delays. */
  tokenDelayMs?: number;
  /** The first N affected requests fail (then the key behaves normally). */
  failFirst?: number;
  /** Every Nth affected request fails (1 = all of them). */
  failEvery?: number;
  /** Fraction of affected requests that fail, from a PRNG seeded by the key (reproducible). */
  failRate?: number;
  /** The faults used, in turn, by failing requests. Default `[500]`. */
  failWith?: Fault[];
  /** Every affected request hangs (shorthand for failEvery 1 with failWith ['hang']). */
  hang?: boolean;
  /**
   * Wait the client is told to respect, sent as `retry-after-ms` and `retry-after` (seconds,
   * rounded up) on 429s — default 0, so SDK retries are immediate — and on 5xx only when set.
   */
  retryAfterMs?: number;
  /** Latency and faults apply only to this endpoint (default: every /v1 endpoint). */
  only?: 'embeddings' | 'chat';
  /** Chat: answer with this text instead of the grounded answer. */
  reply?: string;
  /** Chat streaming: the server drops the connection after sending this many content tokens. */
  dropAfterTokens?: number;
}

/** One request as the fake saw it (`GET /__requests?key=…`), in arrival order. */
export interface RecordedRequest {
  /** 1-based arrival number for this key. */
  seq: number;
  method: string;
  path: string;
  /** Response status; null when no response was sent (hang, or the client left first). */
  status: number | null;
  /**
   * ok | error (invalid request) | fault (injected status) | hang | disconnected (the client
   * left before the response ended) | dropped (`dropAfterTokens` cut it).
   */
  outcome: 'ok' | 'error' | 'fault' | 'hang' | 'disconnected' | 'dropped';
  model?: string;
  /** Embeddings: number of inputs; total characters of the string inputs. */
  inputs?: number;
  inputChars?: number;
  dimensions?: number;
  encodingFormat?: string;
  /** Chat: streaming or not, number of messages, content tokens written so far. */
  stream?: boolean;
  messages?: number;
  tokensSent?: number;
}

export interface RecordedRequests {
  requests: RecordedRequest[];
  /** Most requests this key ever had in flight at once. */
  maxInFlight: number;
}

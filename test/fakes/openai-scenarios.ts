/**
 * Per-key state of the fake OpenAI server (test/fakes/openai.ts): which scenario a key selects,
 * whether its next request fails and how, and its request log. Keys never share state, so test
 * files running in parallel cannot disturb each other.
 */
import type { Fault, RecordedRequest, RecordedRequests, ScenarioKnobs } from '../support/openai-scenario.ts';

export interface KeyState {
  knobs: ScenarioKnobs;
  affected: number;
  faults: number;
  random: () => number;
  log: RecordedRequest[];
  seq: number;
  inFlight: number;
  maxInFlight: number;
}

/** Per-key logs keep the latest requests only, so long benchmarks do not grow without bound. */
const MAX_LOG = 5000;

export interface KeyRegistry {
  /** The state of a known key, or of a new `sk-test-…` key; undefined for any other key. */
  stateOf(key: string): KeyState | undefined;
  /** Registers a scenario and returns the key that selects it. */
  scenario(knobs: ScenarioKnobs): string;
  requests(key: string): RecordedRequests;
  /** Appends to the key's log (keeping the latest 5,000). */
  record(state: KeyState, request: RecordedRequest): void;
}

/** `defaults` are the knobs of `sk-test-…` keys. */
export function keyRegistry(defaults: ScenarioKnobs = {}): KeyRegistry {
  const keys = new Map<string, KeyState>();
  let scenarios = 0;
  const newState = (key: string, knobs: ScenarioKnobs): KeyState => {
    const state = {
      knobs,
      affected: 0,
      faults: 0,
      random: mulberry32(seedOf(key)),
      log: [],
      seq: 0,
      inFlight: 0,
      maxInFlight: 0,
    };
    keys.set(key, state);
    return state;
  };
  const stateOf = (key: string): KeyState | undefined =>
    keys.get(key) ?? (key.startsWith('sk-test-') ? newState(key, defaults) : undefined);
  const scenario = (knobs: ScenarioKnobs): string => {
    const key = `sk-scn-${++scenarios}-${Math.random().toString(36).slice(2, 10)}`;
    newState(key, knobs);
    return key;
  };
  const requests = (key: string): RecordedRequests => {
    const state = keys.get(key);
    return { requests: state?.log ?? [], maxInFlight: state?.maxInFlight ?? 0 };
  };
  const record = (state: KeyState, request: RecordedRequest): void => {
    state.log.push(request);
    if (state.log.length > MAX_LOG) state.log.shift();
  };
  return { stateOf, scenario, requests, record };
}

/** Whether this affected request fails, and how. */
export function nextFault(state: KeyState): Fault | null {
  const { knobs } = state;
  const n = ++state.affected;
  const roll = state.random();
  const fails =
    knobs.hang === true ||
    (knobs.failFirst !== undefined && n <= knobs.failFirst) ||
    (knobs.failEvery !== undefined && knobs.failEvery > 0 && n % knobs.failEvery === 0) ||
    (knobs.failRate !== undefined && roll < knobs.failRate);
  if (!fails) return null;
  if (knobs.hang) return 'hang';
  const list = knobs.failWith?.length ? knobs.failWith : [500];
  return list[state.faults++ % list.length] ?? 500;
}

/** Validates `POST /__scenarios` input; a string is the problem. */
export function parseKnobs(raw: string): ScenarioKnobs | string {
  const knobs = parseJson(raw || '{}');
  if (typeof knobs !== 'object' || knobs === null || Array.isArray(knobs)) return 'body must be a JSON object of knobs';
  const k = knobs as Record<string, unknown>;
  const numbers = [
    'latencyMs',
    'ttftMs',
    'tokenDelayMs',
    'failFirst',
    'failEvery',
    'failRate',
    'retryAfterMs',
    'dropAfterTokens',
  ];
  for (const name of numbers) {
    if (k[name] !== undefined && (typeof k[name] !== 'number' || !(k[name] >= 0)))
      return `${name} must be a number >= 0`;
  }
  if (
    k.failWith !== undefined &&
    !(
      Array.isArray(k.failWith) &&
      k.failWith.every((f) => f === 'hang' || (Number.isInteger(f) && f >= 400 && f <= 599))
    )
  ) {
    return "failWith must list HTTP statuses (400-599) or 'hang'";
  }
  if (k.only !== undefined && k.only !== 'embeddings' && k.only !== 'chat')
    return "only must be 'embeddings' or 'chat'";
  if (k.hang !== undefined && typeof k.hang !== 'boolean') return 'hang must be a boolean';
  if (k.reply !== undefined && typeof k.reply !== 'string') return 'reply must be a string';
  return k as ScenarioKnobs;
}

export function parseJson(raw: string): unknown {
  try {
    return raw ? JSON.parse(raw) : undefined;
  } catch {
    return undefined;
  }
}

function seedOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

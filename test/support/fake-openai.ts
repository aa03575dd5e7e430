/**
 * Workerd-side helpers for the fake OpenAI server that test/setup/global-setup.ts starts
 * (test/fakes/openai.ts): its base URL, fresh keys, scenarios and the request log of a key.
 */
import { inject } from 'vitest';
import type { RecordedRequests, ScenarioKnobs } from './openai-scenario';

export type { RecordedRequest, RecordedRequests, ScenarioKnobs } from './openai-scenario';

/**
 * Base URL for the `openai` SDK and for `OPENAI_BASE_URL`, ending in `/v1`. With `lane`, a base
 * URL of its own for the same server: the Worker keys its circuit breaker by base URL (shared
 * through Redis), so tests that make the provider fail use a lane and never open another's.
 */
export function fakeOpenAIUrl(lane?: string): string {
  const url = inject('openaiUrl');
  return lane ? url.replace(/\/v1$/, `/lane/${lane}/v1`) : url;
}

/** A healthy key of its own, so the request log holds only this caller's requests. */
export function healthyKey(): string {
  return `sk-test-${crypto.randomUUID()}`;
}

/** Registers a scenario (latency, faults, fixed reply…) and returns the key that selects it. */
export async function scenarioKey(knobs: ScenarioKnobs): Promise<string> {
  const res = await fetch(new URL('/__scenarios', fakeOpenAIUrl()), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(knobs),
  });
  if (res.status !== 201) throw new Error(`fake OpenAI refused the scenario: ${await res.text()}`);
  return (await res.json<{ key: string }>()).key;
}

/** What the fake received with `key`, in arrival order. */
export async function recordedRequests(key: string): Promise<RecordedRequests> {
  const url = new URL('/__requests', fakeOpenAIUrl());
  url.searchParams.set('key', key);
  return (await fetch(url)).json<RecordedRequests>();
}

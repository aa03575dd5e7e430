/** The official `openai` client, unchanged, pointed at the Worker under test (`/v1`). */
import { exports } from 'cloudflare:workers';
import OpenAI from 'openai';

export function parleyOpenAI(apiKey: string): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: 'http://parley.test/v1',
    maxRetries: 0,
    fetch: (input: string | URL | Request, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
  });
}

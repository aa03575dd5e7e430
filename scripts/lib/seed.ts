/**
 * Dev seeding, through the public API of the running Worker: a demo project with one secret and
 * one publishable key, created once and remembered in .parley/dev.json
 * `{"base_url","owner_token","project_id","publishable_key","secret_key"}`. Later starts reuse
 * it (refreshing the owner token) while the project still exists.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { devOwnerToken, ROOT } from './dev-env.ts';

export interface DevInfo {
  base_url: string;
  owner_token: string;
  project_id: string;
  publishable_key: string;
  secret_key: string;
}

const FILE = `${ROOT}.parley/dev.json`;

async function api<T>(
  baseUrl: string,
  token: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function seed(baseUrl: string): Promise<{ info: DevInfo; created: boolean }> {
  const owner = await devOwnerToken();
  if (existsSync(FILE)) {
    const previous = JSON.parse(readFileSync(FILE, 'utf8')) as DevInfo;
    const check = await api(baseUrl, owner, `/api/v1/projects/${previous.project_id}`);
    const keyWorks = (await api(baseUrl, previous.secret_key, '/api/v1/auth/session', {})).status === 201;
    if (check.status === 200 && keyWorks) {
      const info = { ...previous, base_url: baseUrl, owner_token: owner };
      writeFileSync(FILE, `${JSON.stringify(info, null, 2)}\n`);
      return { info, created: false };
    }
  }
  const project = await api<{ id: string }>(baseUrl, owner, '/api/v1/projects', {
    name: 'Demo project',
    settings: { greeting: 'Hi! Ask me anything about this demo.' },
  });
  if (project.status !== 201) throw new Error(`seeding failed creating the project: ${JSON.stringify(project.body)}`);
  const keys: Record<string, string> = {};
  for (const type of ['secret', 'publishable'] as const) {
    const key = await api<{ key: string }>(baseUrl, owner, `/api/v1/projects/${project.body.id}/keys`, {
      type,
      name: `demo ${type}`,
    });
    if (key.status !== 201) throw new Error(`seeding failed creating a ${type} key: ${JSON.stringify(key.body)}`);
    keys[type] = key.body.key;
  }
  const info: DevInfo = {
    base_url: baseUrl,
    owner_token: owner,
    project_id: project.body.id,
    publishable_key: keys.publishable!,
    secret_key: keys.secret!,
  };
  writeFileSync(FILE, `${JSON.stringify(info, null, 2)}\n`);
  return { info, created: true };
}

/**
 * Node-side test tools the workerd tests call over loopback, for checks that need Node:
 * - `POST /openapi/validate` runs @apidevtools/swagger-parser (a standard OpenAPI 3.1
 *   validator, which compiles schemas with code generation that workerd forbids);
 * - outage drills on a private local stack of their own (never the suite's shared one):
 *   `POST /stacks` starts one and answers its URLs and id, `POST /stacks/:id/control`
 *   `{"command":"stop redis"|"start redis"|"stop postgres"|"start postgres"}` stops or restarts
 *   one of its servers, `DELETE /stacks/:id` stops it all.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import SwaggerParser from '@apidevtools/swagger-parser';
import { spawnStack, type RunningStack, type StackCommand } from '../../scripts/stack/client.ts';

export interface Tools {
  readonly port: number;
  close(): Promise<void>;
}

type Reply = (status: number, body?: unknown) => void;

export async function startTools(): Promise<Tools> {
  const stacks = new Map<string, RunningStack>();

  async function route(req: IncomingMessage, raw: string, reply: Reply): Promise<void> {
    const path = req.url ?? '/';
    if (req.method === 'POST' && path === '/openapi/validate') {
      const document = JSON.parse(raw) as Parameters<typeof SwaggerParser.validate>[0];
      try {
        await SwaggerParser.validate(document);
        return reply(200, { valid: true });
      } catch (err) {
        return reply(200, { valid: false, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (req.method === 'POST' && path === '/stacks') {
      const stack = await spawnStack();
      const id = crypto.randomUUID();
      stacks.set(id, stack);
      const { databaseUrl, upstashUrl, upstashToken } = stack;
      return reply(201, { id, databaseUrl, upstashUrl, upstashToken });
    }
    const match = /^\/stacks\/([\w-]+)(\/control)?$/.exec(path);
    const stack = match ? stacks.get(match[1] ?? '') : undefined;
    if (!match || !stack) return reply(404);
    if (req.method === 'POST' && match[2]) {
      const { command } = JSON.parse(raw) as { command: StackCommand };
      await stack.control(command);
      return reply(200, { ok: true });
    }
    if (req.method === 'DELETE' && !match[2]) {
      stacks.delete(match[1] ?? '');
      await stack.stop();
      return reply(204);
    }
    return reply(404);
  }

  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply: Reply = (status, body) => {
        if (body === undefined) return void res.writeHead(status).end();
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      route(req, Buffer.concat(chunks).toString('utf8'), reply).catch((err: unknown) =>
        reply(500, { error: err instanceof Error ? err.message : String(err) }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      await Promise.all([...stacks.values()].map((s) => s.stop()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

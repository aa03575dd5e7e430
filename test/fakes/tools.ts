/**
 * Node-side test tools the workerd tests call over loopback, for checks that need Node
 * libraries: `POST /openapi/validate` runs @apidevtools/swagger-parser (a standard OpenAPI 3.1
 * validator, which compiles schemas with code generation that workerd forbids).
 */
import { createServer, type Server } from 'node:http';
import SwaggerParser from '@apidevtools/swagger-parser';

export interface Tools {
  readonly port: number;
  close(): Promise<void>;
}

export async function startTools(): Promise<Tools> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/openapi/validate') {
        res.writeHead(404).end();
        return;
      }
      const document = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Parameters<
        typeof SwaggerParser.validate
      >[0];
      SwaggerParser.validate(document).then(
        () => reply(200, { valid: true }),
        (err: unknown) => reply(200, { valid: false, error: err instanceof Error ? err.message : String(err) }),
      );
      function reply(status: number, body: unknown): void {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

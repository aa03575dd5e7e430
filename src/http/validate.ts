/**
 * Input validation: @hono/zod-validator with Parley's error envelope, plus OpenAPI metadata so
 * the same schema validates the request and documents it.
 */
import { zValidator } from '@hono/zod-validator';
import type { z } from 'zod';
import { AppError } from '../errors';
import { annotate, type InputTarget } from './openapi';

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** `a.b[0].c`-style paths for error details. */
function pathOf(path: PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

export function validate<Target extends InputTarget, T extends z.ZodType>(target: Target, schema: T) {
  const middleware = zValidator(target, schema, (result, c) => {
    if (result.success) return;
    if (target === 'json') {
      const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
      if (!JSON_TYPE.test(type)) {
        throw new AppError('unsupported_media_type', 'Content-Type must be application/json');
      }
    }
    const where = target === 'json' ? 'request body' : target === 'param' ? 'path' : target;
    throw new AppError('validation_failed', `Invalid ${where}`, {
      details: result.error.issues.map((issue) => ({ path: pathOf(issue.path) || '(root)', message: issue.message })),
    });
  });
  return annotate(middleware, { kind: 'input', target, schema });
}

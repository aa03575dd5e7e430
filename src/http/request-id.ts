/** Request ids: honour a well-formed incoming `x-request-id`, otherwise mint one; echo it back. */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';

const VALID = /^[A-Za-z0-9._:-]{8,128}$/;

export const REQUEST_ID_HEADER = 'x-request-id';

export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header(REQUEST_ID_HEADER);
  const id = incoming && VALID.test(incoming) ? incoming : crypto.randomUUID();
  c.set('requestId', id);
  c.header(REQUEST_ID_HEADER, id);
  await next();
  // Error responses are built after the first header() call; make sure they carry the id too.
  c.res.headers.set(REQUEST_ID_HEADER, id);
});

/**
 * Work that should stop when the client goes away (a chat turn's model call). Workers aborts an
 * incoming request's `signal` when its client disconnects only with the `enable_request_signal`
 * compatibility flag (wrangler.toml). Without it the signal never aborts: the runtime cancels
 * the handler outright, unless `waitUntil` work keeps the invocation alive — then the handler
 * runs to its end (the model answers in full) for nobody.
 */

/**
 * A controller that aborts when `request`'s client disconnects. Streaming handlers may abort it
 * themselves too (a stream's `onAbort`).
 */
export function abortOnDisconnect(request: Request): AbortController {
  const controller = new AbortController();
  // Optional: a Request built without the runtime (some test and adapter paths) may lack one.
  const signal = request.signal as AbortSignal | null | undefined;
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller;
}

/**
 * The answer to a client that left before it was ready: nobody reads it, and the request log
 * shows 499 (nginx's "client closed request") instead of a server error.
 */
export function clientClosed(): Response {
  return new Response(null, { status: 499 });
}

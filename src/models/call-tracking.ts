/**
 * Counting model calls in flight: a call is in flight from `invoke` until it is rejected, its
 * response arrived whole (the model is done with it), or its response body ends, fails or is
 * destroyed. Shared by the instance pool and the single model.
 */
import type { Readable } from 'node:stream';
import type { ModelClient, ModelInvocation, ModelResponse } from './port.js';

/** Calls `done` once, when `body` has ended, errored or closed (at once if it already has). */
function whenBodySettles(body: Readable, done: () => void): void {
  let called = false;
  const finish = (): void => {
    if (called) return;
    called = true;
    body.off('end', finish);
    body.off('close', finish);
    done();
  };
  if (body.destroyed || body.readableEnded) {
    finish();
    return;
  }
  // No 'error' listener on purpose: errors stay the consumer's; 'close' follows them (autoDestroy).
  body.once('end', finish);
  body.once('close', finish);
}

/**
 * Invokes `client` and calls `done` exactly once when the call is over: on rejection, when the
 * response arrived whole, or when its body ends, errors or is destroyed. The caller counts the
 * call as started before this.
 * @internal
 */
export function invokeCounted(client: ModelClient, call: ModelInvocation, done: () => void): Promise<ModelResponse> {
  return client.invoke(call).then((response) => {
    if (response.whole !== undefined) done();
    else whenBodySettles(response.body, done);
    return response;
  }, (err: unknown) => {
    done();
    throw err;
  });
}

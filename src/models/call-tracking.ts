/**
 * Counting model calls in flight: a call is in flight from `invoke` until it is rejected or its
 * response body ends, fails or is destroyed. Shared by the instance pool and the single model.
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
 * Invokes `client` and calls `done` exactly once when the call is over: on rejection, or when the
 * response body ends, errors or is destroyed. The caller counts the call as started before this.
 * @internal
 */
export async function invokeCounted(client: ModelClient, call: ModelInvocation, done: () => void): Promise<ModelResponse> {
  let response: ModelResponse;
  try {
    response = await client.invoke(call);
  } catch (err) {
    done();
    throw err;
  }
  whenBodySettles(response.body, done);
  return response;
}

/** Test helper: what an AWS SDK call (or any promise) failed with, for comparing in one assertion. */

/** The error a settled promise rejected with: name, message and HTTP status (AWS SDK `$metadata`). */
export interface SdkError {
  name: string;
  message: string;
  status: number | undefined;
}

/** Awaits `p` and returns the error it rejected with; `{ name: 'no error' }` when it resolved. */
export async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message, status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode };
  }
  return { name: 'no error', message: '', status: undefined };
}

/** The name of the error `p` rejected with (`'no error'` when it resolved). */
export async function errorName(p: Promise<unknown>): Promise<string> {
  return (await sdkError(p)).name;
}

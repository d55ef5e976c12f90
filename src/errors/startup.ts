/**
 * Errors of the environment a process starts in, found before it serves anything: a data
 * directory that cannot be created, written or opened, a data directory with no inferq data for a
 * worker, an address that cannot be bound, a queue database that cannot be reached or migrated. The command line prints the message as one line and
 * exits with status 2 (the same as a configuration error); nothing else exits the process.
 */

/** What is wrong with the environment. */
export type StartupProblem =
  /** The data directory (or one of its parents) cannot be created. */
  | 'data-dir-create'
  /** The data directory exists but a file cannot be written in it. */
  | 'data-dir-write'
  /** The data directory's databases cannot be opened (corrupt, newer schema, …). */
  | 'data-dir-open'
  /** `inferq worker` was pointed at a directory that holds no inferq data. */
  | 'data-dir-empty'
  /** The server's address cannot be bound (in use, not local, privileged). */
  | 'listen'
  /** The S3 backend of `objects.backend: s3` cannot be reached, or refuses to create the output buckets. */
  | 'objects-backend'
  /** The queue database (PostgreSQL) cannot be reached, or its schema cannot be created or migrated. */
  | 'queue-open';

/** A start-up failure caused by the environment; `message` is one line naming the path or address and the OS reason. */
export class StartupError extends Error {
  override readonly name = 'StartupError';

  /**
   * @param problem what is wrong
   * @param subject the path or `host:port` concerned
   * @param message one line for the operator
   */
  constructor(readonly problem: StartupProblem, readonly subject: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Whether `value` is a {@link StartupError}. */
export function isStartupError(value: unknown): value is StartupError {
  return value instanceof StartupError;
}

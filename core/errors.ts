/**
 * The platform's errors: every error the code raises on purpose is one of these, so a caller can tell what to
 * do with it from its class. Each sets its `name` explicitly (bundles are minified, class names are not kept).
 *
 *   PlatformError
 *   ├─ ConfigError        a configuration value is missing or wrong (stage configuration, a function's
 *   │                     environment, a command's options): fix it. Printed as its message alone, which
 *   │                     names the key, the value and what it must be.
 *   ├─ InputError         an operation was given input it cannot work with (an event without the fields it
 *   │                     needs, a malformed id): the caller's mistake, retrying does not help.
 *   ├─ DependencyError    a call to a service failed after its retries; `kind` says whether trying again
 *   │                     later can help (throttling, transient) or not (permanent).
 *   ├─ ProfileWriteError  users whose profiles could not be written; the invocation fails and is retried.
 *   └─ InvariantError     a rule of the code itself was broken: a bug, never bad input.
 */

export class PlatformError extends Error {
  override name = 'PlatformError';
}

export class ConfigError extends PlatformError {
  override name = 'ConfigError';
}

export class InputError extends PlatformError {
  override name = 'InputError';
}

/** How a failed call may be retried: throttling and transient failures pass; a permanent one does not. */
export type FailureKind = 'throttling' | 'transient' | 'permanent';

export class DependencyError extends PlatformError {
  override name = 'DependencyError';

  constructor(
    message: string,
    /** The service's error code (an SDK error name, an S3 <Code>, `HTTP503`, ...). */
    readonly code: string,
    readonly kind: FailureKind,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** Whether trying again later can help. */
  get retryable(): boolean {
    return this.kind !== 'permanent';
  }
}

export class InvariantError extends PlatformError {
  override name = 'InvariantError';
}

/** `Name: message` of anything thrown. */
export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

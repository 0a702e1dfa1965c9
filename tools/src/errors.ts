/**
 * Errors the user can act on. The CLI's one top-level handler prints their message (never a stack
 * trace) and exits with their exit code; anything else is reported as a bug.
 */
export class UserError extends Error {
  constructor(
    message: string,
    /** 1: the command ran and found a problem (validation errors, a failed preview); 2: usage or environment. */
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/**
 * Errors a user can cause. `key` is an i18n key (with `vars`), so every face of the domain
 * (bot, CLI, a future Mini App) can show the same clear, localized message. Nothing has changed
 * when one is thrown.
 */
export class DomainError extends Error {
  constructor(
    readonly key: string,
    readonly vars: Record<string, unknown> = {},
  ) {
    super(key);
    this.name = 'DomainError';
  }
}

/** R4: the actor may not see or change this. Says nothing about whether the thing exists. */
export class AccessDenied extends DomainError {
  constructor() {
    super('errors.forbidden');
    this.name = 'AccessDenied';
  }
}

export class NotFound extends DomainError {
  constructor(what: string) {
    super('errors.notFound', { what });
    this.name = 'NotFound';
  }
}

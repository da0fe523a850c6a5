import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { AccessDenied, DomainError, NotFound } from '../domain/shared/errors.js';
import { translator, type Translate } from '../i18n.js';
import type { ApiError } from './api-types.js';
import type { WebDeps, WebEnv } from './context.js';
import { InitDataError } from './init-data.js';

/** The bot's messages are HTML (parse_mode); the API answers plain text. */
export function plainText(html: string): string {
  return html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function apiError(c: Context, status: ContentfulStatusCode, error: ApiError['error'], message: string, key?: string) {
  const body: ApiError = key ? { error, message, key } : { error, message };
  return c.json(body, status);
}

/**
 * Errors of /app/api → JSON: a use case's refusal (DomainError with an i18n key) is said in the
 * person's language, exactly as the bot says it; anything else is a 500 with the apology.
 */
export function errorHandler(deps: WebDeps) {
  const fallback = translator(deps.i18n, deps.config.defaultLocale);
  return (err: Error, c: Context<WebEnv>) => {
    const t: Translate = c.get('session')?.t ?? fallback;
    if (err instanceof InitDataError) {
      const key = err.problem === 'expired' ? 'web.errors.expired' : 'web.errors.unauthorized';
      return apiError(c, 401, 'unauthorized', t(key), key);
    }
    if (err instanceof ZodError) return apiError(c, 400, 'bad_request', t('web.errors.badRequest'), 'web.errors.badRequest');
    if (err instanceof DomainError) {
      deps.logger.info({ key: err.key, path: c.req.path }, 'Mini App request refused');
      const message = plainText(t(err.key, err.vars));
      if (err instanceof AccessDenied) return apiError(c, 403, 'forbidden', message, err.key);
      if (err instanceof NotFound) return apiError(c, 404, 'not_found', message, err.key);
      return apiError(c, 409, 'refused', message, err.key);
    }
    deps.logger.error({ err, path: c.req.path }, 'Mini App request failed');
    return apiError(c, 500, 'internal', plainText(t('common.apology')));
  };
}

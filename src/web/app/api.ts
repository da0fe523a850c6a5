/** Calls to /app/api with Telegram's init data (`Authorization: tma <initData>`); errors carry the server's localized message. */
import { t } from './i18n.js';
import { initData } from './tg.js';
import type { ApiErrorBody } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const BASE = '/app/api';

/** The heading over a failure: "no access" for 401/403, "could not load" for the rest. */
export function failureOf(err: unknown): { title: string; message: string } {
  if (!(err instanceof ApiError)) return { title: t('errors.failedTitle'), message: t('errors.unknown') };
  return { title: err.status === 401 || err.status === 403 ? t('errors.title') : t('errors.failedTitle'), message: err.message };
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  // The first grid index.html asked for while this script loaded: taken once, for the same path and person.
  const w = window as unknown as { __sjbEarly?: { initData: string; path: string; response: Promise<Response> } };
  const early = w.__sjbEarly;
  if (early && !init.method && early.path === path && early.initData === initData()) {
    w.__sjbEarly = undefined;
    return answer<T>(early.response);
  }
  const res = fetch(`${BASE}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      Authorization: `tma ${initData()}`,
      ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return answer<T>(res);
}

/** /me: the request index.html started before this script loaded when it was for the same init data. */
export function fetchMe<T>(): Promise<T> {
  const early = (window as unknown as { __sjbMe?: { initData: string; response: Promise<Response> } }).__sjbMe;
  if (early && early.initData === initData()) return answer<T>(early.response);
  return api<T>('/me');
}

async function answer<T>(pending: Promise<Response>): Promise<T> {
  let res: Response;
  try {
    res = await pending;
  } catch {
    throw new ApiError(0, 'network', t('errors.network'));
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const err = (body ?? {}) as Partial<ApiErrorBody>;
    const message = typeof err.message === 'string' && err.message ? err.message : t('errors.server', { status: res.status });
    throw new ApiError(res.status, typeof err.error === 'string' ? err.error : 'http', message);
  }
  return body as T;
}

export function query(params: Record<string, string | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) q.set(key, value);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A key the server uses to store one mark once however often the button is pressed. */
export function clientKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

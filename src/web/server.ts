import { holdNoticeIntents } from '../domain/notices/intents.js';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { WebDeps, WebEnv } from './context.js';
import { authMiddleware } from './auth.js';
import { apiError, errorHandler } from './errors.js';
import { childrenRoutes } from './routes/children.js';
import { journalRoutes } from './routes/journal.js';
import { meRoutes } from './routes/me.js';
import { officePeopleRoutes } from './routes/office-people.js';
import { reportRoutes } from './routes/office-reports.js';
import { officeRoutes } from './routes/office.js';
import { staticHandler, WEBAPP_DIR } from './static.js';
import type { WebhookHandler } from './webhook.js';

export interface WebServer {
  /** http://host:port of the listening server (127.0.0.1 when bound to every interface). */
  url: string;
  port: number;
  /** Graceful: stop accepting, finish the requests and webhook updates in flight. Safe twice. */
  stop(): Promise<void>;
}

export interface WebServerOptions {
  /** Mounted at WEBHOOK_URL's path in webhook mode. */
  webhook?: WebhookHandler;
  listen?: { host: string; port: number };
  /** The built front end (default dist/webapp). */
  webappDir?: string;
}

/** The routes, without listening: /app/api/* (JSON, init data checked), /app/* (static), the webhook. */
export function createWebApp(deps: WebDeps, opts: Pick<WebServerOptions, 'webhook' | 'webappDir'> = {}) {
  const app = new Hono<WebEnv>();
  const { webhook } = opts;
  if (webhook) app.post(webhook.path, (c) => webhook.handle(c));

  const api = new Hono<WebEnv>();
  api.onError(errorHandler(deps));
  // The families' notices of what a request saved are fanned out once it is answered (issue 12).
  api.use('*', (_c, next) => holdNoticeIntents(next));
  api.use('*', authMiddleware(deps));
  meRoutes(api, deps);
  journalRoutes(api, deps);
  childrenRoutes(api, deps);
  officeRoutes(api, deps);
  officePeopleRoutes(api, deps);
  reportRoutes(api, deps);
  api.all('*', (c) => apiError(c, 404, 'not_found', c.get('session').t('web.errors.notFound'), 'web.errors.notFound'));
  app.route('/app/api', api);

  const files = staticHandler(opts.webappDir ?? WEBAPP_DIR);
  app.get('/app', (c) => c.redirect('/app/', 301));
  app.get('/app/*', files);
  app.get('/', (c) => c.redirect('/app/', 302));
  return app;
}

/**
 * The one web server of the app (issue 15): Telegram's webhook and the Mini App, on WEB_HOST:WEB_PORT.
 * Started by createApp in both polling and webhook mode, stopped by app.stop().
 */
export async function startWebServer(deps: WebDeps, opts: WebServerOptions = {}): Promise<WebServer> {
  const app = createWebApp(deps, opts);
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const listen = opts.listen ?? { host: deps.config.web.host, port: deps.config.web.port };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
  deps.logger.info({ host: listen.host, port }, 'Web server listening (Mini App at /app/)');

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // A keep-alive connection still busy is closed once its answer is sent; after a while, all.
        const force = setTimeout(() => server.closeAllConnections(), Math.max(1000, deps.config.shutdownTimeoutMs / 2));
        force.unref();
        await closed;
        clearTimeout(force);
        await opts.webhook?.idle();
      })();
      return stopping;
    },
  };
}

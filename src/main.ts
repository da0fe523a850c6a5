import { existsSync } from 'node:fs';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { NoDatabaseError } from './db/local-server.js';
import { createLogger } from './logger.js';

/** The process entry point: read .env, validate config, start, and stop gracefully on signals. */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp(config, { logger });
  } catch (e) {
    if (e instanceof NoDatabaseError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(3);
    }
    throw e;
  }

  let signalled = false;
  const shutdown = async (signal: string) => {
    if (signalled) return; // a second signal while stopping changes nothing
    signalled = true;
    logger.info({ signal }, 'Signal received');
    const timer = setTimeout(() => {
      logger.error('Shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    await app.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await app.start();
  } catch (e) {
    logger.fatal({ err: e }, 'Could not start');
    await app.stop();
    process.exit(1);
  }
  logger.info({ mode: config.mode, database: app.mongo.kind }, 'School Journal Bot is running');
}

main().catch((e) => {
  process.stderr.write(`Fatal: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

import mongoose, { type Connection } from 'mongoose';

/**
 * Timeouts (issue 12: a frozen database made people wait 29 s, because nothing timed out). People
 * are answered by the bot's per-update deadline (src/bot/middleware/outage.ts, 3.5 s), whatever
 * the driver does; these bound how long work behind that deadline (and jobs, the delivery worker,
 * the CLI) hangs on a database that is down:
 *  - serverSelectionTimeoutMS 5 s (was 10 s): a stopped server fails an operation in 5 s. Long
 *    enough for a replica set to elect a new primary in most cases (~2–10 s) without failing at once.
 *  - connectTimeoutMS 5 s (driver default 30 s): also the monitor's timeout for its heartbeat, so a
 *    frozen server is marked unknown within heartbeatFrequencyMS (10 s) + 5 s instead of ~30 s, and
 *    new connections to a dead host give up in 5 s. A loopback or LAN connection takes milliseconds.
 *  - bufferTimeoutMS 5 s (mongoose default 10 s): commands queued while mongoose is disconnected.
 *  - socketTimeoutMS stays 0 (none): it would cut legitimate long operations (year close, imports,
 *    reports) and would not answer anyone sooner. An operation on a frozen socket waits until the
 *    server thaws or the monitor clears the pool; a bot update behind it has been answered already
 *    and is refused any further write.
 */
export const DB_TIMEOUTS = { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000, bufferTimeoutMS: 5_000 } as const;

/** Opens a dedicated mongoose connection (never the global default), so several apps can live in one process. */
export async function connectMongo(uri: string, opts: { serverSelectionTimeoutMS?: number } = {}): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? DB_TIMEOUTS.serverSelectionTimeoutMS,
    connectTimeoutMS: DB_TIMEOUTS.connectTimeoutMS,
    // Indexes are declared in the schemas and built by `syncIndexes` at start-up (see createDb).
    autoIndex: false,
    autoCreate: true,
  });
  conn.set('bufferTimeoutMS', DB_TIMEOUTS.bufferTimeoutMS);
  await conn.asPromise();
  return conn;
}

const OUTAGE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoPoolClearedError',
  'MongoTopologyClosedError',
  'MongoOperationTimeoutError',
  'MongoNotConnectedError',
  'DeadlinePassedError',
]);

/** True for an error that means "the database cannot be used now" (not a bug, not a refusal). */
export function isDatabaseOutage(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  if (OUTAGE_NAMES.has(err.name)) return true;
  // mongoose's own "Operation `x.find()` buffering timed out" while disconnected.
  if (err.name === 'MongooseError' && /buffering timed out|Connection was force closed/.test(err.message)) return true;
  return isDatabaseOutage((err as { cause?: unknown }).cause, depth + 1);
}

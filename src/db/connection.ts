import mongoose, { type Connection } from 'mongoose';

/** Opens a dedicated mongoose connection (never the global default), so several apps can live in one process. */
export async function connectMongo(uri: string, opts: { serverSelectionTimeoutMS?: number } = {}): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 10_000,
    // Indexes are declared in the schemas and built by `syncIndexes` at start-up (see createDb).
    autoIndex: false,
    autoCreate: true,
  });
  await conn.asPromise();
  return conn;
}

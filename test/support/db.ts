/**
 * Per-test databases on the server started by global-setup.ts. Every call returns a URI with a
 * new, unique database name, so test files (which run in parallel) never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { inject } from 'vitest';

/** Database name prefix; dropTestDatabase refuses to drop anything else. */
export const TEST_DB_PREFIX = 'sjb_test_';

const MONGO_URI = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/([^?]*))?(\?.*)?$/;

/**
 * The injected server URI with a unique database name: `sjb_test_<name>_<random>`.
 * `name` (optional) only makes the database easier to recognise.
 */
export function testMongoUri(name?: string): string {
  const base = inject('mongoUri');
  if (!base) throw new Error('mongoUri was not provided: is test/support/global-setup.ts the globalSetup?');
  const slug = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 24);
  const dbName = `${TEST_DB_PREFIX}${slug ? `${slug}_` : ''}${randomBytes(5).toString('hex')}`;
  return withDatabase(base, dbName);
}

/** Replaces the database in a mongodb:// URI, keeping hosts and options. */
export function withDatabase(uri: string, dbName: string): string {
  const match = MONGO_URI.exec(uri);
  if (!match) throw new Error(`not a mongodb:// URI: ${uri}`);
  const [, authority = '', oldDb = '', query = ''] = match;
  let options = query;
  // With credentials, the database in the path is also where the user is authenticated;
  // keep authenticating against the original one. (mongodb+srv gets authSource from DNS.)
  if (authority.includes('@') && !authority.startsWith('mongodb+srv:') && !/[?&]authSource=/.test(query)) {
    const authSource = `authSource=${oldDb ? decodeURIComponent(oldDb) : 'admin'}`;
    options = query ? `${query}&${authSource}` : `?${authSource}`;
  }
  return `${authority}/${encodeURIComponent(dbName)}${options}`;
}

/** Drops the database named in `uri` (only test databases: `sjb_test_*`). */
export async function dropTestDatabase(uri: string): Promise<void> {
  const match = MONGO_URI.exec(uri);
  const dbName = decodeURIComponent(match?.[2] ?? '');
  if (!dbName.startsWith(TEST_DB_PREFIX)) {
    throw new Error(`refusing to drop "${dbName}": not a test database (${TEST_DB_PREFIX}*)`);
  }
  const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 10_000, autoIndex: false, autoCreate: false });
  try {
    await conn.asPromise();
    await conn.dropDatabase();
  } finally {
    await conn.close();
  }
}

/**
 * vitest globalSetup: one MongoDB server for the whole run, handed to the tests as
 * `inject('mongoUri')` (use `testMongoUri()` from ./db.ts, which adds a fresh database name).
 *
 * - TEST_MONGODB_URI set: use that server (nothing is started).
 * - otherwise: startLocalMongo({ persistent: false }) — a local mongod if there is one, else the
 *   in-memory stand-in (built offline from ~/.m2 if needed: tests never download anything).
 */
import pino from 'pino';
import type { TestProject } from 'vitest/node';
import { startLocalMongo } from '../../src/db/local-server.js';
import { buildWebapp } from '../../scripts/build-webapp.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URI, e.g. mongodb://127.0.0.1:41234/school_journal; pass it through testMongoUri(). */
    mongoUri: string;
    /** 'external' (TEST_MONGODB_URI), 'mongod', 'downloaded-mongod' or 'standin'. */
    mongoKind: string;
    /** The Mini App was built into dist/webapp from the current sources before any test file ran. */
    webappBuilt: boolean;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  // Once for the whole run: test files in parallel workers each building it would replace
  // dist/webapp under each other's web servers (a browser test then meets a 404).
  await buildWebapp({ quiet: true });
  project.provide('webappBuilt', true);
  const external = process.env['TEST_MONGODB_URI']?.trim();
  if (external) {
    project.provide('mongoUri', external);
    project.provide('mongoKind', 'external');
    console.log(`[tests] MongoDB: external server from TEST_MONGODB_URI (${redact(external)})`);
    return undefined;
  }

  const started = Date.now();
  const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'warn' }, pino.destination(2));
  const local = await startLocalMongo({ persistent: false, offline: true, dbName: 'sjb_test', logger });
  project.provide('mongoUri', local.uri);
  project.provide('mongoKind', local.kind);
  console.log(`[tests] MongoDB: ${local.kind} at ${local.uri} (ready in ${Date.now() - started} ms)`);
  return async () => {
    await local.stop();
  };
}

/** Hides a password in a URI before printing it. */
function redact(uri: string): string {
  return uri.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

import { describe, expect, it } from 'vitest';
import { testMongoUri } from '../../support/db.js';
import { runFuzz } from './fuzz-run.js';

/**
 * Issue 12: random updates (scripts/fuzz-updates.ts, fixed seed) never reach a handler as an
 * unhandled error, and strangers change nothing. Before the update schema: `txt.match is not a
 * function`, `m.text?.startsWith is not a function`, sendMessage without a chat.
 */
describe('fuzzed updates', () => {
  it('1,000 random updates: 0 unhandled errors, nothing changed by strangers', { timeout: 240_000 }, async () => {
    const result = await runFuzz({ count: 1_000, seed: 12, mongoUri: testMongoUri('fuzz') });
    expect(result.errors).toEqual({});
    expect(result.unhandled).toBe(0);
    expect(result.changedByStrangers).toEqual([]);
  });
});

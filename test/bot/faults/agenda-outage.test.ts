import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler, startScheduler, stopScheduler } from '../../../src/jobs/scheduler.js';
import { waitFor } from '../../support/wait.js';
import { ControlledDatabase } from './database.js';

/**
 * Issue 12: with the database down the job scheduler logged an error on every poll (191–275 lines
 * per outage). Now: one warning when the outage starts, one info line when it ends.
 */
let dbServer: ControlledDatabase;
beforeAll(async () => {
  dbServer = await ControlledDatabase.start();
}, 90_000);
afterAll(async () => {
  await dbServer?.destroy();
}, 60_000);

describe('the job scheduler during an outage', () => {
  it('one warning per outage, one line when it is back, no error per poll', { timeout: 90_000 }, async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    const agenda = createScheduler({ mongoUri: dbServer.uri('faults_agenda'), processEveryMs: 100, logger: pino({ level: 'info' }, sink) });
    agenda.define('tick', async () => {});
    await startScheduler(agenda);
    await agenda.every('1 second', 'tick');
    try {
      await dbServer.down();
      await new Promise((r) => setTimeout(r, 8_000));
      await dbServer.up();
      await waitFor(() => (lines.some((l) => /database is back/.test(l.msg)) ? true : undefined), 30_000, 'the recovery line');
      const during = lines.filter((l) => l.level >= 40);
      expect(during.filter((l) => l.level >= 50)).toEqual([]);
      expect(during.map((l) => l.msg)).toEqual(['Job scheduler: the database is unavailable; jobs wait until it is back']);
      expect(lines.filter((l) => /database is back/.test(l.msg))).toHaveLength(1);
    } finally {
      await stopScheduler(agenda);
    }
  });
});

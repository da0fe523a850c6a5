import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../support/wait.js';
import { createFaultApp, type FaultApp } from './app.js';
import { ControlledDatabase } from './database.js';

/**
 * Issue 12: "one warning per outage in the log, not one per poll". The notification delivery
 * worker polls the outbox, renews its leadership and recovers claims every few hundred ms; with the
 * database stopped it logged "Could not read the outbox" / "Recovery failed" on every poll (6–18
 * error lines in bench:outage). Now: one warning when the outage starts, one line when it ends.
 */
let dbServer: ControlledDatabase;
let t: FaultApp;
const lines: Array<{ level: number; msg: string; component?: string }> = [];

beforeAll(async () => {
  dbServer = await ControlledDatabase.start();
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  t = await createFaultApp({ mongoUri: dbServer.uri('faults_delivery_log'), delivery: true, logger: pino({ level: 'info' }, sink) });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await dbServer?.destroy();
}, 60_000);

it('the delivery worker logs one warning per outage and one line when the database is back', { timeout: 90_000 }, async () => {
  await new Promise((r) => setTimeout(r, 1_000)); // polling normally
  const from = lines.length;
  await dbServer.down();
  try {
    await new Promise((r) => setTimeout(r, 8_000));
  } finally {
    await dbServer.up();
  }
  await waitFor(() => (lines.slice(from).some((l) => /Notification delivery: the database is back/.test(l.msg)) ? true : undefined), 30_000, 'the recovery line');
  const delivery = lines.slice(from).filter((l) => l.component === 'delivery');
  expect(delivery.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
  expect(delivery.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
    'Notification delivery: the database is unavailable; notifications wait in the outbox until it is back',
  ]);
  expect(delivery.filter((l) => /database is back/.test(l.msg))).toHaveLength(1);
});

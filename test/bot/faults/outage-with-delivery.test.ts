import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../support/wait.js';
import { createFaultApp, type FaultApp } from './app.js';
import { ControlledDatabase } from './database.js';

/**
 * Issue 12: with the delivery worker running in the same process (the default for `npm start`),
 * the bot's answers also take a slot of the token's budget shared through MongoDB
 * (src/notify/shared-budget.ts). A frozen database must not hold the "temporarily unavailable"
 * answer: it goes with this process's own slot (withoutSharedBudget). Before: it waited for the
 * database to come back (13.8 s in a 30 s freeze).
 */
const RU = '⏳ Журнал временно недоступен';

let dbServer: ControlledDatabase;
let t: FaultApp;

beforeAll(async () => {
  dbServer = await ControlledDatabase.start();
  t = await createFaultApp({ mongoUri: dbServer.uri('faults_delivery'), delivery: true });
}, 120_000);
afterAll(async () => {
  dbServer?.thaw();
  await t?.close();
  await dbServer?.destroy();
}, 60_000);

it('a frozen database: /start is answered within 5 s while the delivery worker runs', { timeout: 90_000 }, async () => {
  const warm = t.world.user({ firstName: 'Тёплый', languageCode: 'ru' });
  await warm.send('/start'); // the shared budget's slots exist, the app is warm
  expect(warm.messages().length).toBeGreaterThan(0);
  expect(t.app.delivery.budget).toBeDefined();

  const newcomer = t.world.user({ firstName: 'Новичок', languageCode: 'ru' });
  dbServer.freeze();
  try {
    const started = Date.now();
    void newcomer.send('/start');
    await waitFor(() => (newcomer.messages().length > 0 ? true : undefined), 20_000, 'an answer');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(newcomer.messages()[0]?.content).toContain(RU);
  } finally {
    dbServer.thaw();
  }
});

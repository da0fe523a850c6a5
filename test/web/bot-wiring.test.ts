/**
 * The Mini App from the chat (issue 15): with WEBAPP_URL set, the menu button opens it and a
 * teacher's /today and a family's /diary carry a web_app button (private chats only); without it,
 * nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/harness.js';
import { addSchoolYear, bindTelegram, buildJournalSchool } from '../support/journal-fixtures.js';
import type { TestUser } from '../support/users.js';

const URL_ = 'https://journal.example.org/app/';

async function world(env: Record<string, string>) {
  const t = await createTestApp({ env });
  const db = t.app.db;
  const f = await buildJournalSchool(db);
  await addSchoolYear(db, f);
  const teacher = t.world.user({ firstName: 'Анна' });
  const parent = t.world.user({ firstName: 'Мама' });
  await bindTelegram(db, f.teacherId, teacher.id);
  const p = await db.models.Person.create({
    schoolId: f.schoolId,
    externalId: 'wiring-parent',
    lastName: 'Родителева',
    firstName: 'Мама',
    roles: ['parent'],
    telegramId: parent.id,
    boundAt: new Date('2026-09-01T00:00:00Z'),
    consent: { acceptedAt: new Date('2026-09-01T00:00:00Z'), version: 1 },
  });
  await db.models.Guardianship.create({ schoolId: f.schoolId, parentId: p._id, studentId: f.class7.studentIds[0] });
  return { t, teacher, parent };
}

const webAppButtons = (u: TestUser) =>
  (u.lastMessage()?.replyMarkup?.inline_keyboard ?? []).flat().flatMap((b) => ('web_app' in b && b.web_app ? [{ text: b.text, url: b.web_app.url }] : []));

describe('the Mini App in the chat', () => {
  let on: Awaited<ReturnType<typeof world>>;
  let off: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    on = await world({ WEBAPP_URL: URL_ });
    off = await world({});
  }, 120_000);
  afterAll(async () => {
    await on?.t.close();
    await off?.t.close();
  });

  it('sets the chat menu button to open the Mini App at start', () => {
    expect(on.t.fake.menuButton()).toEqual({ type: 'web_app', text: 'Журнал', web_app: { url: URL_ } });
    expect(off.t.fake.menuButton()).toBeUndefined();
  });

  it('a teacher’s /today and a parent’s /diary offer the grid and the chart', async () => {
    await on.teacher.send('/today');
    expect(webAppButtons(on.teacher)).toEqual([{ text: '📊 Журнал', url: URL_ }]);
    await on.parent.send('/diary');
    expect(webAppButtons(on.parent)).toEqual([{ text: '📊 Журнал', url: URL_ }]);
  });

  it('without WEBAPP_URL there is no such button', async () => {
    await off.teacher.send('/today');
    expect(off.teacher.buttons().length).toBeGreaterThan(0);
    expect(webAppButtons(off.teacher)).toEqual([]);
  });
});

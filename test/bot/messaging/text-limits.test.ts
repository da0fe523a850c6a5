import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htmlLength, TELEGRAM_CAPTION_MAX, TELEGRAM_TEXT_MAX } from '../../../src/domain/shared/text-limits.js';
import { bind } from '../../notify/world.js';
import { makeSchool, type SchoolFixture } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';

/**
 * Issue 11 item 6: a text is measured as Telegram measures it (UTF-16 units, after the HTML is
 * parsed) and the limit leaves room for the header each copy carries: at the limit the copy
 * arrives whole, one character more is refused before anything is sent — never cut on the way.
 */
let t: TestApp;
let s: SchoolFixture;
let teacher: TestUser;
let mother: TestUser;
const db = () => t.app.db;
const deliver = () => t.app.delivery.runUntilIdle(20_000);

beforeAll(async () => {
  t = await createTestApp();
  s = await makeSchool(db());
  const boundAt = new Date(t.clock.now().getTime() - 86_400_000);
  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  mother = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
  await bind(db(), s.teacherAId, teacher, boundAt);
  await bind(db(), s.familyA.parentId, mother, boundAt);
});
afterAll(async () => {
  await t?.close();
});

async function startAnnouncement(): Promise<void> {
  await teacher.send('/announce');
  await teacher.press('5А');
  await teacher.press(/Всему классу/);
}

describe('announcement length at the boundary (issue 11 item 6)', () => {
  it('counts as Telegram does: HTML parsed, UTF-16 units', () => {
    expect(htmlLength('<b>a &amp; b</b>\n&lt;c&gt;')).toBe(9);
    expect(htmlLength('😀')).toBe(2);
  });

  it('one character over the limit is refused before sending, with the limit named; emoji count as two', async () => {
    await startAnnouncement();
    expect(teacher.lastText()).toContain('3800');
    await teacher.send('а'.repeat(3801));
    expect(teacher.lastText()).toContain('Объявление слишком длинное (3801 символов): не больше 3800');
    // 1901 emoji are 3802 UTF-16 units (Telegram's count), though only 1901 code points.
    await teacher.send('😀'.repeat(1901));
    expect(teacher.lastText()).toContain('Объявление слишком длинное (3802 символов): не больше 3800');
    expect(await db().models.Announcement.countDocuments({})).toBe(0);
  });

  it('at the limit the copy arrives whole, header and all, within 4096', async () => {
    const text = `${'я'.repeat(3799)}!`;
    await teacher.send(text);
    expect(teacher.lastText()).toContain('Предпросмотр');
    await teacher.press('Отправить');
    await deliver();
    const copy = mother.messages().find((m) => m.content.includes('яяя!'));
    expect(copy?.content).toContain(text);
    expect(copy?.content).toContain('Объявление: Петрова А. И., 5А');
    expect(copy?.content.endsWith('…')).toBe(false);
    expect(copy?.content.length).toBeLessThanOrEqual(TELEGRAM_TEXT_MAX);
  });

  it('a caption: 801 characters refused, 800 delivered whole under the photo', async () => {
    await startAnnouncement();
    await teacher.sendPhoto(undefined, 'б'.repeat(801));
    expect(teacher.lastText()).toContain('Объявление слишком длинное (801 символов): не больше 800');
    const caption = `${'б'.repeat(799)}!`;
    await teacher.sendPhoto(undefined, caption);
    await teacher.press('Отправить');
    await deliver();
    const photo = mother.sentPhotos().at(-1);
    expect(photo?.caption).toContain(caption);
    expect(photo?.caption?.length).toBeLessThanOrEqual(TELEGRAM_CAPTION_MAX);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../src/db/connection.js';
import { createDb, type Db } from '../../src/db/index.js';
import { runCliProcess } from '../support/cli-process.js';
import { testMongoUri } from '../support/db.js';

/** `npm run cli -- year …` as an operator runs it (a separate process against a test database): the calendar (R5, R15). */
let uri: string;
let conn: Connection;
let db: Db;
let work: string;
let school: string;

const cli = (args: string[]) => runCliProcess(uri, work, args);

beforeAll(async () => {
  uri = testMongoUri('cli_year');
  conn = await connectMongo(uri);
  db = await createDb(conn);
  work = mkdtempSync(join(tmpdir(), 'sjb-year-'));
  const created = await cli(['school', 'create', '--name', 'Школа №5', '--timezone', 'Europe/Moscow', '--json']);
  school = JSON.parse(created.stdout).id;
}, 60_000);
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

// Each test spawns several CLI processes (1–3 s each, more on a loaded machine).
const SLOW = 120_000;

describe('year: the school calendar from the command line', () => {
  it('shows the year a new school starts with: four quarters, the year, three holidays', async () => {
    const r = await cli(['year', 'show', '--school', school, '--json']);
    expect(r.code).toBe(0);
    const year = JSON.parse(r.stdout);
    expect(year.periods.map((p: { code: string }) => p.code)).toEqual(['q1', 'q2', 'q3', 'q4', 'year']);
    expect(year.holidays).toHaveLength(3);
  }, SLOW);

  it('halves for grades 10–11 and quarters for 1–9 (R15), validated as a whole and audited', async () => {
    const y = JSON.parse((await cli(['year', 'show', '--school', school, '--json'])).stdout);
    const start = Number(y.startsOn.slice(0, 4));
    for (const q of ['q1', 'q2', 'q3', 'q4']) {
      const p = y.periods.find((x: { code: string }) => x.code === q);
      const r = await cli(['year', 'period', '--school', school, '--period', q, '--from', p.startsOn, '--to', p.endsOn, '--grades', '1-9']);
      expect(r.code, r.stderr).toBe(0);
    }
    const h1 = await cli(['year', 'period', '--school', school, '--period', 'h1', '--from', `${start}-09-01`, '--to', `${start}-12-28`, '--grades', '10,11']);
    expect(h1.code, h1.stderr).toBe(0);
    expect(h1.stdout).toContain(`h1    ${start}-09-01 — ${start}-12-28 (классы 10,11)`);
    // Overlapping h1 for grade 10: refused, nothing written.
    const bad = await cli(['year', 'period', '--school', school, '--period', 'h2', '--from', `${start}-12-01`, '--to', `${start + 1}-05-31`, '--grades', '10-11']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Периоды h1 и h2 пересекаются для 10 класса');
    const outside = await cli(['year', 'period', '--school', school, '--period', 'h2', '--from', `${start + 1}-01-12`, '--to', `${start + 1}-07-31`, '--grades', '10-11']);
    expect(outside.stderr).toContain('выходит за пределы учебного года');
    const doc = await db.models.AcademicYear.findOne({ schoolId: school }).lean();
    expect(doc?.periods.map((p) => p.code).sort()).toEqual(['h1', 'q1', 'q2', 'q3', 'q4', 'year']);
    expect(await db.models.AuditEntry.countDocuments({ schoolId: school, action: 'year.calendar' })).toBe(5);
  }, SLOW);

  it('loads a calendar file all-or-nothing: a bad row is named and nothing changes', async () => {
    const y = JSON.parse((await cli(['year', 'show', '--school', school, '--json'])).stdout);
    const n = Number(y.startsOn.slice(0, 4)) + 1;
    const file = join(work, 'calendar.csv');
    writeFileSync(file, `type,code,name,starts_on,ends_on,grades\nperiod,h2,,12.01.${n},31.05.${n},10-11\nholiday,,Доп. каникулы,16.02.${n},22.02.${n},\nperiod,q9,,01.01.${n},02.01.${n},\n`);
    const bad = await cli(['year', 'load', '--school', school, '--file', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Строка 4: code:');
    writeFileSync(file, `type,code,name,starts_on,ends_on,grades\nperiod,h2,,12.01.${n},31.05.${n},10-11\nholiday,,Доп. каникулы,16.02.${n},22.02.${n},\n`);
    const ok = await cli(['year', 'load', '--school', school, '--file', file]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Изменений: 2');
    const doc = await db.models.AcademicYear.findOne({ schoolId: school }).lean();
    expect(doc?.holidays.map((h) => h.name)).toContain('Доп. каникулы');
  }, SLOW);

  it('opens the quarter mark window early (R15) and refuses a window that closes before it opens', async () => {
    const y = JSON.parse((await cli(['year', 'show', '--school', school, '--json'])).stdout);
    const q1 = y.periods.find((p: { code: string }) => p.code === 'q1');
    const r = await cli(['year', 'window', '--school', school, '--period', 'q1', '--open', '--from', q1.startsOn, '--until', q1.endsOn]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${q1.startsOn} — ${q1.endsOn}`);
    const back = await cli(['year', 'window', '--school', school, '--period', 'q1', '--open', '--from', q1.endsOn, '--until', q1.startsOn]);
    expect(back.code).toBe(1);
    expect(back.stderr).toContain('не может закрываться');
  }, SLOW);
});

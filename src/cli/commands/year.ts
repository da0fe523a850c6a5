import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Types } from 'mongoose';
import { z } from 'zod';
import type { Db } from '../../db/index.js';
import type { AcademicYear } from '../../domain/school/academic-year.js';
import type { CalendarChange } from '../../domain/school/calendar-edit.js';
import type { WindowChange } from '../../domain/school/mark-windows.js';
import type { Translate } from '../../i18n.js';
import { type Ctx, localeOf, parse, printJson, textTranslator, UsageError, validate } from '../context.js';
import { requireSchool, withDb } from '../database.js';

/**
 * `year …`: the school's calendar (R5, R15) for the operator and the admin's deputy at a terminal:
 *   year show   --school <id> [--year 2026/2027]
 *   year period --school <id> --period q2 --from 2026-11-05 --to 2026-12-28 [--grades 1-9]
 *   year remove-period --school <id> --period h1
 *   year holiday --school <id> --name "Осенние каникулы" --from … --to …   (--remove --from … deletes one)
 *   year load   --school <id> --file calendar.csv [--dry-run]
 *   year window --school <id> --period q2 [--class 5А] (--open [--from D] [--until D] | --until D | --days N | --close | --reset)
 * Every change is validated as a whole and audited; the dates are the school's local dates.
 * Other `year` subcommands (year-end) live in year-end.ts.
 */
const OPTIONS = {
  school: { type: 'string' },
  year: { type: 'string' },
  period: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  until: { type: 'string' },
  days: { type: 'string' },
  grades: { type: 'string' },
  name: { type: 'string' },
  file: { type: 'string' },
  class: { type: 'string' },
  open: { type: 'boolean' },
  close: { type: 'boolean' },
  reset: { type: 'boolean' },
  remove: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

const MINE = new Set(['show', 'period', 'remove-period', 'holiday', 'load', 'window']);

export async function yearCommand(ctx: Ctx, args: string[]): Promise<number> {
  const sub = args.find((a) => !a.startsWith('-'));
  const t = textTranslator(ctx, localeOf(ctx));
  if (!sub || args.includes('--help')) {
    ctx.io[sub || args.includes('--help') ? 'out' : 'err'](`${t('cli.help.year')}\n`);
    return args.includes('--help') ? 0 : 2;
  }
  if (!MINE.has(sub)) {
    // Year-end (close, archive, restore, outcomes) is its own file, loaded only when asked for.
    const yearEnd = './year-end.js';
    const end = (await import(yearEnd).catch(() => undefined)) as { yearEndCommand?: (c: Ctx, a: string[]) => Promise<number> } | undefined;
    if (!end?.yearEndCommand) throw new UsageError('cli.errors.unknownCommand', { command: `year ${sub}` });
    return end.yearEndCommand(ctx, args);
  }
  const { values } = parse(args, OPTIONS);
  const input = validate(z.object({ school: z.string().trim().min(1), year: z.string().optional() }).passthrough(), values);
  return withDb(ctx, async (db) => {
    const school = await requireSchool(ctx, db, input.school);
    const [{ systemActor }, years, cal, windows] = await Promise.all([
      import('../../domain/school/actor.js'),
      import('../../domain/school/academic-year.js'),
      import('../../domain/school/calendar-edit.js'),
      import('../../domain/school/mark-windows.js'),
    ]);
    const st = textTranslator(ctx, localeOf(ctx, school));
    const actor = systemActor(school._id, 'cli');
    const all = await years.activeYears(db, school._id, { archived: true });
    const year = input.year ? all.find((y) => y.name === input.year) : all.find((y) => y.status === 'active');
    if (!year) throw new UsageError('cli.errors.yearNotFound', { year: input.year ?? '' });
    const change = async (changes: CalendarChange[]) => {
      const res = await cal.editCalendar(db, actor, { yearId: year.id, changes }, ctx.now());
      return show(ctx, st, db, school._id, year.id, res.changed);
    };
    const v = values as Record<string, string | boolean | undefined>;
    switch (sub) {
      case 'show':
        return show(ctx, st, db, school._id, year.id);
      case 'period':
        return change([
          { op: 'period', code: String(v.period ?? ''), startsOn: String(v.from ?? ''), endsOn: String(v.to ?? ''), grades: grades(cal, v.grades) },
        ]);
      case 'remove-period':
        return change([{ op: 'removePeriod', code: String(v.period ?? '') }]);
      case 'holiday':
        return change([
          v.remove
            ? { op: 'removeHoliday', startsOn: String(v.from ?? '') }
            : { op: 'holiday', name: String(v.name ?? ''), startsOn: String(v.from ?? ''), endsOn: String(v.to ?? '') },
        ]);
      case 'load': {
        const rows = parseCsv(readFileSync(String(v.file ?? '')), { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Array<
          Record<string, string>
        >;
        const { changes, errors } = cal.parseCalendarRows(rows);
        if (errors.length) {
          for (const e of errors) ctx.io.err(`${st('cli.out.year.badRow', { row: e.row, message: e.message })}\n`);
          return 1;
        }
        if (v['dry-run']) {
          ctx.io.out(`${st('cli.out.year.dryRun', { n: changes.length })}\n`);
          return 0;
        }
        return change(changes);
      }
      case 'window': {
        const classId = v.class ? await classIdOf(db, school._id, String(v.class)) : undefined;
        const w = await windows.changeMarkWindow(
          db,
          actor,
          { yearId: year.id, periodCode: String(v.period ?? ''), classId, change: windowChangeOf(v) },
          ctx.now(),
        );
        if (ctx.json) printJson(ctx, w);
        else ctx.io.out(`${st('cli.out.year.window', { period: String(v.period), from: w.opensOn, to: w.closesOn })}\n`);
        return 0;
      }
    }
    return 2;
  });
}

function grades(cal: typeof import('../../domain/school/calendar-edit.js'), raw: unknown): number[] | undefined {
  if (raw === undefined) return undefined;
  const g = cal.parseGrades(String(raw));
  if (!g) throw new UsageError('cli.errors.badOption', { option: 'grades', value: String(raw) });
  return g;
}

function windowChangeOf(v: Record<string, string | boolean | undefined>): WindowChange {
  if (v.close) return { action: 'close' };
  if (v.reset) return { action: 'reset' };
  if (v.open) return { action: 'open', from: v.from as string | undefined, until: v.until as string | undefined };
  if (v.until) return { action: 'extend', until: String(v.until) };
  if (v.days) return { action: 'extendDays', days: Number(v.days) };
  throw new UsageError('cli.errors.oneOf', { options: '--open, --until, --days, --close, --reset' });
}

async function classIdOf(db: Db, schoolId: Types.ObjectId, name: string): Promise<string> {
  const cls = await db.models.SchoolClass.findOne({ schoolId, name: name.trim().toUpperCase() }, { _id: 1 }).lean();
  if (!cls) throw new UsageError('cli.errors.yearUnknownClass', { name });
  return String(cls._id);
}

async function show(ctx: Ctx, st: Translate, db: Db, schoolId: unknown, yearId: string, changed?: number): Promise<number> {
  const years = await import('../../domain/school/academic-year.js');
  const year = (await years.yearById(db, String(schoolId), yearId)) as AcademicYear;
  if (ctx.json) {
    printJson(ctx, { ...year, ...(changed !== undefined ? { changed } : {}) });
    return 0;
  }
  const lines = [st('cli.out.year.title', { name: year.name, from: year.startsOn, to: year.endsOn, status: year.status })];
  for (const p of year.periods) {
    const g = p.grades;
    const who = g?.length ? st('cli.out.year.grades', { grades: g.join(',') }) : '';
    lines.push(`  ${p.code.padEnd(5)} ${p.startsOn} — ${p.endsOn}${who ? ` ${who}` : ''}`);
  }
  for (const h of year.holidays) lines.push(`  ${st('cli.out.year.holiday', { name: h.name, from: h.startsOn, to: h.endsOn })}`);
  if (changed !== undefined) lines.push(changed ? st('cli.out.year.changed', { n: changed }) : st('cli.out.year.unchanged'));
  ctx.io.out(`${lines.join('\n')}\n`);
  return 0;
}

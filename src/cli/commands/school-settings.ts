import { z } from 'zod';
import { type Ctx, localeOf, printJson, textTranslator, validate } from '../context.js';
import { requireSchool, withDb } from '../database.js';

/** The options of `school settings` (parsed with the other `school` options). */
export const SETTINGS_OPTIONS = {
  school: { type: 'string' },
  'lock-days': { type: 'string' },
  'class-work-days': { type: 'string' },
  'written-work-days': { type: 'string' },
  'final-mark-days': { type: 'string' },
  'grace-minutes': { type: 'string' },
  'quiet-hours': { type: 'string' },
  'invite-ttl-days': { type: 'string' },
  'round-from': { type: 'string' },
  'min-marks': { type: 'string' },
  // Issue 14: the automatic reports (jobs/reports.ts), on or off.
  'weekly-reports': { type: 'string' },
  'monthly-reports': { type: 'string' },
  'period-reports': { type: 'string' },
} as const;

const onOff = z.enum(['on', 'off']).optional();

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

/** on/off options to the `reports` switches given (undefined: none given). */
function switches(given: Record<string, 'on' | 'off' | undefined>): Record<string, boolean> | undefined {
  const set = Object.entries(given).filter(([, v]) => v !== undefined);
  return set.length ? Object.fromEntries(set.map(([k, v]) => [k, v === 'on'])) : undefined;
}

/** `school settings --school <id> [--lock-days N] …`: shows the school's rules, or changes them (audited). */
export async function schoolSettings(ctx: Ctx, values: Record<string, unknown>): Promise<number> {
  const input = validate(
    z.object({
      school: z.string().trim().min(1),
      'lock-days': int(1, 60),
      'class-work-days': int(0, 30),
      'written-work-days': int(0, 30),
      'final-mark-days': int(1, 30),
      'grace-minutes': int(0, 60),
      'quiet-hours': z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/)
        .optional(),
      'invite-ttl-days': int(1, 365),
      'round-from': z.coerce.number().min(0.1).max(0.9).optional(),
      'min-marks': int(0, 20),
      'weekly-reports': onOff,
      'monthly-reports': onOff,
      'period-reports': onOff,
    }),
    values,
  );
  const [from, to] = input['quiet-hours']?.split('-') ?? [];
  const patch = Object.fromEntries(
    Object.entries({
      lockAfterDays: input['lock-days'],
      classWorkDueDays: input['class-work-days'],
      writtenWorkDueDays: input['written-work-days'],
      finalMarkWindowDays: input['final-mark-days'],
      markGraceMinutes: input['grace-minutes'],
      quietHours: from && to ? { from, to } : undefined,
      inviteTtlDays: input['invite-ttl-days'],
      assessment:
        input['round-from'] !== undefined || input['min-marks'] !== undefined
          ? Object.fromEntries(
              Object.entries({ roundFrom: input['round-from'], minMarks: input['min-marks'] }).filter(([, v]) => v !== undefined),
            )
          : undefined,
      reports: switches({ weekly: input['weekly-reports'], monthly: input['monthly-reports'], periodEnd: input['period-reports'] }),
    }).filter(([, v]) => v !== undefined),
  );
  return withDb(ctx, async (db, d) => {
    const school = await requireSchool(ctx, db, input.school);
    const { settings, changed } = await d.updateSchoolSettings(db, d.systemActor(school._id, 'cli'), patch, ctx.now());
    if (ctx.json) {
      printJson(ctx, { id: String(school._id), settings, changed });
      return 0;
    }
    const st = textTranslator(ctx, localeOf(ctx, school));
    const lines = [
      st('cli.out.settingsTitle', { name: school.name }),
      st('cli.out.settings.lockAfterDays', { n: settings.lockAfterDays }),
      st('cli.out.settings.classWorkDueDays', { n: settings.classWorkDueDays }),
      st('cli.out.settings.writtenWorkDueDays', { n: settings.writtenWorkDueDays }),
      st('cli.out.settings.finalMarkWindowDays', { n: settings.finalMarkWindowDays }),
      st('cli.out.settings.markGraceMinutes', { n: settings.markGraceMinutes }),
      st('cli.out.settings.quietHours', { from: settings.quietHours.from, to: settings.quietHours.to }),
      settings.inviteTtlDays === undefined
        ? st('cli.out.settings.inviteTtlDefault')
        : st('cli.out.settings.inviteTtlDays', { n: settings.inviteTtlDays }),
      st('cli.out.settings.assessment', settings.assessment),
      st('cli.out.settings.reports', Object.fromEntries(Object.entries(settings.reports).map(([k, v]) => [k, st(v ? 'cli.out.on' : 'cli.out.off')]))),
    ];
    if (Object.keys(patch).length > 0) lines.push(changed.length ? st('cli.out.settingsChanged', { n: changed.length }) : st('cli.out.settingsUnchanged'));
    ctx.io.out(`${lines.join('\n')}\n`);
    return 0;
  });
}

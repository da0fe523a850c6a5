import type { Hono } from 'hono';
import { z } from 'zod';
import { editCalendar } from '../../domain/school/calendar-edit.js';
import { changeMarkWindow } from '../../domain/school/mark-windows.js';
import { officeOverview } from '../../domain/school/office.js';
import { updateSchoolSettings } from '../../domain/school/rules.js';
import { listWorkKinds, updateWorkKinds } from '../../domain/school/work-kinds.js';
import { DomainError } from '../../domain/shared/errors.js';
import { periodLabel } from '../labels.js';
import type { OfficeResponse, OfficeSettingsResponse, OfficeWorkKindsResponse } from '../api-types.js';
import type { WebDeps, WebEnv } from '../context.js';
import type { Session } from '../context.js';

const id = z.string().regex(/^[0-9a-f]{24}$/i);
const periodCode = z.string().regex(/^[a-z0-9]{1,8}$/);
/** One change of the calendar the screen makes (calendar-edit.ts validates it whole). */
const calendarChange = z.object({ op: z.enum(['period', 'holiday', 'removeHoliday']) }).passthrough();
const windowRequest = z.object({ periodCode, classId: id.optional(), change: z.object({ action: z.string() }).passthrough() });

/**
 * The school office's screens (issue 15): the rules, the calendar with its period-mark windows, the
 * kinds of work — each a domain use case with its own access check and audit (rules.ts R13–R15,
 * calendar-edit.ts and mark-windows.ts R15, work-kinds.ts R12/R17). Reading: admin, deputy, secretary.
 */
export function officeRoutes(api: Hono<WebEnv>, deps: WebDeps): void {
  const { db } = deps;

  const overview = async (s: Session): Promise<OfficeResponse> => {
    const [o, workKinds] = await Promise.all([officeOverview(db, s.actor, deps.now()), listWorkKinds(db, s.actor)]);
    return {
      ...o,
      year: o.year ? { ...o.year, periods: o.year.periods.map((p) => ({ ...p, name: periodLabel(s.t, p.code) })) } : null,
      workKinds,
    };
  };

  api.get('/office', async (c) => c.json(await overview(c.get('session'))));

  api.patch('/office/settings', async (c) => {
    const { actor } = c.get('session');
    const body: OfficeSettingsResponse = await updateSchoolSettings(db, actor, await c.req.json(), deps.now());
    return c.json(body);
  });

  api.put('/office/work-kinds', async (c) => {
    const { actor } = c.get('session');
    const body: OfficeWorkKindsResponse = await updateWorkKinds(db, actor, await c.req.json(), deps.now());
    return c.json(body);
  });

  api.post('/office/calendar', async (c) => {
    const session = c.get('session');
    const change = calendarChange.parse(await c.req.json());
    const { year } = await overview(session);
    if (!year) throw new DomainError('reports.noYear');
    await editCalendar(db, session.actor, { yearId: year.id, changes: [change as never] }, deps.now());
    return c.json(await overview(session));
  });

  api.post('/office/windows', async (c) => {
    const session = c.get('session');
    const input = windowRequest.parse(await c.req.json());
    const { year } = await overview(session);
    if (!year) throw new DomainError('reports.noYear');
    await changeMarkWindow(db, session.actor, { yearId: year.id, periodCode: input.periodCode, classId: input.classId, change: input.change as never }, deps.now());
    return c.json(await overview(session));
  });
}

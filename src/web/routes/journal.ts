import type { Hono } from 'hono';
import { z } from 'zod';
import { journalGrid } from '../../domain/journal/grid.js';
import { changeMark, deleteMark, type MarkView, recordMark } from '../../domain/journal/marks.js';
import { periodLabel } from '../labels.js';
import type { DeletedResponse, GridResponse, MarkResponse } from '../api-types.js';
import type { WebDeps, WebEnv } from '../context.js';

const id = z.string().regex(/^[0-9a-f]{24}$/i);
const gridQuery = z.object({
  classId: id,
  subjectId: id,
  groupId: id.optional(),
  period: z.string().regex(/^[a-z0-9]{1,8}$/).optional(),
});
const markValue = z.number().int();
const comment = z.string().max(1000);
/** R14: the admin changing a locked lesson gives a reason (the audit keeps it). */
const reason = z.string().max(500).optional();
const markCreate = z.object({
  lessonId: id,
  studentId: id,
  value: markValue,
  workKind: z.string().min(1).max(40),
  comment: comment.optional(),
  clientKey: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  reason,
});
const markUpdate = z.object({
  value: markValue.optional(),
  workKind: z.string().min(1).max(40).optional(),
  comment: comment.nullable().optional(),
  reason,
});

const markResponse = (m: MarkView): MarkResponse => ({
  id: m.id,
  lessonId: m.lessonId,
  studentId: m.studentId,
  value: m.value,
  workKind: m.workKind,
  weight: m.weight,
  comment: m.comment ?? null,
});

/**
 * The teacher's grid and its marks (issue 15): the same use cases as the bot's buttons
 * (domain/journal/grid.ts, marks.ts), so R11–R14, the audit (R31) and the family's notice are the bot's.
 */
export function journalRoutes(api: Hono<WebEnv>, deps: WebDeps): void {
  const { db } = deps;

  api.get('/grid', async (c) => {
    const { actor, t, locale } = c.get('session');
    const g = await journalGrid(db, actor, gridQuery.parse(c.req.query()), deps.now());
    const group = g.groupName ? ` (${g.groupName})` : '';
    const body: GridResponse = {
      title: `${g.className}${group} · ${g.subjectName}`,
      period: { ...g.period, name: periodLabel(t, g.period.code) },
      periods: g.periods.map((code) => ({ code, name: periodLabel(t, code) })),
      students: g.students,
      lessons: g.lessons,
      cells: g.cells,
      periodColumn: g.periodColumn,
      periodFigures: g.periodFigures,
      workKinds: g.workKinds.map((k) => ({ code: k.code, name: k.name[locale], weight: k.weight })),
      markValues: g.markValues,
    };
    return c.json(body);
  });

  api.post('/marks', async (c) => {
    const { actor } = c.get('session');
    const input = markCreate.parse(await c.req.json());
    // The key embeds the lesson (keys are unique across schools, as the bot's are).
    const clientKey = `web:${input.lessonId}:${input.clientKey}`;
    const { mark, duplicate } = await recordMark(db, actor, { ...input, clientKey }, deps.now());
    return c.json(markResponse(mark), duplicate ? 200 : 201);
  });

  api.patch('/marks/:id', async (c) => {
    const { actor } = c.get('session');
    const markId = id.parse(c.req.param('id'));
    const input = markUpdate.parse(await c.req.json());
    return c.json(markResponse(await changeMark(db, actor, { markId, ...input }, deps.now())));
  });

  api.delete('/marks/:id', async (c) => {
    const { actor } = c.get('session');
    const markId = id.parse(c.req.param('id'));
    await deleteMark(db, actor, { markId, reason: reason.parse(c.req.query('reason')) }, deps.now());
    const body: DeletedResponse = { ok: true };
    return c.json(body);
  });
}

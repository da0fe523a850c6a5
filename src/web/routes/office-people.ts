import type { Hono } from 'hono';
import { z } from 'zod';
import { cancelSubstitution, createSubstitution, listSubstitutions, slotsOfDay } from '../../domain/journal/substitutions.js';
import { grantAccess, listActiveGrants, revokeGrant } from '../../domain/school/grants.js';
import { arriveStudent, studentsForMoves, transferStudent, withdrawStudent } from '../../domain/school/moves.js';
import { loadSchoolRules, todayOf } from '../../domain/school/rules.js';
import { isLocalDate } from '../../domain/shared/calendar.js';
import type { DeletedResponse, OfficeGrant, OfficeMoveResponse, OfficeSlot, OfficeStudent, OfficeSubstitution } from '../api-types.js';
import type { WebDeps, WebEnv } from '../context.js';

const id = z.string().regex(/^[0-9a-f]{24}$/i);
const date = z.string().refine(isLocalDate);
const grantRequest = z.object({ teacherId: id, classId: id, subjectId: id.optional(), from: date, to: date });
const moveKind = z.object({ kind: z.enum(['arrival', 'transfer', 'withdrawal']) }).passthrough();
const deleted: DeletedResponse = { ok: true };

/**
 * The office's people screens (issue 15): substitutions and a substitute's access (R7: the deputy,
 * the admin) and moving one student (R5: the secretary too). The use cases check access and audit.
 */
export function officePeopleRoutes(api: Hono<WebEnv>, deps: WebDeps): void {
  const { db } = deps;
  const today = async (schoolId: Parameters<typeof loadSchoolRules>[1]) => todayOf(await loadSchoolRules(db, schoolId), deps.now());

  api.get('/office/slots', async (c) => {
    const { actor } = c.get('session');
    const body: OfficeSlot[] = await slotsOfDay(db, actor, date.parse(c.req.query('date')));
    return c.json(body);
  });

  api.get('/office/substitutions', async (c) => {
    const { actor } = c.get('session');
    const from = date.optional().parse(c.req.query('from')) ?? (await today(actor.schoolId));
    const body: OfficeSubstitution[] = await listSubstitutions(db, actor, from);
    return c.json(body);
  });

  api.post('/office/substitutions', async (c) => {
    const { actor } = c.get('session');
    const body: OfficeSubstitution = await createSubstitution(db, actor, await c.req.json(), deps.now());
    return c.json(body, 201);
  });

  api.delete('/office/substitutions/:id', async (c) => {
    const { actor } = c.get('session');
    await cancelSubstitution(db, actor, id.parse(c.req.param('id')), deps.now());
    return c.json(deleted);
  });

  api.get('/office/grants', async (c) => {
    const { actor } = c.get('session');
    const body: OfficeGrant[] = await listActiveGrants(db, actor, await today(actor.schoolId));
    return c.json(body);
  });

  api.post('/office/grants', async (c) => {
    const { actor } = c.get('session');
    const input = grantRequest.parse(await c.req.json());
    return c.json(await grantAccess(db, actor, input, deps.now()), 201);
  });

  api.delete('/office/grants/:id', async (c) => {
    const { actor } = c.get('session');
    await revokeGrant(db, actor, id.parse(c.req.param('id')), deps.now());
    return c.json(deleted);
  });

  api.get('/office/students', async (c) => {
    const { actor } = c.get('session');
    const body: OfficeStudent[] = await studentsForMoves(db, actor, id.parse(c.req.query('classId')));
    return c.json(body);
  });

  api.post('/office/moves', async (c) => {
    const { actor } = c.get('session');
    const { kind, ...input } = moveKind.parse(await c.req.json());
    const move = kind === 'arrival' ? arriveStudent : kind === 'transfer' ? transferStudent : withdrawStudent;
    const body: OfficeMoveResponse = await move(db, actor, input, deps.now());
    return c.json(body, 201);
  });
}

/**
 * Substitutions and a substitute's access (R7: the deputy, the admin). Pick a day, then one of its
 * lessons (the timetable), the teacher who takes it and why: the substitute then has that lesson in the
 * bot and the grid. The list shows the substitutions from today on, each cancellable; below, the access
 * grants to a class's journal for some days, each revocable.
 */
import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { useApi, whenReady } from '../family/load.js';
import { formatDate, t } from '../i18n.js';
import { Select, html } from '../ui.js';
import { Input, OutcomeNotice, useAction } from './common.js';
import type { OfficeData, OfficeGrant, OfficeSlot, OfficeSubstitution } from './types.js';
import type { OfficeState } from './use-office.js';

export function SubstitutionsView(props: { office: OfficeState }) {
  return whenReady(props.office.load, (data) =>
    data.can.substitutions
      ? html`<${Substitutions} data=${data} /><${Grants} data=${data} />`
      : html`<p class="muted pad">${t('office.subs.notYours')}</p>`,
  );
}

function Substitutions(props: { data: OfficeData }) {
  const { data } = props;
  const [date, setDate] = useState(data.today);
  const [version, setVersion] = useState(0);
  const slots = useApi<OfficeSlot[]>(`/office/slots${query({ date, v: String(version) })}`);
  const list = useApi<OfficeSubstitution[]>(`/office/substitutions${query({ from: data.today, v: String(version) })}`);
  const [slotId, setSlotId] = useState('');
  const [substituteId, setSubstituteId] = useState('');
  const [reason, setReason] = useState('');
  const action = useAction();
  const refresh = () => setVersion(version + 1);
  const create = () =>
    action.run(
      () => api('/office/substitutions', { method: 'POST', body: { slotId, date, substituteId, ...(reason.trim() ? { reason: reason.trim() } : {}) } }),
      t('office.subs.created'),
      () => {
        setSlotId('');
        setReason('');
        refresh();
      },
    );
  const cancel = (id: string) => action.run(() => api(`/office/substitutions/${encodeURIComponent(id)}`, { method: 'DELETE' }), t('office.subs.cancelled'), refresh);
  const slotLabel = (s: OfficeSlot) =>
    `${s.lessonNo} · ${s.className}${s.groupName ? ` (${s.groupName})` : ''} · ${s.subjectName} · ${s.teacherName}${s.substitution ? ` → ${s.substitution.substituteName}` : ''}`;
  const slot = slots.kind === 'ready' ? slots.data.find((s) => s.slotId === slotId) : undefined;
  const teachers = data.teachers.filter((p) => p.id !== slot?.teacherId);
  return html`<section class="card" data-testid="office-subs">
    <h2 class="office-h2">${t('office.subs.title')}</h2>
    <${Input} type="date" name="date" label=${t('office.subs.date')} value=${date} onInput=${(v: string) => { setDate(v); setSlotId(''); }} />
    ${whenReady(slots, (rows) =>
      rows.length === 0
        ? html`<p class="muted">${t('office.subs.noLessons')}</p>`
        : html`<${Select} name="slot" label=${t('office.subs.lesson')} value=${slotId}
            options=${[{ value: '', label: t('office.subs.pickLesson') }, ...rows.map((s) => ({ value: s.slotId, label: slotLabel(s) }))]} onChange=${setSlotId} />`,
    )}
    ${slot
      ? html`<${Select} name="substitute" label=${t('office.subs.substitute')} value=${substituteId}
          options=${[{ value: '', label: t('office.subs.pickTeacher') }, ...teachers.map((p) => ({ value: p.id, label: p.name }))]} onChange=${setSubstituteId} />
        <${Input} name="reason" label=${t('office.subs.reason')} value=${reason} placeholder=${t('office.subs.reasonHint')} onInput=${setReason} />
        <button type="button" class="btn btn-primary btn-block" data-action="create-sub" disabled=${!substituteId || action.busy} onClick=${create}>${t('office.subs.create')}</button>`
      : null}
    <${OutcomeNotice} outcome=${action.outcome} />
    <h3 class="office-h3">${t('office.subs.upcoming')}</h3>
    ${whenReady(list, (subs) =>
      subs.length === 0
        ? html`<p class="muted">${t('office.subs.none')}</p>`
        : html`<ul class="office-list">
            ${subs.map(
              (s) => html`<li data-sub=${s.id}>
                <div><strong>${formatDate(s.date, { weekday: 'short', day: 'numeric', month: 'short' })}, ${t('office.subs.lessonNo', { n: s.lessonNo })}</strong> · ${s.className} · ${s.subjectName}</div>
                <div class="muted small">${s.teacherName} → <strong class="sub-name">${s.substituteName}</strong>${s.reason ? ` · ${s.reason}` : ''}</div>
                <button type="button" class="btn btn-small btn-danger" data-action="cancel-sub" disabled=${action.busy} onClick=${() => cancel(s.id)}>${t('office.subs.cancel')}</button>
              </li>`,
            )}
          </ul>`,
    )}
  </section>`;
}

function Grants(props: { data: OfficeData }) {
  const { data } = props;
  const [version, setVersion] = useState(0);
  const list = useApi<OfficeGrant[]>(`/office/grants${query({ v: String(version) })}`);
  const [teacherId, setTeacherId] = useState('');
  const [classId, setClassId] = useState(data.classes[0]?.id ?? '');
  const [subjectId, setSubjectId] = useState('');
  const [from, setFrom] = useState(data.today);
  const [to, setTo] = useState(data.today);
  const action = useAction();
  const refresh = () => setVersion(version + 1);
  const grant = () => action.run(() => api('/office/grants', { method: 'POST', body: { teacherId, classId, ...(subjectId ? { subjectId } : {}), from, to } }), t('office.grants.created'), refresh);
  const revoke = (id: string) => action.run(() => api(`/office/grants/${encodeURIComponent(id)}`, { method: 'DELETE' }), t('office.grants.revoked'), refresh);
  return html`<section class="card" data-testid="office-grants">
    <h2 class="office-h2">${t('office.grants.title')}</h2>
    <p class="muted small">${t('office.grants.hint')}</p>
    <${Select} name="grantTeacher" label=${t('office.grants.teacher')} value=${teacherId}
      options=${[{ value: '', label: t('office.subs.pickTeacher') }, ...data.teachers.map((p) => ({ value: p.id, label: p.name }))]} onChange=${setTeacherId} />
    <${Select} name="grantClass" label=${t('office.grants.class')} value=${classId} options=${data.classes.map((c) => ({ value: c.id, label: c.name }))} onChange=${setClassId} />
    <${Select} name="grantSubject" label=${t('office.grants.subject')} value=${subjectId}
      options=${[{ value: '', label: t('office.grants.allSubjects') }, ...data.subjects.map((x) => ({ value: x.id, label: x.name }))]} onChange=${setSubjectId} />
    <div class="form-grid">
      <${Input} type="date" name="grantFrom" label=${t('office.calendar.from')} value=${from} onInput=${setFrom} />
      <${Input} type="date" name="grantTo" label=${t('office.calendar.to')} value=${to} onInput=${setTo} />
    </div>
    <button type="button" class="btn btn-primary btn-block" data-action="grant" disabled=${!teacherId || !classId || action.busy} onClick=${grant}>${t('office.grants.create')}</button>
    <${OutcomeNotice} outcome=${action.outcome} />
    ${whenReady(list, (grants) =>
      grants.length === 0
        ? html`<p class="muted">${t('office.grants.none')}</p>`
        : html`<ul class="office-list">
            ${grants.map(
              (g) => html`<li data-grant=${g.grantId}>
                <div><strong>${g.teacherName}</strong> · ${g.className}${g.subjectName ? ` · ${g.subjectName}` : ''}</div>
                <div class="muted small">${formatDate(g.from)} – ${formatDate(g.to)}</div>
                <button type="button" class="btn btn-small btn-danger" data-action="revoke" disabled=${action.busy} onClick=${() => revoke(g.grantId)}>${t('office.grants.revoke')}</button>
              </li>`,
            )}
          </ul>`,
    )}
  </section>`;
}

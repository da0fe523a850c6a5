/**
 * Moving one student (R5: the secretary, the deputy, the admin): pick a class, then a student, then
 * transfer them to another class or withdraw them on a date (one who left may come back); or enrol a new
 * student. Marks stay with the student and the parents stay linked — the list shows how many.
 */
import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { useApi, whenReady } from '../family/load.js';
import { t } from '../i18n.js';
import { Select, html } from '../ui.js';
import { Input, OutcomeNotice, useAction } from './common.js';
import type { OfficeData, OfficeMoveResponse, OfficeStudent } from './types.js';
import type { OfficeState } from './use-office.js';

export function StudentsView(props: { office: OfficeState }) {
  return whenReady(props.office.load, (data) =>
    data.can.moves ? html`<${Students} data=${data} />` : html`<p class="muted pad">${t('office.moves.notYours')}</p>`,
  );
}

type Mode = 'transfer' | 'withdrawal' | 'return';

function Students(props: { data: OfficeData }) {
  const { data } = props;
  const [classId, setClassId] = useState(data.classes[0]?.id ?? '');
  const [version, setVersion] = useState(0);
  const list = useApi<OfficeStudent[]>(`/office/students${query({ classId, v: String(version) })}`);
  const [picked, setPicked] = useState<OfficeStudent | null>(null);
  const [mode, setMode] = useState<Mode>('transfer');
  const [toClassId, setToClassId] = useState('');
  const [date, setDate] = useState(data.today);
  const [note, setNote] = useState('');
  const action = useAction();
  const others = data.classes.filter((c) => c.id !== classId);

  const done = (r: OfficeMoveResponse) =>
    r.kind === 'transfer'
      ? t('office.moves.transferred', { name: r.name, from: r.fromClass ?? '', to: r.toClass ?? '' })
      : r.kind === 'withdrawal'
        ? t('office.moves.withdrawn', { name: r.name })
        : t('office.moves.arrived', { name: r.name, to: r.toClass ?? '' });
  const move = (body: Record<string, unknown>) =>
    action.run(
      () => api<OfficeMoveResponse>('/office/moves', { method: 'POST', body: { ...body, date, ...(note.trim() ? { note: note.trim() } : {}) } }),
      done,
      () => {
        setPicked(null);
        setNote('');
        setVersion(version + 1);
      },
    );
  const submit = () => {
    if (!picked) return;
    if (mode === 'transfer') move({ kind: 'transfer', studentId: picked.id, toClassId });
    else if (mode === 'withdrawal') move({ kind: 'withdrawal', studentId: picked.id });
    else move({ kind: 'arrival', studentId: picked.id, classId: toClassId || classId });
  };

  return html`<section class="card" data-testid="office-students">
    <h2 class="office-h2">${t('office.moves.title')}</h2>
    <${Select} name="class" label=${t('office.moves.class')} value=${classId} options=${data.classes.map((c) => ({ value: c.id, label: c.name }))}
      onChange=${(v: string) => { setClassId(v); setPicked(null); }} />
    <${OutcomeNotice} outcome=${action.outcome} />
    ${whenReady(list, (students) =>
      students.length === 0
        ? html`<p class="muted">${t('office.moves.empty')}</p>`
        : html`<ul class="student-list">
            ${students.map(
              (s) => html`<li>
                <button type="button" class=${`student-row${picked?.id === s.id ? ' picked' : ''}${s.studying ? '' : ' left'}`} data-student=${s.id}
                  onClick=${() => { setPicked(s); setMode(s.studying ? 'transfer' : 'return'); setToClassId(s.studying ? (others[0]?.id ?? '') : classId); action.clear(); }}>
                  <span class="student-name">${s.name}</span>
                  <span class="muted small">${s.studying ? (s.parents > 0 ? t('office.moves.parents', { count: s.parents }) : t('office.moves.noParents')) : t('office.moves.left')}</span>
                </button>
                ${picked?.id === s.id ? html`<div class="move-form" data-testid="move-form">
                  ${s.studying
                    ? html`<${Select} name="mode" label=${t('office.moves.action')} value=${mode}
                        options=${[{ value: 'transfer', label: t('office.moves.transfer') }, { value: 'withdrawal', label: t('office.moves.withdraw') }]} onChange=${(v: string) => setMode(v as Mode)} />`
                    : null}
                  ${mode !== 'withdrawal'
                    ? html`<${Select} name="toClass" label=${t('office.moves.toClass')} value=${toClassId}
                        options=${(mode === 'return' ? data.classes : others).map((c) => ({ value: c.id, label: c.name }))} onChange=${setToClassId} />`
                    : null}
                  <${Input} type="date" name="moveDate" label=${t('office.moves.date')} value=${date} max=${data.today} onInput=${setDate} />
                  <${Input} name="note" label=${t('office.moves.note')} value=${note} placeholder=${t('office.moves.noteHint')} onInput=${setNote} />
                  <p class="muted small">${t('office.moves.keeps')}</p>
                  <button type="button" class=${`btn btn-block ${mode === 'withdrawal' ? 'btn-danger' : 'btn-primary'}`} data-action="move" disabled=${action.busy || (mode !== 'withdrawal' && !toClassId)} onClick=${submit}>
                    ${t(`office.moves.do.${mode}`)}
                  </button>
                </div>` : null}
              </li>`,
            )}
          </ul>`,
    )}
  </section>
  <${Arrival} data=${data} classId=${classId} onDone=${() => setVersion(version + 1)} />`;
}

function Arrival(props: { data: OfficeData; classId: string; onDone: () => void }) {
  const [lastName, setLastName] = useState('');
  const [firstName, setFirstName] = useState('');
  const [middleName, setMiddleName] = useState('');
  const [date, setDate] = useState(props.data.today);
  const action = useAction();
  const className = props.data.classes.find((c) => c.id === props.classId)?.name ?? '';
  const save = () =>
    action.run(
      () => api('/office/moves', { method: 'POST', body: { kind: 'arrival', classId: props.classId, date, lastName: lastName.trim(), firstName: firstName.trim(), ...(middleName.trim() ? { middleName: middleName.trim() } : {}) } }),
      t('office.moves.arrived', { name: `${lastName.trim()} ${firstName.trim()}`, to: className }),
      () => {
        setLastName('');
        setFirstName('');
        setMiddleName('');
        props.onDone();
      },
    );
  return html`<section class="card" data-testid="office-arrival">
    <h2 class="office-h2">${t('office.moves.arrivalTitle', { name: className })}</h2>
    <${Input} name="lastName" label=${t('office.moves.lastName')} value=${lastName} onInput=${setLastName} />
    <${Input} name="firstName" label=${t('office.moves.firstName')} value=${firstName} onInput=${setFirstName} />
    <${Input} name="middleName" label=${t('office.moves.middleName')} value=${middleName} onInput=${setMiddleName} />
    <${Input} type="date" name="arrivalDate" label=${t('office.moves.date')} value=${date} max=${props.data.today} onInput=${setDate} />
    <button type="button" class="btn btn-primary btn-block" data-action="arrive" disabled=${!lastName.trim() || !firstName.trim() || action.busy} onClick=${save}>${t('office.moves.enrol')}</button>
    <${OutcomeNotice} outcome=${action.outcome} />
  </section>`;
}

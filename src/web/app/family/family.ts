/**
 * The family's screen (issue 15): pick a child, then the marks by subject over time as a chart, the
 * attendance as a month calendar, the week's homework. Access is the server's (openStudent: a parent reads
 * only their own children).
 */
import { useState } from 'preact/hooks';
import { query } from '../api.js';
import { t } from '../i18n.js';
import type { ChildMarks, Me } from '../types.js';
import { Select, Tabs, html } from '../ui.js';
import { AttendanceCalendar } from './calendar.js';
import { MarksChart } from './chart.js';
import { HomeworkList } from './homework.js';
import { useApi, whenReady } from './load.js';

type Part = 'marks' | 'attendance' | 'homework';

export function FamilyScreen(props: { me: Me }) {
  const { children } = props.me;
  const [childId, setChildId] = useState(children[0]?.id ?? '');
  const [part, setPart] = useState<Part>('marks');
  const child = children.find((c) => c.id === childId) ?? children[0]!;
  return html`<main class="screen family-screen" data-screen="family">
    <div class="toolbar">
      ${children.length > 1
        ? html`<${Select}
            name="child"
            label=${t('family.child')}
            value=${child.id}
            options=${children.map((c) => ({ value: c.id, label: `${c.name} · ${c.className}` }))}
            onChange=${setChildId}
          />`
        : html`<div class="child-name"><strong>${child.name}</strong> <span class="muted">${child.className}</span></div>`}
    </div>
    <${Tabs}
      value=${part}
      tabs=${[
        { value: 'marks' as const, label: t('family.marks') },
        { value: 'attendance' as const, label: t('family.attendance') },
        { value: 'homework' as const, label: t('family.homework') },
      ]}
      onChange=${setPart}
    />
    ${part === 'marks' ? html`<${ChildMarksView} key=${child.id} childId=${child.id} />` : null}
    ${part === 'attendance' ? html`<${AttendanceCalendar} key=${child.id} childId=${child.id} />` : null}
    ${part === 'homework' ? html`<${HomeworkList} key=${child.id} childId=${child.id} />` : null}
  </main>`;
}

function ChildMarksView(props: { childId: string }) {
  const [period, setPeriod] = useState('');
  const load = useApi<ChildMarks>(`/children/${encodeURIComponent(props.childId)}/marks${query({ period })}`);
  return whenReady(
    load,
    (data) => html`<section class="card">
      ${data.periods.length > 0
        ? html`<${Select}
            name="period"
            label=${t('family.period')}
            value=${period || data.period?.code || ''}
            options=${data.periods.map((p) => ({ value: p.code, label: p.name }))}
            onChange=${setPeriod}
          />`
        : null}
      ${data.subjects.length === 0
        ? html`<p class="muted">${t('family.noMarks')}</p>`
        : html`<${MarksChart} subjects=${data.subjects} period=${data.period} />`}
    </section>`,
  );
}

/**
 * The teacher's grid (issue 15): a class or group × subject for a period — students down (sticky first
 * column), lessons across (date; the topic on tap), marks and absences in the cells, the period column
 * (average, suggested, period mark: R16–R17). Tapping a cell opens the sheet to add/change/delete a mark;
 * the rules (R11–R14) are the server's, which calls the bot's own use cases.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, failureOf, query } from '../api.js';
import { formatDate, formatNumber, t } from '../i18n.js';
import type { Grid, GridCell, Me } from '../types.js';
import { ErrorScreen, Loading, Notice, Select, html } from '../ui.js';
import { MarkSheet } from './sheet.js';

type Load = { kind: 'loading' } | { kind: 'error'; title: string; message: string } | { kind: 'ready'; grid: Grid };

/** Ivanova Maria Petrovna → Ivanova M. P.: the sticky column stays narrow on a phone. */
export function shortName(name: string): string {
  const [last, ...rest] = name.trim().split(/\s+/);
  if (!last) return name;
  return [last, ...rest.map((part) => `${part[0]}.`)].join(' ');
}

function cellText(cell: GridCell | undefined): string {
  if (!cell) return '';
  const marks = cell.marks.map((m) => String(m.value)).join(' ');
  return [cell.absence ?? '', marks].filter(Boolean).join(' ');
}

export function GridScreen(props: { me: Me }) {
  const { teaching } = props.me;
  const [pick, setPick] = useState(0);
  const [period, setPeriod] = useState('');
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [open, setOpen] = useState<{ studentId: string; lessonId: string } | null>(null);
  const [topicOf, setTopicOf] = useState<string | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const scrolledFor = useRef('');
  const current = teaching[pick] ?? teaching[0]!;

  const fetchGrid = useCallback(
    (quiet = false) => {
      if (!quiet) setLoad({ kind: 'loading' });
      const q = query({ classId: current.classId, subjectId: current.subjectId, groupId: current.groupId, period });
      return api<Grid>(`/grid${q}`)
        .then((grid) => setLoad({ kind: 'ready', grid }))
        .catch((err: unknown) => setLoad({ kind: 'error', ...failureOf(err) }));
    },
    [current, period],
  );

  useEffect(() => {
    setOpen(null);
    setTopicOf(null);
    fetchGrid();
  }, [fetchGrid]);

  // The recent lessons are where marks are entered: open the grid scrolled to its right end, once per grid.
  useLayoutEffect(() => {
    if (load.kind !== 'ready' || !scroller.current) return;
    const key = `${pick}|${load.grid.period.code}`;
    if (scrolledFor.current === key) return;
    scrolledFor.current = key;
    scroller.current.scrollLeft = scroller.current.scrollWidth;
  }, [load, pick]);

  const grid = load.kind === 'ready' ? load.grid : null;
  // While another period loads, its switch stays where it was (the class's periods do not change).
  const knownPeriods = useRef<{ pick: number; periods: Grid['periods'] } | null>(null);
  if (grid) knownPeriods.current = { pick, periods: grid.periods.length ? grid.periods : [{ code: grid.period.code, name: grid.period.name }] };
  const periods = knownPeriods.current?.pick === pick ? knownPeriods.current.periods : [];

  return html`<main class="screen grid-screen" data-screen="grid">
    <div class="toolbar">
      <${Select}
        name="teaching"
        label=${t('grid.classSubject')}
        value=${String(pick)}
        options=${teaching.map((item, i) => ({ value: String(i), label: item.label }))}
        onChange=${(v: string) => {
          setPick(Number(v));
          setPeriod('');
        }}
      />
      ${periods.length > 0
        ? html`<${Select}
            name="period"
            label=${t('grid.period')}
            value=${period || grid?.period.code || ''}
            options=${periods.map((p) => ({ value: p.code, label: p.name }))}
            onChange=${setPeriod}
          />`
        : null}
    </div>
    ${flash ? html`<div class="toast"><${Notice} kind="ok" text=${flash} /></div>` : null}
    ${load.kind === 'loading' ? html`<${Loading} />` : null}
    ${load.kind === 'error' ? html`<${ErrorScreen} title=${load.title} message=${load.message} />` : null}
    ${grid ? html`<${GridTable} grid=${grid} scroller=${scroller} topicOf=${topicOf} onTopic=${setTopicOf} onCell=${setOpen} />` : null}
    ${grid && open
      ? html`<${MarkSheet}
          grid=${grid}
          studentId=${open.studentId}
          lessonId=${open.lessonId}
          onClose=${() => setOpen(null)}
          onSaved=${(text: string) => {
            setFlash(text);
            window.setTimeout(() => setFlash(null), 2500);
            return fetchGrid(true).then(() => setOpen(null));
          }}
        />`
      : null}
  </main>`;
}

function GridTable(props: {
  grid: Grid;
  scroller: { current: HTMLDivElement | null };
  topicOf: string | null;
  onTopic: (lessonId: string | null) => void;
  onCell: (at: { studentId: string; lessonId: string }) => void;
}) {
  const { grid } = props;
  const topicLesson = grid.lessons.find((l) => l.id === props.topicOf);
  if (grid.students.length === 0) return html`<p class="muted pad">${t('grid.noStudents')}</p>`;
  return html`
    <div class="grid-caption">
      <strong>${grid.title}</strong>
      <span class="muted"> · ${grid.period.name}${grid.period.windowOpen ? ` · ${t('grid.windowOpen')}` : ''}</span>
    </div>
    ${topicLesson
      ? html`<div class="topic-bar" role="status" onClick=${() => props.onTopic(null)}>
          <strong>${formatDate(topicLesson.date, { day: 'numeric', month: 'long', weekday: 'short' })}</strong>
          ${topicLesson.locked ? ` · ${t('grid.locked')}` : ''}
          <div>${topicLesson.topic || t('grid.noTopic')}</div>
        </div>`
      : null}
    ${grid.lessons.length === 0 ? html`<p class="muted pad">${t('grid.noLessons')}</p>` : null}
    <div class="grid-scroll" ref=${props.scroller}>
      <table class="grid" data-testid="grid">
        <thead>
          <tr>
            <th class="name-col corner">${t('grid.student')}</th>
            ${grid.lessons.map(
              (lesson) => html`<th class=${`lesson-col${lesson.locked ? ' locked' : ''}${props.topicOf === lesson.id ? ' active' : ''}`}
                scope="col" data-lesson=${lesson.id} title=${lesson.topic ?? ''}
                onClick=${() => props.onTopic(props.topicOf === lesson.id ? null : lesson.id)}>
                <span class="day">${formatDate(lesson.date, { day: 'numeric' })}</span>
                <span class="month">${formatDate(lesson.date, { month: 'short' }).replace('.', '')}</span>
              </th>`,
            )}
            ${grid.periodFigures
              ? html`<th class="period-col first" scope="col" title=${t('grid.averageLong')}>${t('grid.average')}</th>
                  <th class="period-col" scope="col" title=${t('grid.suggestedLong')}>${t('grid.suggested')}</th>
                  <th class="period-col" scope="col" title=${t('grid.periodMarkLong')}>${t('grid.periodMark')}</th>`
              : null}
          </tr>
        </thead>
        <tbody>
          ${grid.students.map((student, i) => {
            const row = grid.cells[student.id] ?? {};
            const pc = grid.periodColumn[student.id];
            return html`<tr data-student=${student.id}>
              <th class="name-col" scope="row" title=${student.name}><span class="no">${i + 1}</span>${shortName(student.name)}</th>
              ${grid.lessons.map((lesson) => {
                const cell = row[lesson.id];
                const text = cellText(cell);
                return html`<td class=${`cell${cell?.absence ? ' absent' : ''}${lesson.locked ? ' locked' : ''}`}>
                  <button type="button" data-student=${student.id} data-lesson=${lesson.id}
                    aria-label=${`${student.name}, ${formatDate(lesson.date)}${text ? `: ${text}` : ''}`}
                    onClick=${() => props.onCell({ studentId: student.id, lessonId: lesson.id })}>
                    ${cell?.absence ? html`<span class="abs">${cell.absence}</span>` : null}
                    ${(cell?.marks ?? []).map((m) => html`<span class=${`mark v${m.value}${m.weight > 1 ? ' heavy' : ''}`}>${m.value}</span>`)}
                  </button>
                </td>`;
              })}
              ${grid.periodFigures
                ? html`<td class="period-col first avg">${pc?.average == null ? '—' : formatNumber(pc.average)}</td>
                    <td class="period-col sugg">${pc?.suggested ?? '—'}</td>
                    <td class="period-col final">${pc?.periodMark ?? ''}</td>`
                : null}
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    <p class="muted legend">${t('grid.legend')}</p>`;
}

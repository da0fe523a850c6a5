/**
 * The bottom sheet of one cell: the marks already there (change / delete) and a new mark (value, kind of
 * work, comment). Save is Telegram's main button (a visible button in a plain browser). The grid changes
 * only after the server says ok; a refusal (R11–R14: value, deadline, lock) shows the server's message.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, clientKey } from '../api.js';
import { formatDate, t } from '../i18n.js';
import { haptic, setBackButton } from '../tg.js';
import type { Grid, GridMark } from '../types.js';
import { Notice, SaveButton, html } from '../ui.js';

interface Draft {
  value: string;
  workKind: string;
  comment: string;
}

export function MarkSheet(props: {
  grid: Grid;
  studentId: string;
  lessonId: string;
  onClose: () => void;
  onSaved: (text: string) => Promise<unknown>;
}) {
  const { grid } = props;
  const student = grid.students.find((s) => s.id === props.studentId);
  const lesson = grid.lessons.find((l) => l.id === props.lessonId);
  const cell = grid.cells[props.studentId]?.[props.lessonId];
  const marks = cell?.marks ?? [];
  const defaultKind = grid.workKinds[0]?.code ?? '';
  const [editing, setEditing] = useState<GridMark | null>(null);
  const [draft, setDraft] = useState<Draft>({ value: '', workKind: defaultKind, comment: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const key = useMemo(() => clientKey(), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && props.onClose();
    window.addEventListener('keydown', onKey);
    // Inside Telegram its back button (and Android's back key) closes the sheet.
    setBackButton(props.onClose);
    return () => {
      window.removeEventListener('keydown', onKey);
      setBackButton(undefined);
    };
  }, [props.onClose]);

  const kindName = (code: string) => grid.workKinds.find((k) => k.code === code)?.name ?? code;

  const run = useCallback(
    (call: () => Promise<unknown>, done: string) => {
      setBusy(true);
      setError(null);
      call()
        .then(() => {
          haptic('success');
          return props.onSaved(done);
        })
        .catch((err: unknown) => {
          haptic('error');
          setError(err instanceof ApiError ? err.message : t('errors.unknown'));
        })
        .finally(() => setBusy(false));
    },
    [props.onSaved],
  );

  const save = useCallback(() => {
    if (!draft.value || busy) return;
    const comment = draft.comment.trim();
    if (editing) {
      run(
        () =>
          api(`/marks/${encodeURIComponent(editing.id)}`, {
            method: 'PATCH',
            body: { value: Number(draft.value), workKind: draft.workKind, comment: comment || null },
          }),
        t('sheet.changed', { value: draft.value }),
      );
      return;
    }
    run(
      () =>
        api('/marks', {
          method: 'POST',
          body: {
            lessonId: props.lessonId,
            studentId: props.studentId,
            value: Number(draft.value),
            workKind: draft.workKind,
            ...(comment ? { comment } : {}),
            clientKey: key,
          },
        }),
      t('sheet.saved', { value: draft.value, name: student?.name ?? '' }),
    );
  }, [draft, editing, busy, run, key, props.lessonId, props.studentId, student]);

  const remove = (mark: GridMark) => {
    if (confirmDelete !== mark.id) return setConfirmDelete(mark.id);
    run(() => api(`/marks/${encodeURIComponent(mark.id)}`, { method: 'DELETE' }), t('sheet.deleted'));
  };

  const startEdit = (mark: GridMark) => {
    setEditing(mark);
    setConfirmDelete(null);
    setDraft({ value: String(mark.value), workKind: mark.workKind, comment: mark.comment ?? '' });
  };

  if (!student || !lesson) return null;
  const canEdit = lesson.canEdit && !lesson.locked;
  return html`<div class="sheet-backdrop" onClick=${(e: Event) => e.target === e.currentTarget && props.onClose()}>
    <section class="sheet" role="dialog" aria-modal="true" aria-label=${student.name} data-testid="mark-sheet">
      <header class="sheet-head">
        <div>
          <h2>${student.name}</h2>
          <div class="muted">${formatDate(lesson.date, { weekday: 'short', day: 'numeric', month: 'long' })}${lesson.topic ? ` · ${lesson.topic}` : ''}</div>
        </div>
        <button type="button" class="icon-btn" aria-label=${t('sheet.close')} onClick=${props.onClose}>✕</button>
      </header>
      ${cell?.absence ? html`<p class="absent-line">${t('sheet.absent', { code: cell.absence })}</p>` : null}
      ${marks.length > 0
        ? html`<ul class="mark-list">
            ${marks.map(
              (mark) => html`<li class=${editing?.id === mark.id ? 'editing' : ''}>
                <span class=${`mark big v${mark.value}`}>${mark.value}</span>
                <span class="mark-info">${kindName(mark.workKind)} · ${t('sheet.weight', { weight: mark.weight })}
                  ${mark.comment ? html`<br /><span class="muted">${mark.comment}</span>` : null}</span>
                ${canEdit
                  ? html`<span class="mark-actions">
                      <button type="button" class="btn btn-small" data-action="edit" onClick=${() => startEdit(mark)}>${t('sheet.edit')}</button>
                      <button type="button" class="btn btn-small btn-danger" data-action="delete" disabled=${busy} onClick=${() => remove(mark)}>
                        ${confirmDelete === mark.id ? t('sheet.confirmDelete') : t('sheet.delete')}
                      </button>
                    </span>`
                  : null}
              </li>`,
            )}
          </ul>`
        : null}
      ${canEdit
        ? html`<div class="mark-form">
            <div class="form-title">${editing ? t('sheet.editTitle', { value: editing.value }) : t('sheet.newTitle')}</div>
            <div class="values" role="radiogroup" aria-label=${t('sheet.value')}>
              ${grid.markValues.map(
                (v) => html`<button type="button" role="radio" aria-checked=${draft.value === String(v)} data-value=${String(v)}
                  class=${`value-btn v${v}${draft.value === String(v) ? ' chosen' : ''}`}
                  onClick=${() => setDraft({ ...draft, value: String(v) })}>${v}</button>`,
              )}
            </div>
            <label class="field">
              <span class="field-label">${t('sheet.workKind')}</span>
              <select name="workKind" value=${draft.workKind} onChange=${(e: Event) => setDraft({ ...draft, workKind: (e.currentTarget as HTMLSelectElement).value })}>
                ${grid.workKinds.map((k) => html`<option value=${k.code} selected=${k.code === draft.workKind}>${k.name} (${t('sheet.weight', { weight: k.weight })})</option>`)}
              </select>
            </label>
            <label class="field">
              <span class="field-label">${t('sheet.comment')}</span>
              <input name="comment" type="text" maxLength=${500} value=${draft.comment} placeholder=${t('sheet.commentPlaceholder')}
                onInput=${(e: Event) => setDraft({ ...draft, comment: (e.currentTarget as HTMLInputElement).value })} />
            </label>
            ${error ? html`<${Notice} kind="error" text=${error} />` : null}
            <${SaveButton} text=${editing ? t('sheet.saveChange') : t('sheet.save')} disabled=${!draft.value} busy=${busy} onSave=${save} />
            ${editing ? html`<button type="button" class="btn btn-link" onClick=${() => { setEditing(null); setDraft({ value: '', workKind: defaultKind, comment: '' }); }}>${t('sheet.cancelEdit')}</button>` : null}
          </div>`
        : html`${error ? html`<${Notice} kind="error" text=${error} />` : null}<p class="muted">${lesson.locked ? t('sheet.locked') : t('sheet.readOnly')}</p>`}
    </section>
  </div>`;
}

/**
 * The school's rules (rules.ts: R13 deadlines, R14 lock, R15 window, the grace minutes, quiet hours, R17
 * the assessment rule) and the kinds of work with their weights (work-kinds.ts). The admin changes them;
 * the deputy and the secretary read them. Only what changed is sent; the server audits it (R31).
 */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { whenReady } from '../family/load.js';
import { locale, t } from '../i18n.js';
import { SaveButton, html } from '../ui.js';
import { Input, OutcomeNotice, ReadOnlyNote, useAction } from './common.js';
import type { OfficeData, OfficeSettings, OfficeSettingsResponse, OfficeWorkKind, OfficeWorkKindsResponse } from './types.js';
import type { OfficeState } from './use-office.js';

const NUMBERS = [
  ['classWorkDueDays', 0, 30],
  ['writtenWorkDueDays', 0, 30],
  ['lockAfterDays', 1, 60],
  ['finalMarkWindowDays', 1, 30],
  ['markGraceMinutes', 0, 60],
] as const;

export function SettingsView(props: { office: OfficeState }) {
  // The forms keep their state (and the confirmation) when the data is replaced by the server's answer.
  return whenReady(props.office.load, (data) => html`<${SettingsForm} data=${data} office=${props.office} />
    <${WorkKinds} data=${data} office=${props.office} />`);
}

type Draft = Record<string, string>;

const draftOf = (s: OfficeSettings): Draft => ({
  ...Object.fromEntries(NUMBERS.map(([k]) => [k, String(s[k])])),
  quietFrom: s.quietHours.from,
  quietTo: s.quietHours.to,
  roundFrom: String(s.assessment.roundFrom),
  minMarks: String(s.assessment.minMarks),
});

/** The fields that differ from the settings as loaded, as the PATCH body. */
export function settingsPatch(before: OfficeSettings, d: Draft): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [k] of NUMBERS) if (Number(d[k]) !== before[k]) patch[k] = Number(d[k]);
  if (d.quietFrom !== before.quietHours.from || d.quietTo !== before.quietHours.to) patch.quietHours = { from: d.quietFrom, to: d.quietTo };
  const assessment: Record<string, number> = {};
  if (Number(d.roundFrom) !== before.assessment.roundFrom) assessment.roundFrom = Number(d.roundFrom);
  if (Number(d.minMarks) !== before.assessment.minMarks) assessment.minMarks = Number(d.minMarks);
  if (Object.keys(assessment).length > 0) patch.assessment = assessment;
  return patch;
}

function SettingsForm(props: { data: OfficeData; office: OfficeState }) {
  const { settings, can } = props.data;
  const [draft, setDraft] = useState<Draft>(draftOf(settings));
  const action = useAction();
  const patch = settingsPatch(settings, draft);
  const field = (key: string) => (value: string) => setDraft({ ...draft, [key]: value });
  const save = () =>
    action.run(async () => {
      const answer = await api<OfficeSettingsResponse>('/office/settings', { method: 'PATCH', body: patch });
      props.office.set({ ...props.data, settings: answer.settings });
      setDraft(draftOf(answer.settings));
    }, t('office.settings.saved'));
  return html`<section class="card" data-testid="office-settings">
    <h2 class="office-h2">${t('office.settings.title')}</h2>
    ${can.settings ? null : html`<${ReadOnlyNote} />`}
    <div class="form-grid settings-grid">
      ${NUMBERS.map(([k, min, max]) => html`<${Input} type="number" name=${k} min=${String(min)} max=${String(max)} label=${t(`office.settings.${k}`)} value=${draft[k] ?? ''} disabled=${!can.settings} onInput=${field(k)} />`)}
      <${Input} name="quietFrom" placeholder=${t('office.settings.quietHint')} label=${t('office.settings.quietFrom')} value=${draft.quietFrom ?? ''} disabled=${!can.settings} onInput=${field('quietFrom')} />
      <${Input} name="quietTo" placeholder=${t('office.settings.quietHint')} label=${t('office.settings.quietTo')} value=${draft.quietTo ?? ''} disabled=${!can.settings} onInput=${field('quietTo')} />
      <${Input} type="number" step="0.05" min="0.1" max="0.9" name="roundFrom" label=${t('office.settings.roundFrom')} value=${draft.roundFrom ?? ''} disabled=${!can.settings} onInput=${field('roundFrom')} />
      <${Input} type="number" min="0" max="20" name="minMarks" label=${t('office.settings.minMarks')} value=${draft.minMarks ?? ''} disabled=${!can.settings} onInput=${field('minMarks')} />
    </div>
    <${OutcomeNotice} outcome=${action.outcome} />
    ${can.settings ? html`<${SaveButton} text=${t('office.settings.save')} disabled=${Object.keys(patch).length === 0} busy=${action.busy} onSave=${save} />` : null}
  </section>`;
}

function WorkKinds(props: { data: OfficeData; office: OfficeState }) {
  const { can } = props.data;
  const [kinds, setKinds] = useState<OfficeWorkKind[]>(props.data.workKinds);
  const action = useAction();
  const lang = locale();
  const change = (i: number, next: Partial<OfficeWorkKind>) => setKinds(kinds.map((k, j) => (j === i ? { ...k, ...next } : k)));
  const dirty = JSON.stringify(kinds) !== JSON.stringify(props.data.workKinds);
  const save = () =>
    action.run(async () => {
      const answer = await api<OfficeWorkKindsResponse>('/office/work-kinds', { method: 'PUT', body: kinds });
      props.office.set({ ...props.data, workKinds: answer.workKinds });
      setKinds(answer.workKinds);
    }, t('office.kinds.saved'));
  return html`<section class="card" data-testid="office-kinds">
    <h2 class="office-h2">${t('office.kinds.title')}</h2>
    <p class="muted small">${t('office.kinds.hint')}</p>
    <ul class="kind-list">
      ${kinds.map(
        (k, i) => html`<li data-kind=${k.code}>
          <span class="kind-name">${k.name[lang]}${k.written ? html` <span class="badge">${t('office.kinds.written')}</span>` : null}</span>
          <label class="kind-weight"><span class="sr-only">${t('office.kinds.weight')}</span>
            <input type="number" name=${`weight-${k.code}`} step="0.25" min="0.5" max="5" value=${String(k.weight)} disabled=${!can.workKinds}
              onInput=${(e: Event) => change(i, { weight: Number((e.currentTarget as HTMLInputElement).value) })} />
          </label>
        </li>`,
      )}
    </ul>
    <${OutcomeNotice} outcome=${action.outcome} />
    ${can.workKinds ? html`<button type="button" class="btn btn-primary btn-block" data-action="save-kinds" disabled=${!dirty || action.busy} onClick=${save}>${t('office.kinds.save')}</button>` : null}
  </section>`;
}

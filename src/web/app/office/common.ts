/** Small pieces the office's screens share: a labelled input, a call with its ok/error notice, numbers. */
import { useCallback, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { formatNumber, t } from '../i18n.js';
import { haptic } from '../tg.js';
import { Notice, html } from '../ui.js';

export function Input(props: {
  label: string;
  name: string;
  value: string;
  type?: 'text' | 'date' | 'number' | 'time';
  step?: string;
  min?: string;
  max?: string;
  disabled?: boolean;
  placeholder?: string;
  onInput: (value: string) => void;
}) {
  return html`<label class="field">
    <span class="field-label">${props.label}</span>
    <input
      name=${props.name}
      type=${props.type ?? 'text'}
      value=${props.value}
      step=${props.step}
      min=${props.min}
      max=${props.max}
      disabled=${props.disabled}
      placeholder=${props.placeholder}
      onInput=${(e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value)}
    />
  </label>`;
}

export type Outcome = { kind: 'ok' | 'error'; text: string } | null;

/**
 * Runs a change against the server: busy while it runs, then the ok text (and `after`, e.g. a reload)
 * or the server's localized refusal. Nothing on the screen changes before the server says ok.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const run = useCallback(async <T>(call: () => Promise<T>, ok: string | ((answer: T) => string), after?: () => void) => {
    setBusy(true);
    setOutcome(null);
    try {
      const answer = await call();
      haptic('success');
      setOutcome({ kind: 'ok', text: typeof ok === 'string' ? ok : ok(answer) });
      after?.();
    } catch (err) {
      haptic('error');
      setOutcome({ kind: 'error', text: err instanceof ApiError ? err.message : t('errors.unknown') });
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, outcome, run, clear: () => setOutcome(null) };
}

export function OutcomeNotice(props: { outcome: Outcome }) {
  return props.outcome ? html`<${Notice} kind=${props.outcome.kind} text=${props.outcome.text} />` : null;
}

/** 87.5 → "87,5 %"; null → "—". */
export const percent = (v: number | null | undefined) => (v == null ? '—' : `${formatNumber(v, 1)} %`);
export const number = (v: number | null | undefined, digits = 2) => (v == null ? '—' : formatNumber(v, digits));

/** "Read-only for you": shown over a form this person may not change (the server refuses too). */
export function ReadOnlyNote() {
  return html`<p class="muted small office-readonly">${t('office.readOnly')}</p>`;
}

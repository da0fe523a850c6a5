/** GET /office once for the tab (the rules, the calendar, classes, teachers, what may be changed), reloadable. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, failureOf } from '../api.js';
import type { Load } from '../family/load.js';
import type { OfficeData } from './types.js';

export interface OfficeState {
  load: Load<OfficeData>;
  /** Replaces the data with a fresh answer (a change's response) or fetches it again. */
  set: (data: OfficeData) => void;
  reload: () => Promise<void>;
}

export function useOffice(enabled: boolean): OfficeState {
  const [load, setLoad] = useState<Load<OfficeData>>({ kind: 'loading' });
  const reload = useCallback(async () => {
    try {
      setLoad({ kind: 'ready', data: await api<OfficeData>('/office') });
    } catch (err) {
      setLoad({ kind: 'error', ...failureOf(err) });
    }
  }, []);
  useEffect(() => {
    if (enabled) void reload();
  }, [enabled, reload]);
  return { load, set: (data) => setLoad({ kind: 'ready', data }), reload };
}

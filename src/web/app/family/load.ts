/** Loading a screen's data from the API: the state, and the loading/error views around the screen's own. */
import { useEffect, useState } from 'preact/hooks';
import { api, failureOf } from '../api.js';
import { ErrorScreen, Loading, html } from '../ui.js';

export type Load<T> = { kind: 'loading' } | { kind: 'error'; title: string; message: string } | { kind: 'ready'; data: T };

/** Fetches `path` whenever it changes; the state a screen renders from. */
export function useApi<T>(path: string): Load<T> {
  const [load, setLoad] = useState<Load<T>>({ kind: 'loading' });
  useEffect(() => {
    let live = true;
    setLoad({ kind: 'loading' });
    api<T>(path)
      .then((data) => live && setLoad({ kind: 'ready', data }))
      .catch((err: unknown) => live && setLoad({ kind: 'error', ...failureOf(err) }));
    return () => {
      live = false;
    };
  }, [path]);
  return load;
}

/** Renders the loading and error states of `load`, or `view(data)` once it is there. */
// biome-ignore lint/suspicious/noExplicitAny: a preact vnode
export function whenReady<T>(load: Load<T>, view: (data: T) => any) {
  if (load.kind === 'loading') return html`<${Loading} />`;
  if (load.kind === 'error') return html`<${ErrorScreen} title=${load.title} message=${load.message} />`;
  return view(load.data);
}


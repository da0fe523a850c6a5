import type { Db } from './index.js';

/**
 * An in-process signal per database handle (a wake-up for a worker in this process: the outbox's
 * delivery, the notice fan-out). A listener that throws never breaks the one who signals.
 */
export function dbSignal<T = void>() {
  const listeners = new WeakMap<Db, Set<(value: T) => void>>();
  return {
    on(db: Db, listener: (value: T) => void): () => void {
      let set = listeners.get(db);
      if (!set) {
        set = new Set();
        listeners.set(db, set);
      }
      set.add(listener);
      return () => set.delete(listener);
    },
    emit(db: Db, value: T): void {
      for (const l of listeners.get(db) ?? []) {
        try {
          l(value);
        } catch {
          // the signaller goes on; a worker also polls
        }
      }
    },
  };
}

import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/bot/in-flight.js';

describe('InFlight', () => {
  it('idle() waits for handlers that are running, and resolves at once when none is', async () => {
    const tracker = new InFlight();
    await tracker.idle();
    let release: () => void = () => undefined;
    const handler = new Promise<void>((r) => {
      release = r;
    });
    const mw = tracker.middleware();
    const running = mw({} as never, () => handler);
    expect(tracker.count).toBe(1);
    let idle = false;
    const waiting = tracker.idle().then(() => {
      idle = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(idle).toBe(false);
    release();
    await running;
    await waiting;
    expect(idle).toBe(true);
    expect(tracker.count).toBe(0);
  });

  it('counts a handler that throws as finished', async () => {
    const tracker = new InFlight();
    await expect(tracker.middleware()({} as never, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(tracker.count).toBe(0);
  });
});

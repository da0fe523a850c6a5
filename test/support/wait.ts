/**
 * Waits until `check` returns a value (not undefined), polling every 50 ms, and returns it; fails
 * after `timeoutMs` naming `what`. For things that happen in the background (the outbox worker's
 * deliveries, jobs).
 */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'the expected state',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// One call to the opener, as both proxies make it: bounded by a deadline and by the application's
// connection (an AbortSignal), and never leaking a stream that arrives after we stopped waiting.
import type { Duplex } from 'node:stream';
import { beginHost } from './host.ts';
import {
  type StreamErrorCode,
  type StreamOpener,
  type StreamTarget,
  streamErrorCode,
} from './stream-opener.ts';

export type OpenOutcome =
  | { readonly ok: true; readonly stream: Duplex }
  | { readonly ok: false; readonly code: StreamErrorCode; readonly aborted: boolean };

/**
 * Opens a stream; `signal` is the application's (aborted when it goes away). After `timeoutMs` the
 * open is aborted and answered 'TIMEOUT'. A stream that arrives after we gave up is destroyed.
 */
export async function openStream(
  opener: StreamOpener,
  target: StreamTarget,
  isolationKey: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<OpenOutcome> {
  if (signal.aborted) return { ok: false, code: 'GENERAL', aborted: true };
  const ac = new AbortController();
  let timedOut = false;
  let giveUp: (() => void) | undefined;
  const stopped = new Promise<'stopped'>((resolve) => {
    giveUp = () => resolve('stopped');
  });
  const onAbort = (): void => {
    ac.abort(signal.reason);
    giveUp?.();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new DOMException('stream open timed out', 'TimeoutError'));
    giveUp?.();
  }, timeoutMs);
  let pending: Promise<Duplex>;
  try {
    // The host as BEGIN will carry it: an international name in its IDNA ASCII form.
    const begin = { host: beginHost(target.host), port: target.port };
    pending = opener.open(begin, { isolationKey, signal: ac.signal });
  } catch (err) {
    pending = Promise.reject(err);
  }
  try {
    const first = await Promise.race([pending, stopped]);
    if (first === 'stopped') {
      pending.then(
        (s) => s.destroy(),
        () => {},
      );
      return { ok: false, code: timedOut ? 'TIMEOUT' : 'GENERAL', aborted: !timedOut };
    }
    if (signal.aborted) {
      first.destroy();
      return { ok: false, code: 'GENERAL', aborted: true };
    }
    return { ok: true, stream: first };
  } catch (err) {
    return { ok: false, code: timedOut ? 'TIMEOUT' : streamErrorCode(err), aborted: signal.aborted };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

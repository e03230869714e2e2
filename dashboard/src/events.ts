// The API's server-sent event feed, read with fetch() because EventSource cannot send the bearer
// token. Each event only wakes the page to refresh; the REST answers stay the source of truth.
import { ApiCallError } from './api.ts';

export interface FeedEvent {
  readonly type: string;
  readonly data: string;
}

/**
 * Reads `path` as text/event-stream until `signal` aborts or the server ends it. Resolves false
 * when the daemon has no event feed (404), true when a feed ran and ended.
 */
export async function readEventFeed(
  path: string,
  token: string,
  signal: AbortSignal,
  onEvent: (e: FeedEvent) => void,
  onOpen: () => void = () => {},
): Promise<boolean> {
  const res = await fetch(path, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    cache: 'no-store',
    signal,
  });
  if (res.status === 404 || res.status === 501) return false;
  if (!res.ok || res.body === null) throw new ApiCallError(`HTTP_${res.status}`, res.status, res.statusText);
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let type = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return true;
    buffer += value;
    // Bounded: a feed that never sends a line break is not a feed.
    if (buffer.length > 1 << 20) throw new ApiCallError('BAD_FEED', 0, 'event feed line too long');
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      if (line === '') {
        if (data.length > 0) onEvent({ type, data: data.join('\n') });
        type = 'message';
        data = [];
      } else if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      // Comments (":keep-alive"), id: and retry: lines are not needed here.
    }
  }
}

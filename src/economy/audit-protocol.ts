// The audit protocol `/anonnet/audit/1.0.0` (docs/protocol.md, "Audits"): a validator sends one audit
// request (wire/audit-msg.ts) and closes its side; the relay answers with a status byte (0 answer
// follows, 1 no claim for that epoch, 2 refused: the requester is not a validator) and, for 0, one audit
// response, then closes. Both sides read at most the largest message the codec allows.
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import {
  type AuditRequest,
  type AuditResponse,
  decodeAuditRequest,
  decodeAuditResponse,
  encodeAuditRequest,
  encodeAuditResponse,
  MAX_AUDIT_REQUEST_BYTES,
  MAX_AUDIT_RESPONSE_BYTES,
} from '../wire/audit-msg.ts';
import { CodedError } from '../wire/coded-error.ts';

export const AUDIT_PROTOCOL = '/anonnet/audit/1.0.0';
const STATUS_ANSWER = 0;
const STATUS_NO_CLAIM = 1;
const STATUS_REFUSED = 2;
const TIMEOUT_MS = 10_000;

export type AuditFetchCode = 'TOO_LARGE' | 'MALFORMED' | 'NO_CLAIM' | 'REFUSED' | 'EMPTY';

export class AuditFetchError extends CodedError<AuditFetchCode> {
  override readonly name = 'AuditFetchError';
}

/** How the relay answers: a response, 'none' (no claim kept for that epoch) or 'refused'. */
export type AuditAnswerer = (from: PeerId, req: AuditRequest) => AuditResponse | 'none' | 'refused';

/** Serves audits of this relay's claims. */
export function serveAudits(host: Libp2p, answer: AuditAnswerer): Promise<void> {
  return host.handle(
    AUDIT_PROTOCOL,
    async (stream, connection) => {
      try {
        const bytes = await readAll(stream, MAX_AUDIT_REQUEST_BYTES, AbortSignal.timeout(TIMEOUT_MS));
        const req = decodeAuditRequest(bytes);
        if (req.kind !== 'ok') throw new AuditFetchError('MALFORMED', 'not an audit request');
        const a = answer(connection.remotePeer, req.value);
        if (a === 'none') stream.send(Uint8Array.of(STATUS_NO_CLAIM));
        else if (a === 'refused') stream.send(Uint8Array.of(STATUS_REFUSED));
        else {
          const body = encodeAuditResponse(a);
          const reply = new Uint8Array(1 + body.length);
          reply[0] = STATUS_ANSWER;
          reply.set(body, 1);
          stream.send(reply);
        }
        await stream.close({ signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (err) {
        stream.abort(err as Error);
      }
    },
    { maxInboundStreams: 4, runOnLimitedConnection: false },
  );
}

/** Asks `peer` for the audit answer to `req`. Throws AuditFetchError or the stream's error. */
export async function fetchAudit(
  host: Libp2p,
  peer: PeerId,
  req: AuditRequest,
  signal: AbortSignal,
): Promise<AuditResponse> {
  const stream = await host.dialProtocol(peer, AUDIT_PROTOCOL, { signal });
  const reply = readAll(stream, MAX_AUDIT_RESPONSE_BYTES + 1, signal);
  stream.send(encodeAuditRequest(req));
  await stream.close({ signal }).catch(() => {});
  const bytes = await reply;
  if (bytes.length === 0) throw new AuditFetchError('EMPTY', 'empty audit reply');
  if (bytes[0] === STATUS_NO_CLAIM) throw new AuditFetchError('NO_CLAIM', 'the relay keeps no such claim');
  if (bytes[0] === STATUS_REFUSED) throw new AuditFetchError('REFUSED', 'the relay refused the audit');
  const decoded = decodeAuditResponse(bytes.subarray(1));
  if (decoded.kind !== 'ok') throw new AuditFetchError('MALFORMED', 'not an audit response');
  return decoded.value;
}

/** Everything the peer sends until it closes its side, at most `max` bytes. */
function readAll(stream: Stream, max: number, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const fail = (err: Error) => {
      stream.abort(err);
      reject(err);
    };
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve(new Uint8Array(Buffer.concat(chunks)));
    };
    stream.addEventListener('message', (evt) => {
      const bytes = evt.data.subarray();
      size += bytes.length;
      if (size > max) fail(new AuditFetchError('TOO_LARGE', `more than ${max} bytes`));
      else chunks.push(new Uint8Array(bytes));
    });
    stream.addEventListener('remoteCloseWrite', done, { once: true });
    stream.addEventListener(
      'close',
      (evt) => {
        signal.removeEventListener('abort', onAbort);
        if (evt.error) reject(evt.error);
        else resolve(new Uint8Array(Buffer.concat(chunks)));
      },
      { once: true },
    );
  });
}

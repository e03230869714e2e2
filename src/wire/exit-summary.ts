// The exit-policy summary a relay registers on the ledger (REGISTER_RELAY's policy field): which ports
// its exit accepts to any address, as Tor's microdescriptor "p" line. ASCII, at most 256 bytes:
//
//   summary = ""                                   not an exit
//           | ("accept" | "reject") " " ranges     the ports accepted, or those rejected (all others accepted)
//   ranges  = range *("," range)                   strictly ascending, never touching (80,81 is "80-81")
//   range   = port | port "-" port                 1..65535, no leading zero, low < high
//
// A port counts as accepted when the first rule of the descriptor's exit policy that can match every
// address (an "any address" rule) and covers the port accepts; rules for particular networks are left
// out, so the summary says what an exit accepts to the world in general, as a hostname port check does
// (directory/verify-descriptor.ts isExitAllowed with no address). The shorter of the two forms is the
// one encoding (accept on a tie; no port at all is "reject 1-65535"), so decode then encode gives the
// same bytes back. A set whose summary would pass 256 bytes loses its last ranges until it fits: the
// ledger then says the exit takes fewer ports than it does, never more.
import { type DecodeResult, decodeError } from './decode-result.ts';
import type { ExitRule } from './descriptor-types.ts';
import { MAX_EXIT_POLICY_SUMMARY_BYTES } from './ledger-tx.ts';

/** Inclusive port ranges, ascending, never touching. */
export type PortRanges = readonly (readonly [number, number])[];

const MAX_PORT = 65535;
const ascii = new TextEncoder();

/** The ports a policy accepts to any address. */
export function acceptedPorts(policy: readonly ExitRule[]): PortRanges {
  const wildcard = policy.filter((r) => r.family === 0);
  // Every port where some rule starts or stops covering: between two of them one rule decides.
  const cuts = new Set<number>([1, MAX_PORT + 1]);
  for (const r of wildcard) {
    cuts.add(Math.max(1, r.portLow));
    cuts.add(Math.min(MAX_PORT, r.portHigh) + 1);
  }
  const points = [...cuts].filter((p) => p >= 1 && p <= MAX_PORT + 1).sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i] as number;
    const hi = (points[i + 1] as number) - 1;
    const rule = wildcard.find((r) => r.portLow <= lo && lo <= r.portHigh);
    if (rule?.action !== 'accept') continue;
    const last = out.at(-1);
    if (last !== undefined && last[1] + 1 === lo) last[1] = hi;
    else out.push([lo, hi]);
  }
  return out;
}

function complement(ranges: PortRanges): PortRanges {
  const out: [number, number][] = [];
  let next = 1;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_PORT) out.push([next, MAX_PORT]);
  return out;
}

const rangeText = ([lo, hi]: readonly [number, number]) => (lo === hi ? `${lo}` : `${lo}-${hi}`);
const formText = (word: string, ranges: PortRanges) => `${word} ${ranges.map(rangeText).join(',')}`;

/** The shorter form (accept on a tie; "reject 1-65535" for no port at all). */
function canonicalText(accepted: PortRanges): string {
  const rejected = complement(accepted);
  // Each form lists at least one range: no port accepted, or none rejected, has only one of them.
  if (accepted.length === 0) return formText('reject', rejected);
  if (rejected.length === 0) return formText('accept', accepted);
  const accept = formText('accept', accepted);
  const reject = formText('reject', rejected);
  return accept.length <= reject.length ? accept : reject;
}

/** The summary of an exit that accepts `accepted`, cut to its first ranges when it would not fit. */
export function encodeExitSummary(accepted: PortRanges): Uint8Array {
  let kept = accepted;
  while (canonicalText(kept).length > MAX_EXIT_POLICY_SUMMARY_BYTES) kept = kept.slice(0, -1);
  return ascii.encode(canonicalText(kept));
}

/** The summary of a relay's registration: empty for a relay that is not an exit. */
export function exitSummaryOf(isExit: boolean, policy: readonly ExitRule[]): Uint8Array {
  return isExit ? encodeExitSummary(acceptedPorts(policy)) : new Uint8Array(0);
}

/** The ports a summary says are accepted; undefined for the empty summary (not an exit). Never throws. */
export function decodeExitSummary(bytes: Uint8Array): DecodeResult<PortRanges | undefined> {
  if (bytes.length > MAX_EXIT_POLICY_SUMMARY_BYTES)
    return decodeError('TOO_LARGE', `summary is ${bytes.length} bytes, max ${MAX_EXIT_POLICY_SUMMARY_BYTES}`);
  if (bytes.length === 0) return { kind: 'ok', value: undefined, consumed: 0 };
  for (const b of bytes)
    if (b < 0x20 || b > 0x7e) return decodeError('BAD_FIELD', 'summary is not printable ASCII');
  const text = String.fromCharCode(...bytes);
  const m = /^(accept|reject) (.+)$/.exec(text);
  if (m === null || m[2] === undefined)
    return decodeError('BAD_FIELD', 'summary is not "accept|reject PORTS"');
  const ranges: [number, number][] = [];
  for (const part of m[2].split(',')) {
    const r = /^([1-9][0-9]{0,4})(?:-([1-9][0-9]{0,4}))?$/.exec(part);
    if (r === null || r[1] === undefined) return decodeError('BAD_FIELD', `"${part}" is not a port or range`);
    const lo = Number(r[1]);
    const hi = r[2] === undefined ? lo : Number(r[2]);
    if (hi > MAX_PORT || (r[2] !== undefined && hi <= lo))
      return decodeError('BAD_FIELD', `"${part}" is not a port range in 1..65535`);
    const prev = ranges.at(-1);
    if (prev !== undefined && lo <= prev[1] + 1)
      return decodeError('BAD_ORDER', 'ranges must ascend with gaps between them');
    ranges.push([lo, hi]);
  }
  const accepted = m[1] === 'accept' ? ranges : complement(ranges);
  if (canonicalText(accepted) !== text)
    return decodeError('BAD_FIELD', 'not the canonical summary of its ports (the shorter form)');
  return { kind: 'ok', value: accepted, consumed: bytes.length };
}

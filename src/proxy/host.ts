// Destination hosts as the proxies accept them: exactly the hosts BEGIN may carry (wire/host.ts, the
// protocol's rules: names, international ones included, and IP literals), plus the authority and port
// text of HTTP. Pure: no I/O, never resolves a name (no DNS leak: the exit resolves).
import { domainToASCII } from 'node:url';
import { type Host, parseHost, parseIPv6 } from '../wire/host.ts';

export type HostKind = Host['kind'];

/** What kind of host `text` is, or undefined if the protocol (so the proxies) refuses it. */
export function hostKind(text: string): HostKind | undefined {
  return parseHost(text)?.kind;
}

/**
 * The host a proxy puts in BEGIN for one the application named (hostKind accepted it): IP literals
 * and ASCII names as they are; an international name in its IDNA ASCII form (UTS #46, as browsers
 * send it: "bücher.example" → "xn--bcher-kva.example"), so every client spells a name alike and the
 * exit's resolver needs no IDNA. A name IDNA refuses goes as UTF-8, which the protocol allows.
 */
export function beginHost(text: string): string {
  if (/^\p{ASCII}*$/u.test(text)) return text;
  const ascii = domainToASCII(text);
  return ascii !== '' && parseHost(ascii) !== undefined ? ascii : text;
}

/** Parses `host:port` or `[ipv6]:port` (an HTTP CONNECT authority). */
export function parseAuthority(text: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    if (parseIPv6(host) === undefined) return undefined;
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    const kind = hostKind(host);
    if (kind === undefined || kind === 'ipv6') return undefined;
  }
  const port = parsePort(portText);
  return port === undefined ? undefined : { host, port };
}

/** Decimal 1..65535 without leading zeros or sign. */
export function parsePort(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

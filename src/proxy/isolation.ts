// Stream isolation keys. Credentials are never checked: they only choose the key, so two applications
// (or two browser tabs) that present different credentials never share a circuit. Every part is
// percent-encoded byte by byte, so keys are injective: user "a:b" + pass "c" ≠ user "a" + pass "b:c".

/** The key of every stream that presents no credentials. */
export const DEFAULT_ISOLATION_KEY = 'default';

const UNRESERVED = /^[A-Za-z0-9._~-]$/;

export function escapeKeyPart(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += UNRESERVED.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function socks5IsolationKey(username: Uint8Array, password: Uint8Array): string {
  return `socks5:${escapeKeyPart(username)}:${escapeKeyPart(password)}`;
}

/** An empty SOCKS4 userid is no credential at all: the default key. */
export function socks4IsolationKey(userid: Uint8Array, defaultKey: string): string {
  return userid.length === 0 ? defaultKey : `socks4:${escapeKeyPart(userid)}`;
}

export function httpIsolationKey(username: Uint8Array, password: Uint8Array): string {
  return `http:${escapeKeyPart(username)}:${escapeKeyPart(password)}`;
}

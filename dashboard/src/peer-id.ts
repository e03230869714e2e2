// An Ed25519 libp2p peer id ("12D3KooW...") is base58btc of an identity multihash of the protobuf
// public key: 00 24 | 08 01 12 20 | 32 key bytes. The ledger names accounts by that key in hex.
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const PREFIX = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];

function base58Decode(text: string): Uint8Array | undefined {
  let value = 0n;
  for (const ch of text) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) return undefined;
    value = value * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  for (const ch of text) {
    if (ch !== '1') break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

/** The Ed25519 identity key (hex) inside a peer id, or undefined for any other kind of id. */
export function identityKeyHex(peerId: string): string | undefined {
  const bytes = base58Decode(peerId);
  if (bytes === undefined || bytes.length !== PREFIX.length + 32) return undefined;
  if (PREFIX.some((b, i) => bytes[i] !== b)) return undefined;
  return [...bytes.subarray(PREFIX.length)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

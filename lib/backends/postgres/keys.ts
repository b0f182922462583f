/**
 * Names derived from the schema: the LISTEN/NOTIFY channel and the 64-bit
 * advisory-lock keys (docs/on-disk-format.md#postgres: BLAKE2b with an 8-byte digest over the
 * parts joined by `\x1f`, read as a signed big-endian integer).
 * @module
 */
/** Postgres schema used when neither the env nor `.broker.toml` names one. */
export const DEFAULT_PG_SCHEMA = "simplebroker_pg_v1";

/** `simplebroker_` + the first 24 hex digits of md5(schema). */
export function channelFor(schema: string): string {
  return `simplebroker_${new Bun.CryptoHasher("md5").update(schema, "utf8").digest("hex").slice(0, 24)}`;
}

/** The advisory-lock key of `parts` (e.g. `("aliases", schema)`), a signed 64-bit bigint. */
export function advisoryKey(...parts: string[]): bigint {
  const digest = blake2b(new TextEncoder().encode(parts.join("\x1f")), 8);
  let value = 0n;
  for (const byte of digest) value = (value << 8n) | BigInt(byte);
  return BigInt.asIntN(64, value);
}

// --- BLAKE2b (RFC 7693), unkeyed, any digest length 1..64 ---

const IV = [
  0x6a09e667f3bcc908n,
  0xbb67ae8584caa73bn,
  0x3c6ef372fe94f82bn,
  0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n,
  0x9b05688c2b3e6c1fn,
  0x1f83d9abfb41bd6bn,
  0x5be0cd19137e2179n,
];

const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/** Column and diagonal steps of one round: indexes into the work vector. */
const STEPS = [
  [0, 4, 8, 12],
  [1, 5, 9, 13],
  [2, 6, 10, 14],
  [3, 7, 11, 15],
  [0, 5, 10, 15],
  [1, 6, 11, 12],
  [2, 7, 8, 13],
  [3, 4, 9, 14],
] as const;

const rotr = (x: bigint, n: bigint): bigint => (x >> n) | (x << (64n - n));

function compress(h: BigUint64Array, block: Uint8Array, counter: bigint, last: boolean): void {
  const m = new BigUint64Array(16);
  const view = new DataView(block.buffer, block.byteOffset, 128);
  for (let i = 0; i < 16; i++) m[i] = view.getBigUint64(i * 8, true);
  const v = new BigUint64Array(16);
  v.set(h);
  v.set(IV, 8);
  v[12] = v[12]! ^ BigInt.asUintN(64, counter);
  v[13] = v[13]! ^ (counter >> 64n);
  if (last) v[14] = ~v[14]!;
  for (let round = 0; round < 12; round++) {
    const s = SIGMA[round % 10]!;
    STEPS.forEach(([a, b, c, d], k) => {
      // BigUint64Array stores wrap every sum modulo 2^64.
      v[a] = v[a]! + v[b]! + m[s[2 * k]!]!;
      v[d] = rotr(v[d]! ^ v[a]!, 32n);
      v[c] = v[c]! + v[d]!;
      v[b] = rotr(v[b]! ^ v[c]!, 24n);
      v[a] = v[a]! + v[b]! + m[s[2 * k + 1]!]!;
      v[d] = rotr(v[d]! ^ v[a]!, 16n);
      v[c] = v[c]! + v[d]!;
      v[b] = rotr(v[b]! ^ v[c]!, 63n);
    });
  }
  for (let i = 0; i < 8; i++) h[i] = h[i]! ^ v[i]! ^ v[i + 8]!;
}

/** Unkeyed BLAKE2b of `data` with an `outLen`-byte digest. */
export function blake2b(data: Uint8Array, outLen: number): Uint8Array {
  const h = BigUint64Array.from(IV);
  h[0] = h[0]! ^ BigInt(0x01010000 ^ outLen);
  const blocks = Math.max(1, Math.ceil(data.length / 128));
  for (let i = 0; i < blocks; i++) {
    const block = new Uint8Array(128);
    const chunk = data.subarray(i * 128, (i + 1) * 128);
    block.set(chunk);
    compress(h, block, BigInt(i * 128 + chunk.length), i === blocks - 1);
  }
  const out = new Uint8Array(64);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) view.setBigUint64(i * 8, h[i]!, true);
  return out.slice(0, outLen);
}

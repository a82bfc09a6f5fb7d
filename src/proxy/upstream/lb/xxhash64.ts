/**
 * XXH64, the hash Envoy's HashUtil::xxHash64 uses for ring hash and Maglev host keys and for
 * request hash policies. Matching it bit for bit keeps Weft's consistent hashing compatible with
 * Envoy's: the same key lands on the same `ip:port` when both see the same endpoints.
 * BigInt keeps it short and exact; it runs on table builds and once per hashed request.
 */
const MASK = 0xffff_ffff_ffff_ffffn;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;

function round(acc: bigint, lane: bigint): bigint {
  return mul(rotl((acc + mul(lane, P2)) & MASK, 31n), P1);
}

function mergeRound(acc: bigint, val: bigint): bigint {
  return (mul(acc ^ round(0n, val), P1) + P4) & MASK;
}

export function xxHash64(input: string | Uint8Array, seed = 0n): bigint {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.byteLength;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & MASK;
    let v2 = (seed + P2) & MASK;
    let v3 = seed & MASK;
    let v4 = (seed - P1) & MASK;
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, view.getBigUint64(i, true));
      v2 = round(v2, view.getBigUint64(i + 8, true));
      v3 = round(v3, view.getBigUint64(i + 16, true));
      v4 = round(v4, view.getBigUint64(i + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = (seed + P5) & MASK;
  }
  h = (h + BigInt(len)) & MASK;
  for (; i + 8 <= len; i += 8) {
    h = (mul(rotl(h ^ round(0n, view.getBigUint64(i, true)), 27n), P1) + P4) & MASK;
  }
  if (i + 4 <= len) {
    h = (mul(rotl(h ^ mul(BigInt(view.getUint32(i, true)), P1), 23n), P2) + P3) & MASK;
    i += 4;
  }
  for (; i < len; i++) {
    h = mul(rotl(h ^ mul(BigInt(bytes[i] ?? 0), P5), 11n), P1);
  }
  h ^= h >> 33n;
  h = mul(h, P2);
  h ^= h >> 29n;
  h = mul(h, P3);
  h ^= h >> 32n;
  return h;
}

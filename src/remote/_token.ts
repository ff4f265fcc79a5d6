/**
 * The remote layer's cryptography, all HMAC-SHA256 (WebCrypto):
 *
 * - a node token is `v1.<hub>.<node>.<expires>.<signature>`, the signature
 *   an HMAC of the body under the hub's secret; only the hub can make one;
 * - a node never sends its signature: it joins with the body and a proof
 *   (an HMAC under the signature) of a fresh message, so a token cannot be
 *   read off the wire;
 * - both sides then derive the node's session key from the signature, and
 *   every message the node sends carries its HMAC under that key; the hub
 *   hands the node its task key (sealed with a pad only the two can make),
 *   and every task and cancellation carries an HMAC under it.
 */

const encoder = new TextEncoder();

/** Why a token is refused, or `null` when it is good. */
export type TokenVerdict = "forged" | "foreign" | "expired" | "revoked";

/** A token's readable parts (its body), without its signature. */
export interface TokenBody {
  readonly text: string;
  readonly hub: string;
  readonly node: string;
  readonly expires: number;
}

/** The bytes WebCrypto takes: UTF-8 of a string, or the view (a copy of a
 * view of shared memory). */
function bytesOf(data: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof data === "string" ? encoder.encode(data) : new Uint8Array(data);
}

/** An HMAC key made of `material`. */
export function hmacKey(material: string | Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    bytesOf(material),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** The HMAC of `data` under `key`. */
export async function mac(
  key: CryptoKey,
  data: string | Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      key,
      bytesOf(data),
    ),
  );
}

/** `bytes` in base64url, unpadded. */
export function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

/** The HMAC of `data` under `key`, in base64url. */
export async function sign(
  key: CryptoKey,
  data: string | Uint8Array,
): Promise<string> {
  return base64url(await mac(key, data));
}

/** Whether `signature` is the HMAC of `data` under `key` (constant time). */
export async function verify(
  key: CryptoKey,
  data: string | Uint8Array,
  signature: string | undefined,
): Promise<boolean> {
  if (signature === undefined) return false;
  const expected = await sign(key, data);
  if (expected.length !== signature.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  }
  return diff === 0;
}

/** Makes a token for `node`, valid until `expires` (ms since the epoch). */
export async function issue(
  secret: CryptoKey,
  hub: string,
  node: string,
  expires: number,
): Promise<string> {
  const body = `v1.${hub}.${node}.${expires}`;
  return `${body}.${await sign(secret, body)}`;
}

/** Splits a token into its body and signature; `null` when malformed. */
export function splitToken(
  token: string,
): { body: TokenBody; signature: string } | null {
  const parts = typeof token === "string" ? token.split(".") : [];
  if (parts.length !== 5 || parts[0] !== "v1") return null;
  const body = parseBody(parts.slice(0, 4).join("."));
  return body === null ? null : { body, signature: parts[4] };
}

/** Reads a token body `v1.<hub>.<node>.<expires>`; `null` when malformed. */
export function parseBody(text: string): TokenBody | null {
  const parts = typeof text === "string" ? text.split(".") : [];
  if (parts.length !== 4 || parts[0] !== "v1") return null;
  const expires = Number(parts[3]);
  if (!Number.isFinite(expires)) return null;
  return { text, hub: parts[1], node: parts[2], expires };
}

/** The key a token's holder proves itself with: its signature. */
export function holderKey(signature: string): Promise<CryptoKey> {
  return hmacKey(`holder.${signature}`);
}

/** The session key of a node instance, from its holder key. */
export async function sessionKey(
  holder: CryptoKey,
  instance: string,
): Promise<CryptoKey> {
  return await hmacKey(await mac(holder, `session.${instance}`));
}

/** `a` XOR `b` (same length): seals the task key for one instance. */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

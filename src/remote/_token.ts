/**
 * The remote layer's cryptography, HMAC-SHA256 and Ed25519 (`node:crypto`,
 * which runs synchronously: about 2.5 times cheaper here than WebCrypto's
 * asynchronous `subtle.sign` for the short messages hubs and nodes send):
 *
 * - a node token is `v1.<hub>.<node>.<expires>.<signature>`, the signature
 *   an HMAC of the body under the hub's secret; only the hub can make one;
 * - a node never sends its signature: it joins with the body and a proof
 *   (an HMAC under the signature) of a fresh message, so a token cannot be
 *   read off the wire;
 * - both sides then derive the node's session key from the signature, and
 *   every message the node sends carries its HMAC under that key (and every
 *   answer the hub sends it);
 * - every task and cancellation carries the hub's Ed25519 signature, whose
 *   public key nodes get at the join: a node can check tasks, not make them.
 */

import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as signEd25519,
  timingSafeEqual,
  verify as verifyEd25519,
} from "node:crypto";
import { Buffer } from "node:buffer";

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

/** An HMAC-SHA256 key: its raw bytes. */
export type HmacKey = Uint8Array;

/** An HMAC key made of `material`. */
export function hmacKey(material: string | Uint8Array): HmacKey {
  return typeof material === "string" ? encoder.encode(material) : material;
}

/** The HMAC of `data` under `key`. */
export function mac(key: HmacKey, data: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}

/** `bytes` in base64url, unpadded. */
export function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

/** The HMAC of `data` under `key`, in base64url. */
export function sign(key: HmacKey, data: string | Uint8Array): string {
  return base64url(mac(key, data));
}

/** Whether `signature` is the HMAC of `data` under `key` (constant time). */
export function verify(
  key: HmacKey,
  data: string | Uint8Array,
  signature: string | undefined,
): boolean {
  if (signature === undefined) return false;
  const expected = encoder.encode(sign(key, data));
  const given = encoder.encode(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Makes a token for `node`, valid until `expires` (ms since the epoch). */
export function issue(
  secret: HmacKey,
  hub: string,
  node: string,
  expires: number,
): string {
  const body = `v1.${hub}.${node}.${expires}`;
  return `${body}.${sign(secret, body)}`;
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
export function holderKey(signature: string): HmacKey {
  return hmacKey(`holder.${signature}`);
}

/** The session key of a node instance, from its holder key. */
export function sessionKey(holder: HmacKey, instance: string): HmacKey {
  return mac(holder, `session.${instance}`);
}

/** The DER prefix of a PKCS #8 Ed25519 private key, before its 32-byte seed. */
const PKCS8_ED25519 = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
);

/** The hub's task signing keys: nodes can check, not make, its signatures. */
export interface TaskKeys {
  readonly signer: KeyObject;
  /** The public key, as SPKI DER bytes, handed to nodes at the join. */
  readonly public: Uint8Array;
}

/** The Ed25519 keys of a 32-byte seed (derived from the hub's secret). */
export function taskKeys(seed: Uint8Array): TaskKeys {
  const der = new Uint8Array(PKCS8_ED25519.length + 32);
  der.set(PKCS8_ED25519);
  der.set(seed.subarray(0, 32), PKCS8_ED25519.length);
  const signer = createPrivateKey({
    key: Buffer.from(der),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(signer).export({ format: "der", type: "spki" });
  return { signer, public: new Uint8Array(spki) };
}

/** A public key from its SPKI DER bytes; `null` when they are not one. */
export function taskVerifier(spki: Uint8Array): KeyObject | null {
  try {
    return createPublicKey({
      key: Buffer.from(spki),
      format: "der",
      type: "spki",
    });
  } catch {
    return null;
  }
}

/** The Ed25519 signature of `data`, in base64url. */
export function signTask(signer: KeyObject, data: Uint8Array): string {
  return base64url(new Uint8Array(signEd25519(null, data, signer)));
}

/** Whether `signature` is the hub's Ed25519 signature of `data`. */
export function verifyTask(
  verifier: KeyObject,
  data: Uint8Array,
  signature: string | undefined,
): boolean {
  if (signature === undefined) return false;
  try {
    const bytes = Uint8Array.from(
      atob(signature.replaceAll("-", "+").replaceAll("_", "/")),
      (c) => c.charCodeAt(0),
    );
    return verifyEd25519(null, data, verifier, bytes);
  } catch {
    return false;
  }
}

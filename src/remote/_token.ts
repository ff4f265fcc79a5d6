/**
 * Node tokens: `v1.<hub>.<node>.<expires>.<signature>`, the signature an
 * HMAC-SHA256 of the rest under the hub's secret. Only the hub can make
 * one; it checks every join and every platform call against its secret,
 * expiry and revocations.
 */

const encoder = new TextEncoder();

/** Why a token is refused, or `null` when it is good. */
export type TokenVerdict = "forged" | "foreign" | "expired" | "revoked";

/** The HMAC key of a secret. */
export function keyOf(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** A signature of `text`, base64url. */
export async function sign(key: CryptoKey, text: string): Promise<string> {
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(text)),
  );
  return btoa(String.fromCharCode(...mac)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

/** Makes a token for `node`, valid until `expires` (ms since the epoch). */
export async function issue(
  key: CryptoKey,
  hub: string,
  node: string,
  expires: number,
): Promise<string> {
  const body = `v1.${hub}.${node}.${expires}`;
  return `${body}.${await sign(key, body)}`;
}

/** The node a well-formed token names, or `null`. */
export function nodeOf(token: string): string | null {
  const parts = token.split(".");
  return parts.length === 5 && parts[0] === "v1" ? parts[2] : null;
}

/** Checks a token against hub `hub`'s key; `null` when it is good. */
export async function check(
  key: CryptoKey,
  hub: string,
  token: string,
  revoked: ReadonlySet<string>,
  now: number,
): Promise<TokenVerdict | null> {
  const parts = token.split(".");
  if (parts.length !== 5 || parts[0] !== "v1") return "forged";
  const [, tokenHub, node, expires] = parts;
  if (tokenHub !== hub) return "foreign";
  const body = parts.slice(0, 4).join(".");
  // Compared in constant time by signing again and comparing MACs.
  const expected = await sign(key, body);
  if (!equal(expected, parts[4])) return "forged";
  if (!(Number(expires) > now)) return "expired";
  if (revoked.has(node)) return "revoked";
  return null;
}

function equal(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

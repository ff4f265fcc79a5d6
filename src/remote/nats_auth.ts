/**
 * How a hub or node proves itself to the NATS server, for servers with
 * authorization (accounts and subject permissions, the access control to
 * use when other parties share the server) and TLS. Pass one of `user` and
 * `pass`, `token`, or `creds`.
 *
 * @example A node with a credentials file and TLS
 * ```ts
 * import type { NatsAuth } from "@isolates/isolates/nats";
 * import assert from "node:assert/strict";
 *
 * const auth: NatsAuth = {
 *   creds: "-----BEGIN NATS USER JWT-----\n…",
 *   tls: { caFile: "/etc/nats/ca.pem" },
 * };
 * assert.ok(auth.tls?.caFile?.endsWith(".pem"));
 * ```
 */
export interface NatsAuth {
  /** A user name (with `pass`). */
  user?: string;
  /** The user's password. */
  pass?: string;
  /** A NATS server token (not a hub's node token). */
  token?: string;
  /** The contents of a NATS `.creds` file (user JWT and NKey seed). */
  creds?: string;
  /** TLS to the server: CA, client certificate and key, as file paths. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

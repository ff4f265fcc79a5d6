import type { NatsConnection } from "nats";
import type {
  BinaryMessenger,
  MessageHandler,
} from "../channels/binary_messenger.ts";
import {
  decodeRemote,
  encodeRemote,
  isSealed,
  sealed,
  type Sender,
} from "./_wire.ts";
import type { HmacKey } from "./_token.ts";
import { RemoteNodeError } from "./remote_node_error.ts";

/**
 * A node's messenger to its hub's root: each message is a NATS request
 * sealed with the node's session key, answered (sealed with the same key)
 * by the platform handler the hub's root registered on that channel: the
 * proxy pattern, over the network.
 */
export class HubMessenger implements BinaryMessenger {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #session: { readonly from: Sender; readonly key: HmacKey };
  readonly #hub: string;
  readonly #timeout: number;
  #calls = 0;

  constructor(
    nc: NatsConnection,
    subject: string,
    session: { readonly from: Sender; readonly key: HmacKey },
    hub: string,
    timeout: number,
  ) {
    this.#nc = nc;
    this.#subject = subject;
    this.#session = session;
    this.#hub = hub;
    this.#timeout = timeout;
  }

  async send(
    channel: string,
    message: Uint8Array | null,
  ): Promise<Uint8Array | null> {
    const id = ++this.#calls;
    const bytes = encodeRemote({
      kind: "call",
      id,
      at: Date.now(),
      channel,
      payload: message,
    });
    const { from, key } = this.#session;
    let reply;
    try {
      reply = await this.#nc.request(this.#subject, bytes, {
        timeout: this.#timeout,
        headers: sealed(key, bytes, { from }),
      });
    } catch (error) {
      throw new RemoteNodeError(
        "remote_unavailable",
        `Cannot call channel "${channel}" on hub "${this.#hub}": the hub did not answer (${
          error instanceof Error ? error.message : String(error)
        }); check that the hub's transport is open`,
        null,
        error,
      );
    }
    const answer = isSealed(key, reply.data, reply.headers)
      ? decodeRemote(reply.data)
      : null;
    // Sealed by the hub, and the answer to this call (not a replayed one).
    if (answer?.kind === "reply" && answer.id === id) return answer.payload;
    if (answer?.kind === "refusedCall" && answer.id === id) {
      // A channel the hub does not serve is a channel nothing handles.
      if (answer.code === "channel") return null;
      throw new RemoteNodeError(
        "remote_auth",
        answer.message,
        answer.code as "forged" | "foreign" | "expired" | "revoked",
      );
    }
    throw new RemoteNodeError(
      "remote_auth",
      `Cannot call channel "${channel}" on hub "${this.#hub}": the answer is not the hub's answer to this call; check that nothing else listens on the hub's subjects`,
    );
  }

  setMessageHandler(channel: string, _handler: MessageHandler | null): void {
    throw new TypeError(
      `Cannot set a handler for "${channel}" on the hub's messenger: it only sends calls to the hub's root; set handlers with the default messenger`,
    );
  }
}

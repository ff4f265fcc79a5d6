/**
 * Encoded messages a channel made itself (a call, a reply envelope), which
 * nobody else holds: those of 64 KiB or more are transferred to the other
 * isolate instead of copied. A transfer of a small buffer costs more than
 * copying it, and bytes a caller passed in are never taken from them.
 */
const owned = new WeakSet<Uint8Array>();

/** From this size, an owned message is transferred. */
const TRANSFER_FROM = 64 * 1024;

/** Marks bytes a channel encoded itself; returns them. */
export function markOwned<T extends Uint8Array | null>(bytes: T): T {
  // A view from the start of its buffer (a large encoded message keeps the
  // write buffer's spare capacity after it): the whole buffer moves.
  if (
    bytes !== null && bytes.byteLength >= TRANSFER_FROM &&
    bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer
  ) owned.add(bytes);
  return bytes;
}

/**
 * The transfer list for a message about to leave this isolate: its buffer
 * when the channel owns it (once), else nothing.
 */
export function transferOf(
  bytes: Uint8Array | null,
): Transferable[] | undefined {
  return bytes !== null && owned.delete(bytes)
    ? [bytes.buffer as ArrayBuffer]
    : undefined;
}

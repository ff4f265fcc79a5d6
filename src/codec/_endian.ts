/**
 * Whether this process stores multi-byte numbers little-endian. Flutter writes
 * in host order and every platform it ships on is little-endian, so the wire
 * format is little-endian in practice; typed lists are copied as raw bytes only
 * when the host agrees, and element by element otherwise.
 */
export const hostIsLittleEndian: boolean =
  new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

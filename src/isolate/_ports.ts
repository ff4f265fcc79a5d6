/**
 * The link between ports and the isolate runtime, kept in a module of its
 * own so that ports do not import the runtime (which imports them). The
 * runtime fills in `portHooks` when it loads.
 */
export const portHooks: {
  /** The id of this isolate. */
  isolateId: () => string;
  /** Sends a message to a port of some isolate. */
  send: (isolate: string, port: number, message: unknown) => void;
  /** Keeps this isolate alive while a port is open. */
  retain: () => void;
  /** Releases what `retain` took. */
  release: () => void;
} = {
  isolateId: () => "0",
  send: () => {
    throw new Error("Cannot send to a port: the isolate runtime is not loaded");
  },
  retain: () => {},
  release: () => {},
};

/** The open ReceivePorts of this isolate, by port number. */
export const openPorts: Map<number, (message: unknown) => void> = new Map();

/**
 * A random 52-bit port number: a SendPort is a capability, so its number must
 * not be guessable from another port's (Dart's cannot be forged either).
 */
function randomPort(): number {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return (high & 0xfffff) * 0x100000000 + low;
}

/** Opens a port; returns its number. */
export function openPort(deliver: (message: unknown) => void): number {
  let port = randomPort();
  while (openPorts.has(port) || port === 0) port = randomPort();
  openPorts.set(port, deliver);
  portHooks.retain();
  return port;
}

/** Closes a port opened by {@linkcode openPort}. */
export function closePort(port: number): void {
  if (openPorts.delete(port)) portHooks.release();
}

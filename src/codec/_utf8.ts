import { FormatException } from "./format_exception.ts";

/** Encodes text as UTF-8; lone surrogates become U+FFFD, as in Dart. */
export const utf8Encoder: TextEncoder = new TextEncoder();

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes strict UTF-8 (a leading byte order mark is dropped, as Dart's
 * decoder does), turning malformed input into a {@linkcode FormatException}.
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (error) {
    throw new FormatException(
      `Cannot decode ${what}: the ${bytes.length} bytes are not valid UTF-8`,
      null,
      { cause: error },
    );
  }
}

/**
 * The number of bytes the UTF-8 encoding of `value` takes, counting a lone
 * surrogate as the 3 bytes of U+FFFD (what `TextEncoder` and Dart write).
 * Units before `from` are known to be ASCII.
 */
export function utf8Length(value: string, from = 0): number {
  let length = from;
  const end = value.length;
  for (let i = from; i < end; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (
      unit >= 0xd800 && unit <= 0xdbff && i + 1 < end &&
      (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

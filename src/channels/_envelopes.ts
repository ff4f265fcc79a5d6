import type { MethodCodec } from "../codec/method_codec.ts";
import { MissingPluginException } from "../codec/missing_plugin_exception.ts";
import { PlatformException } from "../codec/platform_exception.ts";
import { markOwned } from "./_owned_bytes.ts";

/**
 * The reply to a method call whose handler threw, by Flutter's rules: a
 * `PlatformException` is sent as its error envelope, a
 * `MissingPluginException` as no reply (`null`), anything else as an error
 * envelope with code `"error"` and the error's text.
 */
export function encodeFailure(
  codec: MethodCodec,
  error: unknown,
): Uint8Array | null {
  if (error instanceof PlatformException) {
    return markOwned(codec.encodeErrorEnvelope({
      code: error.code,
      message: error.message,
      details: error.details,
    }));
  }
  if (error instanceof MissingPluginException) return null;
  return codec.encodeErrorEnvelope({
    code: "error",
    message: describeError(error),
    details: null,
  });
}

/** The reply to a method call that returned: a success envelope, or the
 * failure of a result the codec cannot encode. */
export function encodeSuccess(
  codec: MethodCodec,
  result: unknown,
): Uint8Array | null {
  try {
    return markOwned(codec.encodeSuccessEnvelope(result));
  } catch (error) {
    return encodeFailure(codec, error);
  }
}

/** `String(error)`, even for values whose conversion throws. */
function describeError(error: unknown): string {
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/**
 * Encodes a platform-channel method call and its replies with Flutter's
 * StandardMethodCodec, prints the exact bytes, and decodes them back.
 *
 * Run: `deno task demo` (or `deno run examples/codec_roundtrip.ts`).
 */
import {
  Double,
  MethodCall,
  PlatformException,
  StandardMethodCodec,
} from "../mod.ts";

const codec = new StandardMethodCodec();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

const call = new MethodCall("setDouble", {
  key: "ratio",
  value: new Double(1),
});
const callBytes = codec.encodeMethodCall(call);
console.log(`call     ${call}`);
console.log(`  bytes  ${hex(callBytes)}`);
const decoded = codec.decodeMethodCall(callBytes);
console.log(
  `  back   ${decoded.method}(${
    [...(decoded.arguments as Map<string, unknown>)].map(([k, v]) =>
      `${k}: ${v}`
    ).join(", ")
  })`,
);

const success = codec.encodeSuccessEnvelope(true);
console.log(`success  ${hex(success)} -> ${codec.decodeEnvelope(success)}`);

const failure = codec.encodeErrorEnvelope({
  code: "UNAVAILABLE",
  message: "Storage is read-only",
  details: null,
});
console.log(`error    ${hex(failure)}`);
try {
  codec.decodeEnvelope(failure);
} catch (error) {
  if (!(error instanceof PlatformException)) throw error;
  console.log(`  throws ${error}`);
}

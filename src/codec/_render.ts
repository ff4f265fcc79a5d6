import { Double } from "./double.ts";

/**
 * Renders a decoded value the way Dart's `toString()` would show it, for the
 * `toString()` of `MethodCall` and `PlatformException`: strings unquoted,
 * lists in brackets, maps as `{key: value}`, doubles with a fraction.
 */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof Double) return renderDouble(value.value);
  if (value instanceof Float64Array || value instanceof Float32Array) {
    return `[${Array.from(value, renderDouble).join(", ")}]`;
  }
  if (Array.isArray(value)) return `[${value.map(renderValue).join(", ")}]`;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return `[${
      Array.from(value as unknown as ArrayLike<unknown>, renderValue).join(", ")
    }]`;
  }
  if (value instanceof Map) {
    return `{${
      Array.from(value, ([k, v]) => `${renderValue(k)}: ${renderValue(v)}`)
        .join(", ")
    }}`;
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      return `{${
        Object.entries(value).map(([k, v]) => `${k}: ${renderValue(v)}`)
          .join(", ")
      }}`;
    }
  }
  return String(value);
}

/** Dart's `double.toString()`: integral values keep a `.0` below 1e21. */
function renderDouble(value: number): string {
  if (Object.is(value, -0)) return "-0.0";
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return `${value}.0`;
  return String(value);
}

import { Double } from "./double.ts";

/**
 * Renders a decoded value the way Dart's `toString()` would show it, for the
 * `toString()` of `MethodCall` and `PlatformException`: strings unquoted,
 * lists in brackets, maps as `{key: value}`, doubles with a fraction.
 */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof Double) {
    return Number.isInteger(value.value)
      ? `${value.value}.0`
      : `${value.value}`;
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

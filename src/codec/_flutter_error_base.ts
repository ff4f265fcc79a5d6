/**
 * `Error`, typed without its `message` property. Flutter's exceptions have a
 * nullable `message`, which a class extending `Error` directly could not
 * declare; extending this keeps `instanceof Error`, a stack trace and `cause`
 * while letting the subclass type `message` as `string | null`.
 */
export const FlutterErrorBase: new (
  message?: string,
  options?: { cause?: unknown },
) => { name: string; stack?: string; cause?: unknown } = Error;

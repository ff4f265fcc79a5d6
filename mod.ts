/**
 * `isolates`: Flutter's background-isolate model for Deno.
 *
 * This module provides Flutter's platform-channel message codecs, byte for
 * byte: {@linkcode StandardMessageCodec}, {@linkcode StandardMethodCodec},
 * the JSON, string and binary codecs, and Flutter's exceptions.
 *
 * @example
 * ```ts
 * import { MethodCall, StandardMethodCodec } from "@isolates/isolates";
 * import assert from "node:assert/strict";
 *
 * const codec = new StandardMethodCodec();
 * const bytes = codec.encodeMethodCall(new MethodCall("getInt", "counter"));
 * assert.equal(codec.decodeMethodCall(bytes).arguments, "counter");
 * ```
 *
 * @module
 */
export {
  IsolatesError,
  type IsolatesErrorCode,
  type IsolatesErrorOptions,
} from "./src/errors/isolates_error.ts";
export { FormatException } from "./src/codec/format_exception.ts";
export { UnsupportedValueError } from "./src/codec/unsupported_value_error.ts";
export {
  PlatformException,
  type PlatformExceptionInit,
} from "./src/codec/platform_exception.ts";
export { MissingPluginException } from "./src/codec/missing_plugin_exception.ts";
export {
  WriteBuffer,
  type WriteBufferOptions,
} from "./src/codec/write_buffer.ts";
export { ReadBuffer } from "./src/codec/read_buffer.ts";
export type { MessageCodec } from "./src/codec/message_codec.ts";
export type { ErrorEnvelope, MethodCodec } from "./src/codec/method_codec.ts";
export { MethodCall } from "./src/codec/method_call.ts";
export { Double } from "./src/codec/double.ts";
export { StandardMessageCodec } from "./src/codec/standard_message_codec.ts";
export { StandardMethodCodec } from "./src/codec/standard_method_codec.ts";
export { JSONMessageCodec } from "./src/codec/json_message_codec.ts";
export { JSONMethodCodec } from "./src/codec/json_method_codec.ts";
export { StringCodec } from "./src/codec/string_codec.ts";
export { BinaryCodec } from "./src/codec/binary_codec.ts";
export type {
  BinaryMessenger,
  MessageContext,
  MessageHandler,
} from "./src/channels/binary_messenger.ts";
export type { EventMessenger } from "./src/channels/event_messenger.ts";
export {
  type MethodArgs,
  type MethodCallHandler,
  MethodChannel,
  type MethodMap,
} from "./src/channels/method_channel.ts";
export { OptionalMethodChannel } from "./src/channels/optional_method_channel.ts";
export { BasicMessageChannel } from "./src/channels/basic_message_channel.ts";
export {
  EventChannel,
  type EventSink,
  type StreamHandler,
} from "./src/channels/event_channel.ts";
export { ServicesBinding } from "./src/isolate/services_binding.ts";
export { BackgroundIsolateBinaryMessenger } from "./src/isolate/background_isolate_binary_messenger.ts";
export { RootIsolateToken } from "./src/isolate/root_isolate_token.ts";
export {
  Isolate,
  type IsolateRunOptions,
  type IsolateSpawnOptions,
} from "./src/isolate/isolate.ts";
export {
  type PortSubscription,
  ReceivePort,
} from "./src/isolate/receive_port.ts";
export { SendPort } from "./src/isolate/send_port.ts";
export { StateError } from "./src/isolate/state_error.ts";
export { ProtocolError } from "./src/isolate/protocol_error.ts";
export {
  RootIsolateTokenError,
  type TokenRejection,
} from "./src/isolate/root_isolate_token_error.ts";
export { IsolateExitedError } from "./src/isolate/isolate_exited_error.ts";
export { IsolateSpawnError } from "./src/isolate/isolate_spawn_error.ts";
export { RemoteError } from "./src/isolate/remote_error.ts";
export type { SerializedError } from "./src/isolate/protocol.ts";
export {
  type PreferenceChange,
  type PreferencesMethods,
  type PreferenceType,
  SharedPreferences,
} from "./src/plugins/shared_preferences.ts";
export { DataDirectoryError } from "./src/plugins/data_directory_error.ts";
export { PreferencesStoreError } from "./src/plugins/preferences_store_error.ts";
export { TimeoutError } from "./src/errors/timeout_error.ts";
export type { ExitReason } from "./src/isolate/exit_reason.ts";
export type {
  ChildDetails,
  Supervisable,
  SupervisorTreeNode,
} from "./src/actor/supervisable.ts";
export {
  Mailbox,
  type MailboxOptions,
  type OverflowPolicy,
} from "./src/actor/mailbox.ts";
export { MailboxFullError } from "./src/errors/mailbox_full_error.ts";
export {
  Actor,
  type ActorHandlers,
  type ActorMessage,
  type ActorOptions,
  type AskOptions,
} from "./src/actor/actor.ts";
export { ActorExitedError } from "./src/actor/actor_exited_error.ts";
export type {
  ChildSpec,
  RestartType,
  Shutdown,
} from "./src/actor/child_spec.ts";
export {
  type Strategy,
  Supervisor,
  type SupervisorEvent,
  type SupervisorOptions,
  type SupervisorTree,
} from "./src/actor/supervisor.ts";
export { SupervisorError } from "./src/actor/supervisor_error.ts";
// Places every isolate under Supervisor.root (the isolate layer cannot
// import the actor layer, so the actor layer fills in its hook).
import "./src/actor/_adopt_isolates.ts";
export {
  IsolatePool,
  type IsolatePoolOptions,
  type PoolRunOptions,
  type PoolTask,
} from "./src/actor/isolate_pool.ts";
export { PoolClosedError } from "./src/actor/pool_closed_error.ts";
export type {
  PoolTransport,
  TransportTask,
} from "./src/actor/pool_transport.ts";
export {
  type Affinity,
  type Placement,
  Plugin,
  type PluginCallTrace,
  type PluginContext,
  type PluginMethod,
  type PluginMethods,
  type PluginOptions,
} from "./src/plugins/plugin.ts";
// PathProvider and Terminal plugins
export {
  getApplicationCacheDirectory,
  getApplicationDocumentsDirectory,
  getApplicationSupportDirectory,
  getDownloadsDirectory,
  getTemporaryDirectory,
  PathProvider,
  type PathProviderMethods,
} from "./src/plugins/path_provider.ts";
export {
  Terminal,
  type TerminalMethods,
  type TerminalOutput,
  type TerminalProgress,
  type TerminalRestore,
} from "./src/plugins/terminal.ts";
// SQL database plugin
export {
  Batch,
  type BatchCommitOptions,
  type BatchResult,
  ConflictAlgorithm,
  Database,
  DatabaseExecutor,
  type DeleteOptions,
  getDatabasesPath,
  type InsertOptions,
  openDatabase,
  type OpenDatabaseOptions,
  type QueryOptions,
  type SqlBatchOperation,
  type SqlBatchOutcome,
  type SqlDatabaseMethods,
  type SqlRow,
  type SqlValue,
  Transaction,
  type TransactionOptions,
  type UpdateOptions,
} from "./src/plugins/sql_database.ts";
export {
  SqlDatabaseError,
  type SqlDatabaseErrorCode,
  type SqlDatabaseErrorOptions,
} from "./src/plugins/sql_database_error.ts";
